"""PersonReader: everything the console shows about one person, read in one transaction."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from idgov.clock import Clock
from idgov.entitlements.reads import EntitlementReader, Holding
from idgov.identity.dossier import activity, credentials, standing
from idgov.identity.models import IdentifierBinding, Identity, SignatureCertification
from idgov.identity.services import IdentityService
from idgov.identity.sources import provider_of
from idgov.providers.directory.models import DirectoryAccount
from idgov.sessions.models import WebSession
from idgov.sessions.services import SessionService
from idgov.signatures.models import SigningSession
from idgov.signatures.sessions import open_signing_sessions
from idgov.tokens.models import LossCase


@dataclass(frozen=True)
class PersonRecord:
    person: Identity
    roles: list[str]
    manager: Identity | None
    reports: list[Identity]
    verified: bool  # IDV-1: a verification recorded since the last (re)entry to pending
    verifications: list[standing.Verification]
    certifications: list[SignatureCertification]
    history: list[standing.StatusChange]
    identifiers: list[IdentifierBinding]
    directory_accounts: list[DirectoryAccount]
    oidc_provider: str | None
    password: credentials.PasswordState
    tokens: list[credentials.TokenRecord]
    loss_cases: list[LossCase]
    web_sessions: list[WebSession]
    signing_sessions: list[SigningSession]
    entitlements: list[Holding]
    signatures: activity.SignatureSummary
    audit: activity.AuditSummary


class PersonReader:
    """Reads only; every section through the query of the package that owns it."""

    def __init__(self, clock: Clock, identities: IdentityService, web: SessionService) -> None:
        self._clock = clock
        self._identities = identities
        self._web = web

    def read(self, session: Session, identity_id: str) -> PersonRecord:
        """The person's record; NotFound (404) for an unknown or malformed id."""
        person = self._identities.get(session, identity_id)
        now = self._clock.now()
        manager = self._identities.get(session, person.manager_id) if person.manager_id else None
        return PersonRecord(
            person=person,
            roles=sorted(self._identities.roles(session, person.id)),
            manager=manager,
            reports=standing.reports_of(session, person.id),
            verified=self._identities.is_verified(session, person),
            verifications=standing.verifications(session, person.id),
            certifications=standing.certifications(session, person.id),
            history=standing.status_history(session, person.id),
            identifiers=standing.identifiers(session, person.id),
            directory_accounts=standing.directory_accounts(session, person.id),
            oidc_provider=provider_of(person),
            password=credentials.password_state(session, person.id, now),
            tokens=credentials.tokens_of(session, person.id, now),
            loss_cases=credentials.loss_cases(session, person.id),
            web_sessions=self._web.live(session, person.id),
            signing_sessions=open_signing_sessions(session, person.id, now),
            entitlements=EntitlementReader().of_identity(session, person.id),
            signatures=activity.signatures_of(session, person.id),
            audit=activity.audit_of(session, person.id),
        )
