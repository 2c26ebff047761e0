"""Signature token verification through SignatureVerifier, keys cached after the first
lookup (bound: >= 2,000 tokens/s), for EdDSA and ES256 keys, with each digest checked."""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import bench_services, report, scratch_database
from idgov.config import KeySettings
from idgov.db import transaction
from idgov.signatures.tokens import (
    Authentication,
    Manifestation,
    RecordRef,
    sign_token,
    signature_payload,
)
from idgov.wiring import build_services

BOUND_TOKENS_PER_SECOND = 2_000
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def tokens(count: int, kid: str, alg: str, key: object, issuer: str) -> list[tuple[str, str]]:
    """`count` distinct signature tokens and the digest each is bound to."""
    made = []
    for n in range(count):
        record = RecordRef("sop", f"SOP-{n:05d}", "1", "sha256:" + f"{n:064x}", f"Procedure {n}")
        payload = signature_payload(
            issuer=issuer,
            audience="cl_bench",
            signature_id=str(uuid.uuid4()),
            subject=str(uuid.uuid4()),
            manifestation=Manifestation("Jane Doe", "jdoe", NOW, "approval", "I approve.", None),
            record=record,
            authn=Authentication(("username", "password"), NOW, str(uuid.uuid4()), 1),
        )
        made.append((sign_token(payload, kid, alg, key), record.digest))  # type: ignore[arg-type]
    return made


def rate(algorithm: str, count: int, rounds: int) -> float:
    """Best tokens/s over `rounds` passes (one database session, as a request has)."""
    with scratch_database("sqlite") as url:
        services = bench_services(url)
        keys = KeySettings(passphrase="bench-passphrase", algorithm=algorithm)  # type: ignore[arg-type]
        services = build_services(services.settings.model_copy(update={"keys": keys}))
        with transaction(services.sessions) as session:
            key = services.keys.create(session, "signature", reason="bench")
            private = services.keys.private_key(key)
        issuer = services.settings.server.base_url
        made = tokens(count, key.kid, key.alg, private, issuer)
        verifier = services.signature_verifier
        best = 0.0
        with services.sessions() as session:
            for _ in range(rounds):
                began = time.perf_counter()
                for token, digest in made:
                    if not verifier.verify(session, token, digest).valid:
                        raise SystemExit("a genuine token did not verify")
                best = max(best, count / (time.perf_counter() - began))
        services.engine.dispose()
        return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tokens", type=int, default=5_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    met = True
    for algorithm in ("EdDSA", "ES256"):
        tokens_per_second = rate(algorithm, args.tokens, args.rounds)
        met &= report(
            f"verify {algorithm} tokens", tokens_per_second, "tokens/s", BOUND_TOKENS_PER_SECOND
        )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
