"""Signed checkpoints of the chain head (AUD-4): size + head hash, signed as a compact JWS."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from idgov.audit.models import AuditCheckpoint, AuditHead
from idgov.audit.verify import ChainReport
from idgov.clock import Clock, iso_utc
from idgov.counted import counted
from idgov.errors import KeyUnavailable
from idgov.keys.jws import JwsError, read_header, sign_compact, verify_compact
from idgov.keys.store import KeyStore

CHECKPOINT_TYP = "idgov-audit-checkpoint+jwt"


@dataclass(frozen=True)
class CheckpointClaim:
    """What an exported checkpoint asserts, once its signature has been checked."""

    size: int
    head_hash: str
    issued_at: str
    kid: str


class CheckpointService:
    def __init__(self, keys: KeyStore, clock: Clock, issuer: str) -> None:
        self._keys = keys
        self._clock = clock
        self._issuer = issuer

    def issue(self, session: Session) -> AuditCheckpoint:
        """Sign the current head. Refuses (KeyUnavailable) when no audit key exists."""
        key = self._keys.active(session, "audit")
        if key is None:
            raise KeyUnavailable("no audit signing key: run `idgov init` or `idgov keys rotate`")
        head = session.execute(select(AuditHead.seq, AuditHead.hash)).one()
        now = self._clock.now()
        payload = {
            "iss": self._issuer,
            "size": head.seq,
            "head_hash": head.hash,
            "issued_at": iso_utc(now),
        }
        header = {"alg": key.alg, "kid": key.kid, "typ": CHECKPOINT_TYP}
        token = sign_compact(header, payload, self._keys.private_key(key))
        checkpoint = AuditCheckpoint(
            size=head.seq, head_hash=head.hash, issued_at=now, kid=key.kid, token=token
        )
        session.add(checkpoint)
        session.flush()
        return checkpoint

    def issue_if_due(self, session: Session, interval: timedelta) -> AuditCheckpoint | None:
        """The scheduled job: a new checkpoint when the last is older than `interval`
        and the chain has grown since."""
        last = self.latest(session)
        head_seq = session.execute(select(AuditHead.seq)).scalar_one()
        if last is not None and (
            last.size == head_seq or self._clock.now() - last.issued_at < interval
        ):
            return None
        return self.issue(session)

    def latest(self, session: Session) -> AuditCheckpoint | None:
        return session.scalars(
            select(AuditCheckpoint).order_by(AuditCheckpoint.id.desc()).limit(1)
        ).first()

    def export_document(self, session: Session, checkpoint: AuditCheckpoint) -> dict[str, Any]:
        """A file an inspector keeps apart from the system; the JWK lets anyone check it."""
        return {
            "type": CHECKPOINT_TYP,
            "size": checkpoint.size,
            "head_hash": checkpoint.head_hash,
            "issued_at": iso_utc(checkpoint.issued_at),
            "kid": checkpoint.kid,
            "jwks": self._keys.jwks(session),
            "token": checkpoint.token,
        }

    def read_claim(self, session: Session, document: str) -> CheckpointClaim:
        """Check an exported checkpoint's signature against this installation's keys."""
        try:
            token = json.loads(document)["token"] if document.lstrip().startswith("{") else document
            kid = str(read_header(str(token).strip()).get("kid", ""))
        except (ValueError, KeyError, TypeError, JwsError) as exc:
            raise JwsError(f"not an idgov checkpoint: {exc}") from exc
        public = self._keys.public_key(session, kid)
        if public is None:
            raise JwsError(f"checkpoint key {kid!r} is not a key of this installation")
        payload = verify_compact(str(token).strip(), public)
        try:
            return CheckpointClaim(
                size=int(payload["size"]),
                head_hash=str(payload["head_hash"]),
                issued_at=str(payload["issued_at"]),
                kid=kid,
            )
        except (KeyError, ValueError) as exc:
            raise JwsError(f"checkpoint payload incomplete: {exc}") from exc


def compare_with_checkpoint(report: ChainReport, claim: CheckpointClaim) -> str | None:
    """None when the verified chain extends the checkpoint; otherwise what is wrong."""
    if claim.size > report.head_seq and report.ok:
        return (
            f"the checkpoint covers {counted(claim.size, 'event')} but the chain has only "
            f"{report.head_seq}: events were removed"
        )
    recorded = (report.hashes_at or {}).get(claim.size)
    if recorded is None:
        return f"the chain could not be read up to event {claim.size}"
    if recorded != claim.head_hash:
        return (
            f"the chain at event {claim.size} does not match the checkpoint issued "
            f"{claim.issued_at}: the trail was rewritten"
        )
    return None
