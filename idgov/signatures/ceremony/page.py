"""What the ceremony page shows: the records, the meaning, who signs and what they must type."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from idgov.clients.models import HostClient
from idgov.identity.certification import statement_for
from idgov.identity.models import Identity
from idgov.identity.services import IdentityService
from idgov.identity.sources import provider_of
from idgov.policies.documents import SigningPolicy
from idgov.policies.store import PolicyStore
from idgov.signatures.ceremony.models import SigningRequest
from idgov.signatures.services import SignatureService

# 11.100(c), 11.50: shown when the signer is not known before they type their username.
GENERIC_STATEMENT = (
    "Your electronic signature is the legally binding equivalent of your traditional "
    "handwritten signature (21 CFR 11.100(c)). It is recorded with your printed name, the date "
    "and time of signing (UTC) and its meaning (21 CFR 11.50), and bound to the records above "
    "by their SHA-256 digests (21 CFR 11.70)."
)


@dataclass(frozen=True)
class ShownRecord:
    type: str
    id: str
    version: str
    digest: str
    title: str | None


@dataclass(frozen=True)
class CeremonyPage:
    """Everything the page shows before the person types a password (11.50, 11.200)."""

    id: str
    status: str
    host: str
    meaning: str
    statement: str  # the meaning's statement, printed with the signature (MAN-1)
    reason: str | None
    records: list[ShownRecord]
    expires_at: datetime
    username: str | None  # fixed when the host named the signer
    username_fixed: bool
    printed_name: str | None
    certification: str  # what the signature means in law
    needs_otp: bool
    needs_temporary: bool
    provider: str | None = None  # an OpenID provider's name: "Continue at ..." (STEP-1)
    provider_shown: str | None = None


class CeremonyPages:
    """Reads what the ceremony page needs; writes nothing."""

    def __init__(
        self,
        policies: PolicyStore,
        identities: IdentityService,
        signatures: SignatureService,
        provider_names: Mapping[str, str] | None = None,
    ) -> None:
        self._policies = policies
        self._identities = identities
        self._signatures = signatures
        self._provider_names = dict(provider_names or {})

    def build(
        self, session: Session, row: SigningRequest, signed_in: Identity | None
    ) -> CeremonyPage:
        """The page for `row`; `signed_in` is the person signed in to idgov in this browser,
        whose username is offered when the host named nobody."""
        client = session.get(HostClient, row.client_id)
        policy = self._policies.current(session, SigningPolicy)
        statements = {meaning.code: meaning.statement for meaning in policy.meanings}
        signer = self.signer(session, row, signed_in)
        provider = provider_of(signer) if signer else None
        needs_otp, needs_temporary = (
            self._signatures.signing_inputs(session, signer.id) if signer else (False, False)
        )
        return CeremonyPage(
            id=row.id,
            status=row.status,
            host=client.name if client else row.client_id,
            meaning=row.meaning,
            statement=statements.get(row.meaning, ""),
            reason=row.reason,
            records=[_shown(record) for record in json.loads(row.records)],
            expires_at=row.expires_at,
            username=row.signer or (signer.username if signer else None),
            username_fixed=row.signer is not None,
            printed_name=signer.printed_name if signer else None,
            certification=statement_for(signer.printed_name) if signer else GENERIC_STATEMENT,
            needs_otp=needs_otp,
            needs_temporary=needs_temporary,
            provider=provider,
            provider_shown=self._provider_names.get(provider, provider) if provider else None,
        )

    def signer(
        self, session: Session, row: SigningRequest, signed_in: Identity | None
    ) -> Identity | None:
        """Who signs: the person the host named, else the person signed in to idgov here."""
        if row.signer is None:
            return signed_in
        if signed_in is not None and signed_in.username == row.signer:
            return signed_in
        return self._identities.by_username(session, row.signer)


def _shown(record: dict[str, str]) -> ShownRecord:
    return ShownRecord(
        type=record["type"],
        id=record["id"],
        version=record["version"],
        digest=record["digest"],
        title=record.get("title"),
    )
