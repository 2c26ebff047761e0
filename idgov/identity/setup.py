"""Password resets that no single person can use (CMP-2, 11.200(a)(3)): the reset stops the
old password and issues a single-use, short-lived set-password link that reaches only the
owner: by e-mail (default), or through a second administrator who retrieves it once."""

from __future__ import annotations

import hmac
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from idgov.audit.context import Target
from idgov.audit.trail import AuditTrail
from idgov.clock import Clock, iso_utc
from idgov.errors import Conflict, Forbidden, InvalidRequest, NotFound
from idgov.identity.models import Identity, IdentityRole, IdentityStatus, PasswordSetup, Role
from idgov.identity.notices import CredentialNotices
from idgov.identity.setup_links import SETUP_KIND, SetupLinks, setup_id_of, token_digest
from idgov.policies.documents import PasswordPolicy
from idgov.policies.store import PolicyStore
from idgov.providers.local import LocalPasswords

RESET_ROLES = {Role.ADMIN, Role.SECURITY_OFFICER}
CLOSED = {IdentityStatus.SUSPENDED, IdentityStatus.DEACTIVATED}
INVALID_LINK = "this set-password link is not valid: it was used, replaced or has expired"


@dataclass(frozen=True)
class IssuedReset:
    """What the resetting administrator learns: how the link travels and until when; never
    the link or a password."""

    delivery: Literal["email", "handover"]
    expires_at: datetime
    sent_to: str | None


