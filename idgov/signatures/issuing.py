"""Issue signatures: one JWS, one Signature row and one audit event per record (11.50, 11.70)."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from idgov.audit.context import Actor, Target
from idgov.audit.trail import AuditTrail
from idgov.clock import iso_utc
from idgov.errors import IdgovError
from idgov.keys.jws import PrivateKey
from idgov.keys.models import SigningKey
from idgov.policies.documents import Meaning
from idgov.signatures.merkle import merkle_root
from idgov.signatures.models import Signature
from idgov.signatures.tokens import (
    Authentication,
    BatchRef,
    FederatedEvidence,
    Manifestation,
    RecordRef,
    sign_token,
    signature_payload,
)

MAX_TARGET_ID = 200  # audit_events.target_id


@dataclass(frozen=True)
class Signer:
    identity_id: str
    username: str
    printed_name: str


@dataclass(frozen=True)
class FederatedProof:
    """A verified re-authentication at an OpenID provider (STEP-1): who, when and how."""

    identity_id: str
    username: str
    auth_time: datetime
    evidence: FederatedEvidence


@dataclass(frozen=True)
class HostRef:
    """The calling host client: `client_id` is the token audience, `name` picks meanings."""

    client_id: str
    name: str


@dataclass(frozen=True)
class IssuedSignature:
    id: str
    token: str
    manifestation: Manifestation
    record: RecordRef


@dataclass(frozen=True)
class SessionState:
    id: str
    seq: int
    expires_at: datetime


@dataclass(frozen=True)
class SigningOutcome:
    signatures: list[IssuedSignature]
    session: SessionState
    batch: BatchRef | None  # `index` unused here: the batch's id, size and Merkle root
    signer: Signer


@dataclass(frozen=True)
class SigningKeyPair:
    key: SigningKey
    private: PrivateKey


class SignatureIssuer:
    """Builds the tokens and rows inside the caller's transaction; the caller commits them
    with their audit events, or nothing (AUD-1: same transaction)."""

    def __init__(self, trail: AuditTrail, issuer: str) -> None:
        self._trail = trail
        self._issuer = issuer

    def issue(
        self,
        session: Session,
        *,
        signer: Signer,
        host: HostRef,
        meaning: Meaning,
        reason: str | None,
        records: list[RecordRef],
        authn: Authentication,
        signed_at: datetime,
        keys: SigningKeyPair,
        batched: bool,
    ) -> tuple[list[IssuedSignature], BatchRef | None]:
        # MAN-1: printed name, server time of signing (UTC) and the configured meaning.
        shown = Manifestation(
            signer.printed_name, signer.username, signed_at, meaning.code, meaning.statement, reason
        )
        batch = None
        if batched:
            root = merkle_root([record.digest.removeprefix("sha256:") for record in records])
            batch = BatchRef(str(uuid.uuid4()), 0, len(records), root)
        issued: list[IssuedSignature] = []
        rows: list[Signature] = []
        for index, record in enumerate(records):
            signature_id = str(uuid.uuid4())
            ref = (
                None if batch is None else BatchRef(batch.id, index, batch.size, batch.merkle_root)
            )
            payload = signature_payload(
                issuer=self._issuer,
                audience=host.client_id,
                signature_id=signature_id,
                subject=signer.identity_id,
                manifestation=shown,
                record=record,
                authn=authn,
                batch=ref,
            )
            token = sign_token(payload, keys.key.kid, keys.key.alg, keys.private)
            rows.append(_row(signature_id, signer, host, shown, record, authn, ref, keys, token))
            issued.append(IssuedSignature(signature_id, token, shown, record))
        session.add_all(rows)
        session.flush()
        actor = Actor("identity", signer.identity_id, signer.username)
        for row in rows:
            self._trail.record(
                session,
                "signature:record:signed",
                _target(row),
                new=_audited(row, host),
                reason=reason,
                actor=actor,
            )
        return issued, batch

    def record_refusal(
        self,
        session: Session,
        signer: Signer,
        host: HostRef,
        meaning: str,
        records: tuple[int, str, str, str],
        refused: IdgovError,
    ) -> None:
        """ACC-2: a refused signing, with why: `records` is the count and the first record's
        type, id and version."""
        count, kind, record_id, version = records
        self._trail.record(
            session,
            "signature:signing:refused",
            Target("identity", signer.identity_id),
            new={
                "refusal": refused.type_slug,
                "reasons": refused.extensions.get("reasons") or [refused.extensions.get("reason")],
                "client": {"client_id": host.client_id, "name": host.name},
                "meaning": meaning,
                "records": count,
                "first_record": {"type": kind, "id": record_id, "version": version},
            },
            actor=Actor("identity", signer.identity_id, signer.username),
        )


def _row(
    signature_id: str,
    signer: Signer,
    host: HostRef,
    shown: Manifestation,
    record: RecordRef,
    authn: Authentication,
    batch: BatchRef | None,
    keys: SigningKeyPair,
    token: str,
) -> Signature:
    return Signature(
        id=signature_id,
        identity_id=signer.identity_id,
        client_id=host.client_id,
        printed_name=shown.printed_name,
        username=shown.username,
        signed_at=shown.signed_at,
        meaning=shown.meaning,
        statement=shown.statement,
        reason=shown.reason,
        record_type=record.type,
        record_id=record.id,
        record_version=record.version,
        record_digest=record.digest,
        record_title=record.title,
        signing_session_id=authn.signing_session,
        session_seq=authn.seq,
        components=" ".join(authn.components),
        batch_id=batch.id if batch else None,
        batch_index=batch.index if batch else None,
        merkle_root=batch.merkle_root if batch else None,
        kid=keys.key.kid,
        token=token,
    )


def _target(row: Signature) -> Target:
    key = f"{row.record_type}:{row.record_id}:{row.record_version}"
    if len(key) > MAX_TARGET_ID:
        # The full record is in the event's values; the target stays a stable, bounded key.
        key = "sha256:" + hashlib.sha256(key.encode("utf-8")).hexdigest()
    return Target("record", key)


def _audited(row: Signature, host: HostRef) -> dict[str, Any]:
    """AUD-1: the manifest, what was signed, and by which host."""
    return {
        "signature_id": row.id,
        "manifest": {
            "printed_name": row.printed_name,
            "username": row.username,
            "signed_at": iso_utc(row.signed_at),
            "meaning": row.meaning,
            "statement": row.statement,
            "reason": row.reason,
        },
        "record": {
            "type": row.record_type,
            "id": row.record_id,
            "version": row.record_version,
            "digest": row.record_digest,
            "title": row.record_title,
        },
        "identity_id": row.identity_id,
        "client": {"client_id": host.client_id, "name": host.name},
        "signing_session": {"id": row.signing_session_id, "seq": row.session_seq},
        "components": row.components.split(),
        "batch": None
        if row.batch_id is None
        else {"id": row.batch_id, "index": row.batch_index, "merkle_root": row.merkle_root},
        "kid": row.kid,
    }
