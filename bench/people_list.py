"""The console's people list at 100,000 identities on PostgreSQL: p95 of the request inside
the app under 100 ms for each filter (issue 15, "Performance"), on the first page, with
combinations, and deep in the list (a cursor followed page after page).

The people are loaded with COPY (not timed): skewed statuses, three sources, roles from a
hundred administrators to thousands of reviewers, managers, names from common first and last
names. The requests go through the Flask test client as a signed-in administrator: session
check, role check, the keyset query, the roles and managers of the page, and the rendering
all count.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flask.testing import FlaskClient
from sqlalchemy import text

from bench.common import POSTGRES_SERVER, page_bench, signed_in
from idgov.identity.people_query import PeopleCursor, PeopleFilter, PeopleReader
from idgov.wiring import Services
from tests.functional.console_support import unreachable_directory

START = datetime(2020, 1, 1, tzinfo=UTC)
FIRST = [
    "maria",
    "james",
    "john",
    "robert",
    "michael",
    "william",
    "david",
    "richard",
    "joseph",
    "thomas",
    "mary",
    "patricia",
    "jennifer",
    "linda",
    "elizabeth",
    "barbara",
    "susan",
    "jessica",
    "sarah",
    "karen",
    "ana",
    "jose",
    "wei",
    "li",
    "zoe",
    "yuki",
    "omar",
    "fatima",
    "ivan",
    "olga",
]
LAST = [
    "smith",
    "johnson",
    "williams",
    "brown",
    "jones",
    "garcia",
    "miller",
    "davis",
    "rodriguez",
    "martinez",
    "wang",
    "li",
    "zhang",
    "nguyen",
    "kim",
    "müller",
    "schmidt",
    "schneider",
    "fischer",
    "weber",
    "meyer",
    "wagner",
    "becker",
    "hoffmann",
    "rossi",
    "russo",
    "ferrari",
    "dubois",
    "martin",
    "bernard",
]
# (status, share): most people active, some gone, few locked.
STATUSES = (
    ("active", 0.85),
    ("deactivated", 0.07),
    ("pending_verification", 0.04),
    ("suspended", 0.03),
    ("locked", 0.01),
)
SOURCES = (("corp", 0.6), ("local", 0.3), ("partners", 0.1))  # two directories
ROLE_HOLDERS = {"admin": 100, "security_officer": 50, "auditor": 500, "reviewer": 8_000}
MANAGERS = 2_000  # the first people manage the rest
COLUMNS = (
    "id",
    "username",
    "printed_name",
    "email",
    "manager_id",
    "status",
    "provider",
    "failed_attempts",
    "attempts_while_locked",
    "locked_at",
    "last_login_at",
    "created_at",
    "status_changed_at",
)


def pick(rng: random.Random, shares: tuple[tuple[str, float], ...]) -> str:
    roll, total = rng.random(), 0.0
    for value, share in shares:
        total += share
        if roll < total:
            return value
    return shares[-1][0]


def people(count: int, ids: list[str]) -> Iterator[tuple[object, ...]]:
    rng = random.Random(15)
    for n, identity_id in enumerate(ids):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        created = START + timedelta(minutes=n * 7)
        status = pick(rng, STATUSES)
        login = created + timedelta(days=rng.randrange(1, 400)) if rng.random() < 0.8 else None
        yield (
            identity_id,
            f"{first}.{last.replace('ü', 'u')}{n}",
            f"{first.title()} {last.title()}",
            f"{first}.{last.replace('ü', 'u')}{n}@example.com",
            ids[rng.randrange(min(n, MANAGERS))] if n else None,
            status,
            pick(rng, SOURCES),
            0,
            0,
            created if status == "locked" else None,
            login,
            created,
            created,
        )


def seed(services: Services, count: int) -> float:
    """COPY `count` people and their roles in. Returns the seconds it took."""
    began = time.perf_counter()
    rng = random.Random(16)
    ids = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(count)]
    raw = services.engine.raw_connection()
    try:
        cursor = raw.cursor()
        with cursor.copy(f"COPY identities ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for row in people(count, ids):
                copy.write_row(row)
        with cursor.copy("COPY identity_roles (identity_id, role) FROM STDIN") as copy:
            for role, holders in ROLE_HOLDERS.items():
                for identity_id in rng.sample(ids, holders):
                    copy.write_row((identity_id, role))
        raw.commit()
    finally:
        raw.close()
    with services.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE identities"))
        conn.execute(text("VACUUM ANALYZE identity_roles"))
    return time.perf_counter() - began


def deep_cursor(services: Services, flt: PeopleFilter, pages: int) -> str:
    """The `after` cursor `pages` pages into the filtered list, found as "Next" finds it."""
    reader, cursor = PeopleReader(), PeopleCursor()
    with services.sessions() as session:
        for _ in range(pages):
            found = reader.page(session, flt, cursor).next_after
            if found is None:
                break
            cursor = PeopleCursor(after=found)
    assert cursor.after is not None
    return cursor.after


def views(services: Services) -> dict[str, str]:
    def deep(pages: int, **filters: str) -> str:
        flt = PeopleFilter(
            filters.get("q"), filters.get("status"), filters.get("source"), filters.get("role")
        )
        return "/people?" + urlencode({**filters, "after": deep_cursor(services, flt, pages)})

    middle = deep(1000)
    return {
        "no filter": "/people",
        "deep page (1,000 pages in)": f"{middle}",
        "previous page from there": middle.replace("after=", "before="),
        "status active": "/people?status=active",
        "status locked (1%)": "/people?status=locked",
        "source corp": "/people?source=corp",
        "source partners": "/people?source=partners",
        "role reviewer": "/people?role=reviewer",
        "role admin (100)": "/people?role=admin",
        "text 'm' (wide prefix)": "/people?q=m",
        "text 'maria.sm'": "/people?q=maria.sm",
        "text 'Zoe Kim' (printed name)": "/people?q=Zoe+Kim",
        "text 'xq' (nothing)": "/people?q=xq",
        "active + corp + reviewer": "/people?status=active&source=corp&role=reviewer",
        "locked + admin (rare and rare)": "/people?status=locked&role=admin",
        "suspended + partners": "/people?status=suspended&source=partners",
        "text 'j' + active + local": "/people?q=j&status=active&source=local",
        "text 'w' + role reviewer": "/people?q=w&role=reviewer",
        "status active, 300 pages in": deep(300, status="active"),
        "role reviewer, 100 pages in": deep(100, role="reviewer"),
        "text 'm', 50 pages in": deep(50, q="m"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=40)
    parser.add_argument("--database-url", default=POSTGRES_SERVER, help="a PostgreSQL server")
    args = parser.parse_args()
    directories = {"corp": unreachable_directory(), "partners": unreachable_directory()}

    def prepare(services: Services) -> tuple[FlaskClient, dict[str, str]]:
        seconds = seed(services, args.people)
        print(f"seeded {args.people:,} people in {seconds:.1f} s (COPY, not timed)")
        return signed_in(services, "bench-admin", "admin"), views(services)

    return page_bench(
        "people list page", args.database_url, prepare, args.repeats, directories=directories
    )


if __name__ == "__main__":
    sys.exit(main())