class PasswordSetups:
    def __init__(
        self,
        clock: Clock,
        trail: AuditTrail,
        policies: PolicyStore,
        passwords: LocalPasswords,
        notices: CredentialNotices,
        links: SetupLinks,
    ) -> None:
        self._clock = clock
        self._trail = trail
        self._policies = policies
        self._passwords = passwords
        self._notices = notices
        self._links = links

    def reset(
        self, session: Session, identity: Identity, admin: Identity, reason: str
    ) -> IssuedReset:
        """CMP-2: the old password stops at once (sessions end), and a set-password link goes
        to the owner (delivery "email") or waits for a second person ("handover"). Nobody
        resets their own password; an owner without an e-mail address gets 409 in e-mail mode.
        The owner is told in both modes."""
        if admin.id == identity.id:
            raise Forbidden("nobody may reset their own password (CMP-2)")
        if not reason or not reason.strip():
            raise InvalidRequest("a reason is required for a password reset", field="reason")
        if not _roles(session, admin) & RESET_ROLES:
            raise Forbidden("password resets need an admin or a security officer")
        policy = self._policies.current(session, PasswordPolicy)
        if policy.reset_delivery == "email" and not identity.email.strip():
            raise Conflict(
                "this person has no e-mail address for the set-password link: record one, or "
                "set the password policy's reset_delivery to handover (a second administrator "
                "hands the link over)",
                field="email",
            )
        self._passwords.lapse(session, identity)
        self._end_open(session, identity, "replaced")
        now = self._clock.now()
        setup = PasswordSetup(
            id=str(uuid.uuid4()),
            identity_id=identity.id,
            delivery=policy.reset_delivery,
            issued_by=admin.id,
            issued_at=now,
            expires_at=now + timedelta(minutes=policy.reset_link_minutes),
        )
        setup.token_hash = token_digest(self._links.token(setup.id))
        session.add(setup)
        self._trail.record(
            session,
            "credential:password:reset",
            Target("identity", identity.id),
            new={
                "delivery": setup.delivery,
                "link_expires_at": iso_utc(setup.expires_at),
                "reset_by": admin.id,
                "setup_id": setup.id,
            },
            reason=reason.strip(),
        )
        self._tell_owner(session, identity, admin, setup)
        sent_to = identity.email if policy.reset_delivery == "email" else None
        return IssuedReset(policy.reset_delivery, setup.expires_at, sent_to)

    def hand_over(self, session: Session, identity: Identity, courier: Identity) -> str:
        """Handover mode: the link, once, to a second administrator or security officer who
        neither reset the password nor owns it; they give it to the owner in person."""
        if not _roles(session, courier) & RESET_ROLES:
            raise Forbidden("handing over a set-password link needs an admin or security officer")
        setup = session.scalars(
            select(PasswordSetup)
            .where(
                PasswordSetup.identity_id == identity.id,
                PasswordSetup.ended.is_(None),
                PasswordSetup.delivery == "handover",
            )
            .with_for_update()
        ).first()
        if setup is None or setup.expires_at <= self._clock.now():
            raise NotFound("no set-password link waits to be handed over for this person")
        if courier.id in (setup.issued_by, identity.id):
            raise Forbidden(
                "the link is handed over by a second person: neither the one who reset the "
                "password nor its owner (11.200(a)(3))"
            )
        if setup.handed_over_at is not None:
            raise Conflict("this set-password link was handed over already: reset again")
        setup.handed_over_by, setup.handed_over_at = courier.id, self._clock.now()
        self._trail.record(
            session,
            "credential:password-setup:handed-over",
            Target("identity", identity.id),
            new={"setup_id": setup.id, "handed_over_by": courier.id},
        )
        return self._links.url(setup.id)

    def open(self, session: Session, token: str) -> Identity:
        """The person a set-password token is for, or NotFound (the same for every reason)."""
        return self._valid(session, token, lock=False)[1]

    def complete(self, session: Session, token: str, new_password: object) -> Identity:
        """The owner chooses their password through the link: quality and history rules apply
        (PWD-2, PWD-4); the link is used up, and the owner is told."""
        setup, identity = self._valid(session, token, lock=True)
        self._passwords.set_by_owner(session, identity, new_password)
        setup.used_at, setup.ended = self._clock.now(), "used"
        self._trail.record(
            session,
            "credential:password-setup:used",
            Target("identity", identity.id),
            new={"setup_id": setup.id},
        )
        self._notices.tell(
            session,
            identity,
            "Your idgov password was set",
            {"what": "A new password was chosen through your set-password link."},
        )
        return identity

    def _valid(self, session: Session, token: str, *, lock: bool) -> tuple[PasswordSetup, Identity]:
        setup_id = setup_id_of(token)
        query = select(PasswordSetup).where(PasswordSetup.id == setup_id)
        setup = session.scalars(query.with_for_update() if lock else query).first()
        if (
            setup is None
            or not hmac.compare_digest(setup.token_hash, token_digest(token))
            or setup.ended is not None
            or setup.expires_at <= self._clock.now()
            or (setup.delivery == "handover" and setup.handed_over_at is None)
        ):
            raise NotFound(INVALID_LINK)
        identity = session.get_one(Identity, setup.identity_id)
        if identity.status in CLOSED:
            raise NotFound(INVALID_LINK)
        return setup, identity

    def _end_open(self, session: Session, identity: Identity, why: str) -> None:
        session.execute(
            update(PasswordSetup)
            .where(PasswordSetup.identity_id == identity.id, PasswordSetup.ended.is_(None))
            .values(ended=why)
        )

    def _tell_owner(
        self, session: Session, identity: Identity, admin: Identity, setup: PasswordSetup
    ) -> None:
        minutes = int((setup.expires_at - setup.issued_at).total_seconds() // 60)
        details = {
            "what": f"{admin.printed_name} reset your idgov password; the old one no longer works.",
            "link_expires_at": iso_utc(setup.expires_at),
        }
        if setup.delivery == "email":
            self._notices.tell(
                session,
                identity,
                "Set your idgov password",
                {**details, "setup_id": setup.id},
                kind=SETUP_KIND,
                next_steps=[
                    f"Open the link below within {minutes} minutes and choose a new password. "
                    "It works once; nobody else has it."
                ],
            )
            return
        self._notices.tell(
            session,
            identity,
            "Your idgov password was reset",
            details,
            next_steps=[
                "A second administrator or security officer will hand you a set-password link "
                f"in person; it works once, for {minutes} minutes."
            ],
        )


def _roles(session: Session, identity: Identity) -> set[str]:
    return set(
        session.scalars(select(IdentityRole.role).where(IdentityRole.identity_id == identity.id))
    )
