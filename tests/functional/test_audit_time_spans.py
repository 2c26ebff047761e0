"""The trail's time spans (migration 0014_audit_time_spans): kept by the database on every
insert, only ever widened, backfilled on upgrade; the time filter they bound shows exactly
the window's events even when times go back (AUD-1, AUD-2)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import delete, select, update
from sqlalchemy.exc import DatabaseError

from idgov.audit.browse import Cursor
from idgov.audit.context import Target
from idgov.audit.export import ExportFilter
from idgov.audit.models import AuditEvent, AuditTimeSpan
from idgov.audit.trail import PendingEvent
from idgov.clock import FrozenClock
from idgov.db import alembic_config, transaction, upgrade_database
from idgov.wiring import Services

SPAN_EVENTS = 1024  # as migration 0014 spans the trail


def append(services: Services, clock: FrozenClock, count: int, at: datetime) -> None:
    """`count` events at the time `at`, in one batch (one multi-row insert)."""
    clock.advance(at - clock.now())
    batch = [
        PendingEvent("record:document:approved", Target("document", f"D-{n}")) for n in range(count)
    ]
    with transaction(services.sessions) as session:
        services.trail.record_many(session, batch)


def shown(services: Services, flt: ExportFilter) -> list[int]:
    """Every seq the console's pages show for `flt`, following the older-cursor."""
    seqs: list[int] = []
    cursor = Cursor()
    with services.sessions() as session:
        while True:
            page = services.trail_reader.page(session, flt, cursor)
            seqs += [event.seq for event in page.events]
            if page.older is None:
                return seqs
            cursor = Cursor(before=page.older)


def in_window(services: Services, flt: ExportFilter) -> list[int]:
    """The same, by the plain filter alone: what the spans must not change."""
    with services.sessions() as session:
        query = select(AuditEvent.seq).where(*flt.conditions()).order_by(AuditEvent.seq.desc())
        return list(session.scalars(query))


def spans(services: Services) -> list[tuple[int, int, int, datetime, datetime]]:
    with services.sessions() as session:
        rows = session.execute(select(AuditTimeSpan).order_by(AuditTimeSpan.span)).scalars()
        return [(s.span, s.first_seq, s.last_seq, s.earliest, s.latest) for s in rows]


def expected_spans(services: Services) -> list[tuple[int, int, int, datetime, datetime]]:
    """The spans recomputed from the events themselves."""
    with services.sessions() as session:
        events = session.execute(select(AuditEvent.seq, AuditEvent.occurred_at)).all()
    grouped: dict[int, list[tuple[int, datetime]]] = {}
    for seq, when in events:
        grouped.setdefault(seq // SPAN_EVENTS, []).append((seq, when))
    return [
        (
            span,
            min(s for s, _ in rows),
            max(s for s, _ in rows),
            min(w for _, w in rows),
            max(w for _, w in rows),
        )
        for span, rows in sorted(grouped.items())
    ]


@pytest.mark.req("AUD-1")
def test_a_time_window_shows_exactly_its_events_when_times_go_back(
    services: Services, clock: FrozenClock
) -> None:
    start = clock.now()
    append(services, clock, 1500, start + timedelta(hours=2))
    append(services, clock, 1500, start + timedelta(hours=1))  # the clock went back
    append(services, clock, 300, start + timedelta(hours=3))
    assert spans(services) == expected_spans(services)
    assert len(spans(services)) == 4  # 3300 events (and the setup's) over 4 spans of 1024

    earlier = ExportFilter(
        since=start + timedelta(minutes=30), until=start + timedelta(hours=1, minutes=1)
    )
    assert shown(services, earlier) == in_window(services, earlier)
    assert len(shown(services, earlier)) == 1500  # the later seqs, at the earlier time
    for flt in (
        ExportFilter(since=start + timedelta(hours=2)),
        ExportFilter(until=start + timedelta(hours=2)),
        ExportFilter(
            since=start + timedelta(hours=1, minutes=30), until=start + timedelta(hours=3)
        ),
        ExportFilter(since=start + timedelta(hours=4)),  # after every event: nothing
        ExportFilter(until=start),  # before every event: nothing
    ):
        assert shown(services, flt) == in_window(services, flt), flt


@pytest.mark.req("AUD-2")
def test_the_database_refuses_to_narrow_or_delete_a_span(
    services: Services, clock: FrozenClock
) -> None:
    append(services, clock, 10, clock.now() + timedelta(minutes=1))
    before = spans(services)
    first = AuditTimeSpan.span == before[0][0]
    narrowings = [
        {"first_seq": before[0][1] + 1},
        {"last_seq": before[0][2] - 1},
        {"earliest": before[0][3] + timedelta(seconds=1)},
        {"latest": before[0][4] - timedelta(seconds=1)},
        {"span": before[0][0] + 99},
    ]
    for change in [*narrowings, None]:
        statement = (
            delete(AuditTimeSpan) if change is None else update(AuditTimeSpan).values(change)
        )
        with services.sessions() as session, pytest.raises(DatabaseError, match="append-only"):
            session.execute(statement.where(first))
    assert spans(services) == before
    with transaction(services.sessions) as session:  # widening is what appends do
        session.execute(update(AuditTimeSpan).where(first).values(first_seq=0))


def test_the_upgrade_backfills_the_spans_of_an_existing_trail(
    services: Services, clock: FrozenClock
) -> None:
    with services.engine.begin() as connection:
        command.downgrade(alembic_config(connection), "0013_people_list")
    append(services, clock, 2100, clock.now() + timedelta(minutes=5))  # no spans kept
    upgrade_database(services.engine)
    assert spans(services) == expected_spans(services)
    report = services.verifier.verify()
    assert report.ok
    assert spans(services)[-1][2] == report.head_seq
