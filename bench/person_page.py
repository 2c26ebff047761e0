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
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flask.testing import FlaskClient

from bench.audit_trail_page import seed
from bench.common import POSTGRES_SERVER, page_bench, signed_in
from idgov.db import transaction
from idgov.identity.creation import NewIdentity
from idgov.identity.models import Identity
from idgov.wiring import Services
from tests.functional.people import PASSWORD


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--cycles", type=int, default=500, help="suspend/reactivate pairs")
    parser.add_argument("--repeats", type=int, default=40)
    parser.add_argument("--database-url", default=POSTGRES_SERVER, help="a PostgreSQL server")
    args = parser.parse_args()

    def prepare(services: Services) -> tuple[FlaskClient, dict[str, str]]:
        seconds = seed(services, args.events)
        print(f"seeded {args.events:,} chained events in {seconds:.1f} s (COPY, not timed)")
        client = signed_in(services, "bench-admin", "admin")
        with services.sessions() as session:
            admin = services.identities.by_username(session, "bench-admin")
        assert admin is not None
        verifier = registered(services, "bench-verifier", ("admin",))
        busy = registered(services, "busy.person")
        history(services, admin.id, verifier, busy, args.cycles)
        fresh = registered(services, "new.person")
        return client, {
            f"{2 * args.cycles} status changes": f"/people/{busy}",
            "just created": f"/people/{fresh}",
        }

    return page_bench("person page", args.database_url, prepare, args.repeats)


if __name__ == "__main__":
    sys.exit(main())
