"""Time from the locking attempt to the alert e-mail accepted by a real SMTP server, with the
worker running at its default poll interval (bound: p99 under 5 s)."""

from __future__ import annotations

import argparse
import contextlib
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import bench_services, report, scratch_database
from idgov.config import SmtpSettings
from idgov.db import transaction
from idgov.errors import InvalidCredentials, Locked
from idgov.identity.creation import NewIdentity
from idgov.wiring import Services, build_services
from idgov.worker import Worker
from tests.harness.smtp import CapturingSmtpServer

BOUND_P99_SECONDS = 5.0
SECURITY = "soc@bench.example"
FAST = {"argon2_time_cost": 1, "argon2_memory_kib": 8192, "argon2_parallelism": 1}


def prepare(services: Services, people: int) -> None:
    with transaction(services.sessions) as session:
        services.keys.create(session, "audit", reason="bench")  # the worker's checkpoint job
        services.policies.change(session, "password", FAST, "bench: hashing is not measured", "b")
        services.policies.change(
            session, "alerting", {"security_emails": [SECURITY]}, "bench", "bench"
        )
        for n in range(people):
            person = services.identities.create(
                session, NewIdentity(f"p{n}", f"Person {n}", f"p{n}@bench.example")
            )
            services.passwords.set_initial(session, person, "Granite-Kettle-Orbit-58")


def lock(services: Services, username: str) -> float:
    """Four failures, then the locking attempt; returns when the locking attempt began."""
    for _ in range(4):
        with contextlib.suppress(InvalidCredentials):
            services.auth.authenticate(username, "wrong", channel="login", source="192.0.2.5")
    began = time.time()
    try:
        services.auth.authenticate(username, "wrong", channel="login", source="192.0.2.5")
    except Locked:
        return began
    raise AssertionError(f"{username} was not locked")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--locks", type=int, default=40)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="postgresql")
    args = parser.parse_args()
    smtp = CapturingSmtpServer()
    smtp.start()
    with scratch_database(args.database) as url:
        base = bench_services(url)
        settings = base.settings.model_copy(
            update={"smtp": SmtpSettings(host="127.0.0.1", port=smtp.port)}
        )
        base.engine.dispose()
        services = build_services(settings)
        prepare(services, args.locks)
        worker = Worker(build_services(settings))  # its own pool, as a separate process has
        thread = threading.Thread(target=worker.run_forever, daemon=True)
        thread.start()
        latencies = []
        for n in range(args.locks):
            began = lock(services, f"p{n}")
            arrived = smtp.wait_for(n + 1, timeout=30)[-1]
            latencies.append(arrived.received_at - began)
            time.sleep(0.37)  # spread the locks over the worker's poll cycle
        worker.stopping.set()
        thread.join(timeout=10)
        services.engine.dispose()
    smtp.stop()
    latencies.sort()
    p50 = latencies[len(latencies) // 2]
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    print(
        f"{args.database}: {len(latencies)} lockouts, worker poll "
        f"{settings.worker.poll_interval_seconds:.1f} s; lock to e-mail accepted: "
        f"p50 {p50:.2f} s, p99 {p99:.2f} s, max {latencies[-1]:.2f} s"
    )
    return 0 if report("lockout alert p99", p99, "s", BOUND_P99_SECONDS, False) else 1


if __name__ == "__main__":
    sys.exit(main())
