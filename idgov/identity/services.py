"""IdentityService: create people, move them through their states, verify and certify them."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from idgov.audit.context import Target
from idgov.audit.models import AuditEvent
from idgov.audit.trail import AuditTrail
from idgov.clock import Clock
from idgov.errors import Conflict, Forbidden, InvalidRequest, NotFound
from idgov.identity.continuity import (
    active_administrators,
    refuse_role_loss,
    refuse_status_change,
)
from idgov.identity.creation import (
    NewIdentity,
    created_values,
    identity_values,
    required_text,
    validated_person,
)
from idgov.identity.ledger import SUBJECT, USERNAME, IdentifierLedger
from idgov.identity.models import (
    Identity,
    IdentityRole,
    IdentityStatus,
    IdentityVerification,
    Role,
    SignatureCertification,
)
from idgov.identity.pending import ENROLLING_ACTIONS
from idgov.ids import plausible_id
from idgov.sessions.interfaces import SessionRevoker

S = IdentityStatus
# Who may move an identity from one state to another; everything else is refused (SEQ-1 spirit).
TRANSITIONS: dict[str, set[str]] = {
    S.PENDING_VERIFICATION: {S.ACTIVE, S.SUSPENDED, S.DEACTIVATED},
    S.ACTIVE: {S.LOCKED, S.SUSPENDED, S.DEACTIVATED},
    S.LOCKED: {S.ACTIVE, S.PENDING_VERIFICATION, S.SUSPENDED, S.DEACTIVATED},
    S.SUSPENDED: {S.ACTIVE, S.PENDING_VERIFICATION, S.DEACTIVATED},
    S.DEACTIVATED: {S.PENDING_VERIFICATION},  # only through rehire
}
VERIFIER_ROLES = {Role.ADMIN, Role.SECURITY_OFFICER}
ENDS_SESSIONS = {S.LOCKED, S.SUSPENDED, S.DEACTIVATED}


class IdentityService:
    def __init__(
        self,
        clock: Clock,
        trail: AuditTrail,
        ledger: IdentifierLedger,
        revoker: SessionRevoker | None = None,
    ) -> None:
        self._clock = clock
        self._trail = trail
        self._ledger = ledger
        self._revoker = revoker

    def get(self, session: Session, identity_id: str) -> Identity:
        # Ids are UUIDs: anything else (a NUL, which PostgreSQL refuses in text) is found
        # nowhere and never reaches the database.
        if not plausible_id(identity_id):
            raise NotFound(f"no identity {identity_id[:64]!r}")
        found = session.get(Identity, identity_id)
        if found is None:
            raise NotFound(f"no identity {identity_id!r}")
        return found

    def by_username(self, session: Session, username: str) -> Identity | None:
        return session.scalar(select(Identity).where(Identity.username == username))

    def create(self, session: Session, new: NewIdentity, reason: str | None = None) -> Identity:
        """A new person in state pending_verification. A username or subject that belongs to
        anyone else, even a deactivated identity, is refused and alerted (UNQ-1)."""
        username, printed_name, email = validated_person(new.username, new.printed_name, new.email)
        roles = _roles(new.roles)
        claimant = f"new identity '{printed_name}'"
        self._ledger.refuse_if_taken(session, USERNAME, "", username, claimant)
        if new.subject:
            self._ledger.refuse_if_taken(session, SUBJECT, new.provider, new.subject, claimant)
        if new.manager_id is not None:
            self.get(session, new.manager_id)
        identity = Identity(
            **identity_values(
                username, printed_name, email, new.provider, new.manager_id, self._clock.now()
            )
        )
        session.add(identity)
        session.flush()
        session.add_all(IdentityRole(identity_id=identity.id, role=role) for role in roles)
        self._trail.record(
            session,
            "identity:identity:created",
            Target("identity", identity.id),
            new=created_values(identity, sorted(roles)),
            reason=reason,
        )
        self._ledger.bind(session, USERNAME, "", username, identity)
        if new.subject:
            self._ledger.bind(session, SUBJECT, new.provider, new.subject, identity)
        return identity

    def refuse_if_administered(self, session: Session, username: str) -> None:
        """`idgov init --admin-username`: allowed while no administrator is active (people a
        directory sync created are no administrators); once one is, the refusal is audited
        (identity:first-admin:refused) and raised as a recorded Conflict."""
        active = active_administrators(session)
        if active == 0:
            return
        self._trail.record(
            session,
            "identity:first-admin:refused",
            Target("username", username[:64]),
            new={"active_administrators": active},
            reason="an active administrator exists",
        )
        raise Conflict(
            "an active administrator exists: the first administrator is created once; ask an "
            "administrator to create the person and someone else to verify them",
            recorded=True,
        )

    def roles(self, session: Session, identity_id: str) -> set[str]:
        return set(
            session.scalars(
                select(IdentityRole.role).where(IdentityRole.identity_id == identity_id)
            )
        )

    def set_roles(
        self, session: Session, identity: Identity, roles: Iterable[str], reason: str
    ) -> None:
        wanted, before = _roles(roles), self.roles(session, identity.id)
        if wanted == before:
            return
        refuse_role_loss(session, identity, before, wanted)
        session.execute(delete(IdentityRole).where(IdentityRole.identity_id == identity.id))
        session.add_all(IdentityRole(identity_id=identity.id, role=role) for role in wanted)
        self._trail.record(
            session,
            "identity:roles:changed",
            Target("identity", identity.id),
            old={"roles": sorted(before)},
            new={"roles": sorted(wanted)},
            reason=_reason(reason),
        )

    def set_manager(
        self, session: Session, identity: Identity, manager_id: str | None, reason: str
    ) -> None:
        """Refuses a manager loop (A manages B manages A) and self-management."""
        seen = {identity.id}
        cursor = manager_id
        while cursor is not None:
            if cursor in seen:
                raise InvalidRequest("that manager would create a management loop", field="manager")
            seen.add(cursor)
            cursor = self.get(session, cursor).manager_id
        old = identity.manager_id
        identity.manager_id = manager_id
        self._trail.record(
            session,
            "identity:manager:changed",
            Target("identity", identity.id),
            old={"manager_id": old},
            new={"manager_id": manager_id},
            reason=_reason(reason),
        )

    def change_status(
        self,
        session: Session,
        identity: Identity,
        status: str,
        reason: str,
        actor: Identity | None = None,
    ) -> None:
        """An administrator's status change (API and command line): refused with 409 for a
        locked person (only the unlock releases a lock, LOCK-2), for yourself, and for the
        last active administrator or security officer (see identity/continuity.py)."""
        refuse_status_change(session, identity, status, actor)
        self.transition(session, identity, status, reason)

    def transition(self, session: Session, identity: Identity, status: str, reason: str) -> None:
        """Move to `status` if the state machine allows it; audited with who and why."""
        if status not in TRANSITIONS.get(identity.status, set()):
            raise Conflict(
                f"an identity cannot go from {identity.status} to {status}", field="status"
            )
        if status == S.ACTIVE and not self.is_verified(session, identity):
            # IDV-1: only a recorded identity verification makes an identity active; no status
            # change (reactivation, unlock) can skip it.
            raise Conflict("record the identity verification first (IDV-1)", field="status")
        old = identity.status
        identity.status = status
        identity.status_changed_at = self._clock.now()
        if status != S.LOCKED:
            identity.locked_at = None
        self._trail.record(
            session,
            f"identity:status:{status.replace('_', '-')}",
            Target("identity", identity.id),
            old={"status": old},
            new={"status": status},
            reason=_reason(reason),
        )
        if status in ENDS_SESSIONS and self._revoker is not None:
            # ACC-3: a locked, suspended or deactivated person is signed out everywhere.
            self._revoker.revoke_all(session, identity.id, status)

    def rehire(
        self,
        session: Session,
        identity: Identity,
        reason: str,
        provider: str | None = None,
        subject: str | None = None,
    ) -> None:
        """A returning person gets their own identity back (never a new one); identity
        verification is needed again before they may sign."""
        if identity.status != S.DEACTIVATED:
            raise Conflict("only a deactivated identity can be rehired", field="status")
        if subject:
            self._ledger.bind(session, SUBJECT, provider or identity.provider, subject, identity)
        self.transition(session, identity, S.PENDING_VERIFICATION, reason)

    def record_verification(
        self,
        session: Session,
        identity: Identity,
        verifier: Identity,
        evidence_type: str,
        evidence_reference: str | None = None,
        note: str | None = None,
    ) -> IdentityVerification:
        """IDV-1: someone other than the person, an admin or security officer, vouches for
        who they are. A pending identity becomes active."""
        if verifier.id == identity.id:
            raise Forbidden("nobody may verify their own identity (11.100(b))")
        if verifier.id in self._enrolled_by(session, identity):
            # 11.200(a)(3): whoever created (or rehired) a person is not also the one who
            # vouches for them, so no single administrator makes someone able to sign.
            raise Forbidden(
                "the person who created or rehired this identity cannot also verify it: ask "
                "another administrator or security officer (IDV-1)"
            )
        if not self.roles(session, verifier.id) & VERIFIER_ROLES:
            raise Forbidden("identity verification needs an admin or a security officer")
        record = IdentityVerification(
            identity_id=identity.id,
            verified_by=verifier.id,
            verified_at=self._clock.now(),
            evidence_type=required_text(evidence_type, "evidence_type", 64),
            evidence_reference=evidence_reference,
            note=note,
        )
        session.add(record)
        self._trail.record(
            session,
            "identity:verification:recorded",
            Target("identity", identity.id),
            new={
                "verified_by": verifier.id,
                "evidence_type": record.evidence_type,
                "evidence_reference": evidence_reference,
            },
            reason=note,
        )
        if identity.status == S.PENDING_VERIFICATION:
            self.transition(session, identity, S.ACTIVE, "identity verified")
        return record

    def certify(
        self,
        session: Session,
        identity: Identity,
        statement: str,
        method: str,
        source_address: str | None,
    ) -> SignatureCertification:
        """TRN-1: the person acknowledges that their e-signature binds like a handwritten one."""
        record = SignatureCertification(
            identity_id=identity.id,
            certified_at=self._clock.now(),
            statement=statement,
            method=method,
            source_address=source_address,
        )
        session.add(record)
        self._trail.record(
            session,
            "identity:certification:recorded",
            Target("identity", identity.id),
            new={"statement": statement, "method": method},
        )
        return record

    def is_verified(self, session: Session, identity: Identity) -> bool:
        """A verification recorded since the identity last (re)entered pending verification:
        a rehired person is verified again before it counts (IDV-1). The audit trail orders
        the two, even within one instant."""
        verified = self._last_event(session, identity, "identity:verification:recorded")
        reset = self._last_event(session, identity, "identity:status:pending-verification")
        return verified is not None and (reset is None or verified > reset)

    def settled_status(self, session: Session, identity: Identity) -> str:
        """Where an identity returns to after a lock or suspension: active if verified."""
        return S.ACTIVE if self.is_verified(session, identity) else S.PENDING_VERIFICATION

    def _enrolled_by(self, session: Session, identity: Identity) -> set[str]:
        """The people who created the identity or sent it back to pending verification."""
        return set(
            session.scalars(
                select(AuditEvent.actor_id).where(
                    AuditEvent.target_type == "identity",
                    AuditEvent.target_id == identity.id,
                    AuditEvent.actor_type == "identity",
                    AuditEvent.action.in_(ENROLLING_ACTIONS),
                )
            )
        )

    def _last_event(self, session: Session, identity: Identity, action: str) -> int | None:
        return session.scalar(
            select(func.max(AuditEvent.seq)).where(
                AuditEvent.target_type == "identity",
                AuditEvent.target_id == identity.id,
                AuditEvent.action == action,
            )
        )

    def is_certified(self, session: Session, identity: Identity) -> bool:
        found = session.scalars(
            select(SignatureCertification.id)
            .where(SignatureCertification.identity_id == identity.id)
            .limit(1)
        ).first()
        return found is not None


def _roles(roles: Iterable[str]) -> set[str]:
    wanted = set(roles)
    unknown = wanted - {role.value for role in Role}
    if unknown:
        raise InvalidRequest(f"unknown roles: {', '.join(sorted(unknown))}", field="roles")
    return wanted


def _reason(reason: str) -> str:
    if not reason or not reason.strip():
        raise InvalidRequest("a reason is required", field="reason")
    return reason.strip()
