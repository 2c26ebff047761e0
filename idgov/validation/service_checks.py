"""IQ of the running service: signing keys present and published (LNK-2), /readyz, and the
audit chain verified against the last signed checkpoint (AUD-3, AUD-4)."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from idgov.audit.checkpoints import CheckpointService, compare_with_checkpoint
from idgov.audit.verify import ChainVerifier
from idgov.counted import counted
from idgov.db import reading
from idgov.keys.jws import JwsError
from idgov.keys.store import PURPOSES, KeyStore
from idgov.validation.checks import Check
from idgov.validation.interfaces import HttpProbe

JWKS_PATH = "/.well-known/jwks.json"


def key_checks(sessions: sessionmaker[Session], keys: KeyStore, probe: HttpProbe) -> list[Check]:
    status, jwks = probe.get(JWKS_PATH)
    published = (
        {str(entry.get("kid")) for entry in jwks.get("keys", [])} if status == 200 else set()
    )
    found: list[Check] = []
    with reading(sessions) as session:
        for purpose in PURPOSES:
            key = keys.active(session, purpose)
            observed = (
                "none: run `idgov init` or `idgov keys rotate`"
                if key is None
                else f"{key.alg} key {key.kid}, "
                + ("published" if key.kid in published else f"NOT published at {JWKS_PATH}")
            )
            found.append(
                Check(
                    f"IQ-KEY-{purpose.upper()}",
                    f"Active {purpose} signing key, published at {JWKS_PATH} (LNK-2)",
                    "an active key whose kid the JWKS lists",
                    observed,
                    key is not None and key.kid in published,
                )
            )
    return found


def readiness_check(probe: HttpProbe) -> Check:
    status, body = probe.get("/readyz")
    observed = f"{status} {body.get('status') or body.get('detail') or ''}".strip()
    return Check("IQ-READYZ", "/readyz", "200 ready", observed, status == 200)


def chain_check(
    sessions: sessionmaker[Session], verifier: ChainVerifier, checkpoints: CheckpointService
) -> Check:
    """The whole chain walked, and the latest checkpoint's signature and head matched."""
    title = "Audit chain verified against the last checkpoint (AUD-3, AUD-4)"
    expected = "chain intact; it extends the latest signed checkpoint"
    with reading(sessions) as session:
        latest = checkpoints.latest(session)
        try:
            claim = None if latest is None else checkpoints.read_claim(session, latest.token)
        except JwsError as exc:
            return Check("IQ-CHAIN", title, expected, f"checkpoint rejected: {exc}", False)
    report = verifier.verify(remember=frozenset({claim.size}) if claim else frozenset())
    if not report.ok:
        observed = f"chain BROKEN at event {report.first_bad_seq}: {report.problem}"
        return Check("IQ-CHAIN", title, expected, observed, False)
    events = counted(report.events_checked, "event")
    if claim is None:
        observed = f"chain intact ({events}); no checkpoint issued: run `idgov audit checkpoint`"
        return Check("IQ-CHAIN", title, expected, observed, False)
    problem = compare_with_checkpoint(report, claim)
    observed = problem or (
        f"chain intact ({events}, head {report.head_hash[:16]}...); extends the checkpoint of "
        f"{claim.issued_at} at event {claim.size}, key {claim.kid}"
    )
    return Check("IQ-CHAIN", title, expected, observed, problem is None)
