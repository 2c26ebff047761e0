"""The console's audit-trail page at 1,000,000 events on PostgreSQL: p95 of the request inside
the app under 100 ms for each filter (issue 15, "Performance"), on the first page and deep in
the trail.

The chain is loaded with COPY (not timed), valid and linked as appends would leave it; the
requests go through the Flask test client as a signed-in auditor: session check, role check,
the keyset query and the rendering all count.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flask.testing import FlaskClient
from sqlalchemy import text, update

from bench.chain_fixture import document_approval
from bench.common import POSTGRES_SERVER, page_bench, signed_in
from idgov.audit.canonical import HashedFields, event_hash
from idgov.audit.models import GENESIS_HASH, AuditHead
from idgov.wiring import Services
from tests.functional.console_support import SEQ_LINK

START = datetime(2025, 1, 1, tzinfo=UTC)
STEP = timedelta(seconds=2)
ACTORS = 5_000
TARGETS = 100_000
RARE_ACTOR = "id-rare"  # 20 events spread over the whole trail: the worst case for a scan
ACTIONS = [f"area{n}:subject:{verb}" for n in range(12) for verb in ("created", "changed")]
RARE_ACTION = "identity:roles:changed"  # one event in 50,000
COLUMNS = (*HashedFields.__slots__, "hash")


def events(count: int) -> Iterator[tuple[object, ...]]:
    """A linked chain: skewed actors and actions, many targets, two seconds apart."""
    rng = random.Random(15)
    prev = GENESIS_HASH
    rare_every = max(count // 20, 1)
    for seq in range(1, count + 1):
        if seq % rare_every == 0:
            actor = RARE_ACTOR
        else:
            actor = f"id-{min(int(rng.paretovariate(1.2)), ACTORS)}"
        action = RARE_ACTION if seq % 50_000 == 0 else ACTIONS[int(rng.random() ** 3 * 24)]
        target = f"DOC-{rng.randrange(TARGETS)}"
        fields = document_approval(seq, START + seq * STEP, actor, action, target, prev)
        prev = event_hash(fields)
        yield (*(getattr(fields, name) for name in HashedFields.__slots__), prev)


def seed(services: Services, count: int) -> float:
    """COPY `count` chained events in; the head follows. Returns the seconds it took."""
    began = time.perf_counter()
    raw = services.engine.raw_connection()
    try:
        cursor = raw.cursor()
        last: tuple[object, ...] = ()
        with cursor.copy(f"COPY audit_events ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for row in events(count):
                copy.write_row(row)
                last = row
        raw.commit()
    finally:
        raw.close()
    with services.engine.begin() as conn:
        conn.execute(update(AuditHead).values(seq=last[0], prev_hash=last[14], hash=last[15]))
    # As autovacuum leaves an append-only table (its insert threshold): statistics and the
    # visibility map, which index-only reads need.
    with services.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE audit_events"))
    return time.perf_counter() - began


def views(count: int) -> dict[str, str]:
    """The filtered views timed: each first page, and cursors deep in the trail."""
    middle = count // 2
    day = (START + middle * STEP).strftime("%Y-%m-%d")
    hour = (START + middle * STEP).strftime("%Y-%m-%dT%H:00")
    hour_end = (START + middle * STEP + timedelta(hours=1)).strftime("%Y-%m-%dT%H:00")
    nine_days = START + timedelta(days=9)
    return {
        "newest page": "/audit",
        "deep page (older than the middle)": f"/audit?before={middle}",
        "newer link from the middle": f"/audit?after={middle}",
        "busiest actor": "/audit?actor=id-1",
        "busy actor, deep": f"/audit?actor=id-2&before={middle}",
        "rare actor (20 events)": f"/audit?actor={RARE_ACTOR}",
        "one target": "/audit?target=document:DOC-4242",
        "common action": f"/audit?action={ACTIONS[0]}",
        "rare action": f"/audit?action={RARE_ACTION}",
        "one hour, mid-trail": f"/audit?since={hour}&until={hour_end}",
        "one day + actor": f"/audit?since={day}&until={hour_end}&actor=id-3",
        "actor + action": f"/audit?actor=id-1&action={ACTIONS[1]}",
        # A window over 40% of the trail: its seq bounds take an index-only read of it all.
        "nine days, deep": f"/audit?since={START:%Y-%m-%d}&until={nine_days:%Y-%m-%d}",
    }


def newest_in(query: dict[str, list[str]], count: int) -> int:
    """The newest seq a view older than a cursor or ending at a time lists first: event n of
    the seeded chain is at START + n * STEP (the bench's sign-in adds events after them)."""
    if "before" in query:
        return int(query["before"][0]) - 1
    until = datetime.fromisoformat(query["until"][0]).replace(tzinfo=UTC)
    return min(count, math.ceil((until - START) / STEP) - 1)  # until is exclusive


def listing_check(count: int) -> Callable[[str, str], None]:
    """Every view by time or cursor lists events, and a deep or time-only one starts at the
    right one: a fast page must not be a wrong or empty one (the time spans missing, say)."""

    def check(url: str, page: str) -> None:
        listed = [int(seq) for seq in SEQ_LINK.findall(page)]
        query = parse_qs(urlsplit(url).query)
        if not set(query) - {"since", "until", "before", "after"}:  # every seq range has events
            assert listed, f"{url} lists no event"
        if set(query) - {"since"} in ({"before"}, {"until"}):
            assert listed[0] == newest_in(query, count), (url, listed[0])

    return check


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=40)
    parser.add_argument("--database-url", default=POSTGRES_SERVER, help="a PostgreSQL server")
    args = parser.parse_args()

    def prepare(services: Services) -> tuple[FlaskClient, dict[str, str]]:
        seconds = seed(services, args.events)
        print(f"seeded {args.events:,} chained events in {seconds:.1f} s (COPY, not timed)")
        with services.engine.connect() as conn:
            spans = conn.scalar(text("SELECT count(*) FROM audit_time_spans"))
        print(f"time spans kept by the trigger: {spans:,}")
        return signed_in(services, "bench-auditor", "auditor"), views(args.events)

    check = listing_check(args.events)
    return page_bench("audit trail page", args.database_url, prepare, args.repeats, check)


if __name__ == "__main__":
    sys.exit(main())
