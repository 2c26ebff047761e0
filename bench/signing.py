"""Signing through POST /api/v1/signatures with the default argon2id parameters against bare
PasswordHasher.verify in the same run (bounds: throughput >= 80% of bare verify, p50 overhead
beyond the hash under 15 ms), on SQLite and PostgreSQL; and a 500-record batch (under 2 s)."""

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

from bench.common import bench_services, report, scratch_database
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


def sign(client: FlaskClient, headers: dict[str, str], body: dict[str, Any]) -> float:
    began = time.perf_counter()
    answer = client.post("/api/v1/signatures", json=body, headers=headers)
    elapsed = time.perf_counter() - began
    assert answer.status_code == 201, answer.get_data(as_text=True)
    return elapsed


def run(kind: str, count: int) -> tuple[list[float], float]:
    with scratch_database(kind) as url:
        services = bench_services(url)
        credentials = setup(services)
        client = create_app(services=services).test_client()
        headers = bearer(client, credentials)
        base = {"username": "bench.signer", "password": PASSWORD, "meaning": "approval"}

        def record(n: int) -> dict[str, str]:
            return {"type": "sop", "id": f"SOP-{n}", "version": "1", "digest": digest(str(n))}

        sign(client, headers, {**base, "record": record(-1)})  # warm up
        timings = [sign(client, headers, {**base, "record": record(n)}) for n in range(count)]
        batch = [record(100_000 + n) for n in range(500)]
        batch_seconds = sign(client, headers, {**base, "records": batch})
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
        rate, median = len(timings) / sum(timings), statistics.median(timings)
        overhead_ms = (median - bare_median) * 1000
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
