"""A person's page (/people/<id>) with 1,000,000 events in the trail on PostgreSQL: p95 of the
request inside the app under 100 ms (issue 15, "Performance"), for a person with a long
status history and for one who has just been created.

The trail is loaded with COPY (bench/audit_trail_page.py, not timed); the people and their
history go through the services as an administrator's changes would. The requests go through
the Flask test client as a signed-in administrator: session check, role check, every section's
query and the rendering all count.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flask.testing import FlaskClient

from bench.audit_trail_page import p95, seed, time_view
from bench.common import POSTGRES_SERVER, bench_services, report, scratch_database
from idgov.app import create_app
from idgov.db import transaction
from idgov.identity.creation import NewIdentity
from idgov.identity.models import Identity
from idgov.wiring import Services
from tests.functional.people import PASSWORD, fast_hashing, login

BOUND_MS = 100.0


def registered(services: Services, username: str, roles: tuple[str, ...] = ()) -> str:
    with transaction(services.sessions) as session:
        identity = services.identities.create(
            session,
            NewIdentity(
                username=username,
                printed_name=username.title(),
                email=f"{username}@example.com",
                roles=roles,
            ),
        )
        services.passwords.set_initial(session, identity, PASSWORD)
        return identity.id


def history(services: Services, admin: str, verifier: str, person: str, cycles: int) -> None:
    """Verified, then suspended and reactivated `cycles` times, each with a reason."""
    with transaction(services.sessions) as session:
        who = session.get_one(Identity, person)
        services.identities.record_verification(
            session, who, session.get_one(Identity, verifier), "government-id"
        )
        services.identities.set_manager(session, who, admin, "bench")
    for n in range(cycles):
        with transaction(services.sessions) as session:
            who, actor = session.get_one(Identity, person), session.get_one(Identity, admin)
            services.identities.change_status(session, who, "suspended", f"leave {n}", actor)
            services.identities.change_status(session, who, "active", f"back {n}", actor)


def administrator(services: Services) -> tuple[FlaskClient, str, str]:
    fast_hashing(services)
    admin = registered(services, "bench-admin", ("admin",))
    verifier = registered(services, "bench-verifier", ("admin",))
    client = create_app(services=services).test_client()
    assert login(client, "bench-admin").status_code in (302, 303)
    return client, admin, verifier


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--cycles", type=int, default=500, help="suspend/reactivate pairs")
    parser.add_argument("--repeats", type=int, default=40)
    parser.add_argument("--database-url", default=POSTGRES_SERVER, help="a PostgreSQL server")
    args = parser.parse_args()
    with scratch_database("postgresql", args.database_url) as url:
        services = bench_services(url)
        try:
            seconds = seed(services, args.events)
            print(f"seeded {args.events:,} chained events in {seconds:.1f} s (COPY, not timed)")
            client, admin, verifier = administrator(services)
            busy = registered(services, "busy.person")
            history(services, admin, verifier, busy, args.cycles)
            fresh = registered(services, "new.person")
            worst: list[float] = [0.0, 0.0]
            for name, person in (
                (f"{2 * args.cycles} status changes", busy),
                ("just created", fresh),
            ):
                samples = time_view(client, f"/people/{person}", args.repeats)
                print(
                    f"  {name}: p50 {statistics.median(samples):.1f} ms, p95 {p95(samples):.1f} ms"
                )
                worst = max(worst, samples, key=p95)
            met = report("person page p95, worst person", p95(worst), "ms", BOUND_MS, False)
        finally:
            services.close()
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
