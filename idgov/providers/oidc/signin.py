"""FederatedSignIn: a person who signed in at an OpenID provider becomes (or is) an identity,
under the same rules as every other source: bound by (issuer, sub) forever, never by e-mail
(UNQ-1); pending verification when new (IDV-1); refused when locked or inactive (LOCK-2)."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from idgov.audit.context import Target
from idgov.audit.trail import AuditTrail
from idgov.clock import Clock, iso_utc
from idgov.db import transaction
from idgov.errors import Conflict, IdentifierReused, InvalidRequest
from idgov.identity.creation import NewIdentity
from idgov.identity.ledger import SUBJECT, IdentifierLedger
from idgov.identity.lockout import LockoutService
from idgov.identity.models import Identity, IdentityStatus
from idgov.identity.services import IdentityService
from idgov.identity.sources import PROVIDER_PREFIX
from idgov.providers.oidc.claims import TokenRefused, VerifiedLogin, check_claims
from idgov.providers.oidc.federation import OidcFederation, Returned
from idgov.providers.oidc.groups import ClaimedGroups, claimed_groups
from idgov.providers.oidc.refusals import record_refusal, refuse


class FederatedSignIn:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        clock: Clock,
        trail: AuditTrail,
        identities: IdentityService,
        ledger: IdentifierLedger,
        lockout: LockoutService,
        federation: OidcFederation,
    ) -> None:
        self._session_factory = session_factory
        self._clock = clock
        self._trail = trail
        self._groups = ClaimedGroups(trail)
        self._identities = identities
        self._ledger = ledger
        self._lockout = lockout
        self._federation = federation

    def identity_for(self, returned: Returned, source: str | None) -> str:
        """The id of the identity this verified sign-in belongs to (created pending
        verification on a first sign-in when the provider provisions). Every refusal is
        audited with its reason (FederatedRefusal 401, Locked 423)."""
        provider = returned.client.name
        try:
            login = check_claims(returned.claims, self._federation.expectation(returned))
        except TokenRefused as refused:
            with transaction(self._session_factory) as session:
                record_refusal(self._trail, session, "login", None, provider, refused, source)
        with transaction(self._session_factory) as session:
            identity = self._bound(session, returned, login, source)
            if identity.status == IdentityStatus.LOCKED:
                self._lockout.count_attempt_while_locked(session, identity, source)
                refuse(self._trail, session, "login", identity, provider, "locked", source)
            if identity.status not in (IdentityStatus.ACTIVE, IdentityStatus.PENDING_VERIFICATION):
                refuse(self._trail, session, "login", identity, provider, "inactive", source)
            self._lockout.reset(session, identity)
            claim = returned.client.settings.groups_claim
            groups = claimed_groups(login.claims.get(claim)) if claim else None
            if groups is not None:
                now = self._clock.now()
                self._groups.apply(session, provider, identity, login.subject, groups, now)
            self._trail.record(
                session,
                "auth:login:succeeded",
                Target("identity", identity.id),
                new={"method": "oidc", **evidence(provider, login), "source_address": source},
            )
            return identity.id

    def link(
        self, session: Session, identity: Identity, provider: str, subject: str, reason: str
    ) -> None:
        """An administrator links an existing person to their subject at a provider (for
        provisioning "existing", or to move a local person to the provider). UNQ-1: a subject
        that belongs to someone else is refused and alerted; a person bound to another subject
        at this issuer keeps it (Conflict)."""
        issuer = self._federation.client(provider).issuer
        if not subject or len(subject) > 255:
            raise InvalidRequest("the subject must be 1 to 255 characters", field="subject")
        bound = self._ledger.value_of(session, SUBJECT, issuer, identity.id)
        if bound is not None and bound != subject:
            raise Conflict(
                f"{identity.username} is bound to another subject at {provider}: subjects are "
                "never reassigned",
                field="subject",
            )
        self._ledger.bind(session, SUBJECT, issuer, subject, identity)
        before, identity.provider = identity.provider, PROVIDER_PREFIX + provider
        self._trail.record(
            session,
            "identity:identity:linked",
            Target("identity", identity.id),
            old={"provider": before},
            new={"provider": identity.provider, "issuer": issuer, "subject": subject},
            reason=reason,
        )

    def _bound(
        self, session: Session, returned: Returned, login: VerifiedLogin, source: str | None
    ) -> Identity:
        """The identity bound to (issuer, sub); a new one when the provider provisions."""
        provider, settings = returned.client.name, returned.client.settings
        owner = self._ledger.owner(session, SUBJECT, login.issuer, login.subject)
        if owner is not None:
            return self._identities.get(session, owner)
        if settings.provisioning == "existing":
            refuse(self._trail, session, "login", None, provider, "not-linked", source, login)
        claims = login.claims
        try:
            identity = self._identities.create(
                session,
                NewIdentity(
                    username=claims.get(settings.username_claim),  # type: ignore[arg-type]
                    printed_name=claims.get(settings.name_claim),  # type: ignore[arg-type]
                    email=claims.get(settings.email_claim),  # type: ignore[arg-type]
                    provider=PROVIDER_PREFIX + provider,
                ),
                reason=f"first sign-in through the OpenID provider {provider}",
            )
        except IdentifierReused:
            # UNQ-1: the username claim belongs to another person (another subject); the
            # refusal and its alert are recorded by the ledger, this failure with them.
            refuse(
                self._trail, session, "login", None, provider, "identifier-reused", source, login
            )
        except InvalidRequest as bad:
            field = bad.extensions.get("field")
            refuse(self._trail, session, "login", None, provider, f"bad-claim-{field}", source)
        self._ledger.bind(session, SUBJECT, login.issuer, login.subject, identity)
        return identity


def evidence(provider: str, login: VerifiedLogin) -> dict[str, object]:
    """What the audit trail keeps of a provider sign-in (never the token itself)."""
    return {
        "provider": provider,
        "issuer": login.issuer,
        "subject": login.subject,
        "auth_time": iso_utc(login.auth_time) if login.auth_time else None,
        "acr": login.acr,
        "amr": list(login.amr),
    }
