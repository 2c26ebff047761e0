"""Login throughput with the default argon2id parameters against bare PasswordHasher.verify
in the same run (bound: login >= 80% of bare verify), on SQLite and PostgreSQL."""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from argon2 import PasswordHasher
from flask.testing import FlaskClient

from bench.common import bench_services, report, scratch_database
from idgov.app import create_app
from idgov.db import transaction
from idgov.identity.creation import NewIdentity
from idgov.policies.documents import PasswordPolicy
from idgov.providers.local import LocalPasswords

BOUND_RATIO = 0.80
PASSWORD = "Granite-Kettle-Orbit-58"


def bare_verify_rate(count: int) -> tuple[float, float]:
    """Verifications/s and median seconds of the bare hasher with the default parameters."""
    hasher = LocalPasswords.hasher(PasswordPolicy())
    stored = hasher.hash(PASSWORD)
    timings = []
    for _ in range(count):
        began = time.perf_counter()
        hasher.verify(stored, PASSWORD)
        timings.append(time.perf_counter() - began)
    return count / sum(timings), statistics.median(timings)


def login_rate(kind: str, count: int) -> tuple[float, float]:
    """Logins/s and median seconds through POST /api/v1/session of the real app."""
    with scratch_database(kind) as url:
        services = bench_services(url)
        with transaction(services.sessions) as session:
            person = services.identities.create(
                session, NewIdentity("bench.user", "Bench User", "bench@example.test")
            )
            services.passwords.set_initial(session, person, PASSWORD)
        client = create_app(services=services).test_client()
        body = {"username": "bench.user", "password": PASSWORD}
        assert client.post("/api/v1/session", json=body).status_code == 201  # warm up
        timings = []
        for _ in range(count):
            began = time.perf_counter()
            answer = client.post("/api/v1/session", json=body)
            timings.append(time.perf_counter() - began)
            assert answer.status_code == 201, answer.get_data(as_text=True)
        refusals = refusal_timings(client)
        services.engine.dispose()
    print(
        f"{kind}: refusal median, wrong password {refusals['wrong'] * 1000:.1f} ms, "
        f"unknown username {refusals['unknown'] * 1000:.1f} ms (LOCK-3: comparable timing)"
    )
    return count / sum(timings), statistics.median(timings)


def refusal_timings(client: FlaskClient) -> dict[str, float]:
    """Median time of a refused login: wrong password vs. unknown username (four each, under
    the lockout threshold)."""
    medians = {}
    for label, username in (("wrong", "bench.user"), ("unknown", "nobody.here")):
        timings = []
        for _ in range(4):
            began = time.perf_counter()
            answer = client.post("/api/v1/session", json={"username": username, "password": "x"})
            timings.append(time.perf_counter() - began)
            assert answer.status_code == 401
        medians[label] = statistics.median(timings)
    return medians


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=40)
    args = parser.parse_args()
    print(f"argon2id defaults: {PasswordHasher.__name__} t=3, m=64 MiB, p=4; {args.count} each")
    met = True
    for kind in ("sqlite", "postgresql"):
        bare, bare_median = bare_verify_rate(args.count)
        login, login_median = login_rate(kind, args.count)
        print(
            f"{kind}: bare verify {bare:.1f}/s (median {bare_median * 1000:.1f} ms); "
            f"login {login:.1f}/s (median {login_median * 1000:.1f} ms; "
            f"overhead {(login_median - bare_median) * 1000:.1f} ms)"
        )
        met &= report(f"{kind} login / bare verify", login / bare, "ratio", BOUND_RATIO)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
