"""Signing through POST /api/v1/signatures with the default argon2id parameters against bare
PasswordHasher.verify in the same run (bounds: throughput >= 80% of bare verify, p50 overhead
beyond the hash under 15 ms), on SQLite and PostgreSQL; and a 500-record batch (under 2 s).

The overhead is each request's time less the argon2id verification timed inside that same
request (bench.common.HashTimer), never the difference of two separate runs."""

from __future__ import annotations

import argparse
import base64
import hashlib
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask.testing import FlaskClient

from bench.common import HashTimer, bench_services, report, scratch_database
from bench.login_throughput import PASSWORD, bare_verify_rate
from idgov.app import create_app
from idgov.db import transaction
from idgov.identity.certification import statement_for
from idgov.identity.creation import NewIdentity
from idgov.wiring import Services

BOUND_RATIO, BOUND_OVERHEAD_MS, BOUND_BATCH_SECONDS = 0.80, 15.0, 2.0


def digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def setup(services: Services) -> dict[str, str]:
    """Keys, a host client and an eligible signer; returns the bearer header."""
    with transaction(services.sessions) as session:
        services.keys.create(session, "audit", reason="bench")
        services.keys.create(session, "signature", reason="bench")
        client, secret = services.clients.add(session, "bench-host", ["signatures"])
        admin = services.identities.create(
            session, NewIdentity("bench.admin", "Bench Admin", "a@bench.test", roles=("admin",))
        )
        signer = services.identities.create(
            session, NewIdentity("bench.signer", "Bench Signer", "s@bench.test")
        )
        services.passwords.set_initial(session, signer, PASSWORD)
        services.identities.record_verification(session, signer, admin, "badge")
        services.identities.certify(session, signer, statement_for("Bench Signer"), "web", None)
    return {"client_id": client.client_id, "secret": secret}


def bearer(client: FlaskClient, credentials: dict[str, str]) -> dict[str, str]:
    basic = base64.b64encode(f"{credentials['client_id']}:{credentials['secret']}".encode())
    answer = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic.decode()}"},
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return {"Authorization": f"Bearer {answer.get_json()['access_token']}"}


def sign(
    client: FlaskClient, headers: dict[str, str], body: dict[str, Any], timer: HashTimer
) -> tuple[float, float]:
    """One signing: (its time, the argon2id hash's time inside it)."""
    timer.seconds = 0.0
    began = time.perf_counter()
    answer = client.post("/api/v1/signatures", json=body, headers=headers)
    elapsed = time.perf_counter() - began
    assert answer.status_code == 201, answer.get_data(as_text=True)
    return elapsed, timer.seconds


def run(kind: str, count: int) -> tuple[list[tuple[float, float]], float]:
    with scratch_database(kind) as url:
        services = bench_services(url)
        credentials = setup(services)
        client = create_app(services=services).test_client()
        headers = bearer(client, credentials)
        base = {"username": "bench.signer", "password": PASSWORD, "meaning": "approval"}

        def record(n: int) -> dict[str, str]:
            return {"type": "sop", "id": f"SOP-{n}", "version": "1", "digest": digest(str(n))}

        with HashTimer() as timer:
            sign(client, headers, {**base, "record": record(-1)}, timer)  # warm up
            timings = [
                sign(client, headers, {**base, "record": record(n)}, timer) for n in range(count)
            ]
            batch = [record(100_000 + n) for n in range(500)]
            batch_seconds, _hash = sign(client, headers, {**base, "records": batch}, timer)
        services.engine.dispose()
    return timings, batch_seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=40)
    args = parser.parse_args()
    met = True
    for kind in ("sqlite", "postgresql"):
        bare, bare_median = bare_verify_rate(args.count)
        timings, batch_seconds = run(kind, args.count)
        totals = [total for total, _hash in timings]
        rate, median = len(totals) / sum(totals), statistics.median(totals)
        overhead_ms = statistics.median([(total - hashed) * 1000 for total, hashed in timings])
        assert min(hashed for _total, hashed in timings) > 0, "hash not timed: bench broken"
        print(
            f"{kind}: bare verify {bare:.1f}/s (median {bare_median * 1000:.1f} ms); signing "
            f"{rate:.1f}/s (median {median * 1000:.1f} ms)"
        )
        met &= report(f"{kind} signing / bare verify", rate / bare, "ratio", BOUND_RATIO)
        met &= report(f"{kind} p50 overhead", overhead_ms, "ms", BOUND_OVERHEAD_MS, False)
        met &= report(f"{kind} 500-record batch", batch_seconds, "s", BOUND_BATCH_SECONDS, False)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
