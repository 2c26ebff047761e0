"""The audit trail: chained appends in the caller's transaction, append-only, tamper-evident."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from idgov.audit.canonical import HashedFields, event_hash
from idgov.audit.context import Actor, AuditContext, Target
from idgov.audit.models import GENESIS_HASH, AuditEvent, AuditHead
from idgov.audit.trail import AuditTrail
from idgov.clock import FrozenClock, iso_utc
from idgov.db import transaction
from idgov.wiring import Services
from tests.functional.tamper import tamper

ALICE = Actor(type="identity", id="id-alice", name="Alice Example")


def append(services: Services, count: int, clock: FrozenClock | None = None) -> None:
    for index in range(count):
        with transaction(services.sessions) as session:
            services.trail.record(
                session,
                "test:widget:changed",
                Target("widget", str(index % 3)),
                old={"value": index},
                new={"value": index + 1},
                reason=f"change {index}",
                actor=ALICE,
            )
        if clock is not None:
            clock.advance(timedelta(seconds=1))


@pytest.mark.req("AUD-1")
def test_event_records_who_when_what_target_values_reason(
    services: Services, clock: FrozenClock
) -> None:
    trail = AuditTrail(clock, lambda: AuditContext(ALICE, "req-1", "192.0.2.7"))
    with transaction(services.sessions) as session:
        trail.record(
            session,
            "policy:password:changed",
            Target("policy", "password"),
            old={"min_length": 12},
            new={"min_length": 14, "password": "never-stored"},
            reason="tightened after review",
        )
    with services.sessions() as session:
        event = session.scalars(select(AuditEvent)).one()
    assert (event.seq, event.actor_type, event.actor_id, event.actor_name) == (
        1,
        "identity",
        "id-alice",
        "Alice Example",
    )
    assert event.occurred_at == clock.now()
    assert event.action == "policy:password:changed"
    assert (event.target_type, event.target_id) == ("policy", "password")
    assert event.old_values == '{"min_length":12}'
    assert event.new_values == '{"min_length":14,"password":"<redacted>"}'
    assert (event.reason, event.request_id, event.source_address) == (
        "tightened after review",
        "req-1",
        "192.0.2.7",
    )
    assert event.prev_hash == GENESIS_HASH


@pytest.mark.req("AUD-1")
def test_event_rolls_back_with_the_change_it_records(services: Services) -> None:
    def failing_change() -> None:
        with transaction(services.sessions) as session:
            services.trail.record(session, "test:widget:created", Target("widget", "1"))
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        failing_change()
    with services.sessions() as session:
        assert session.scalars(select(AuditEvent)).all() == []
        assert session.execute(select(AuditHead.seq)).scalar_one() == 0
    append(services, 1)
    assert services.verifier.verify().ok


def test_action_must_be_area_subject_action(services: Services) -> None:
    with (
        pytest.raises(ValueError, match="area:subject:action"),
        transaction(services.sessions) as s,
    ):
        services.trail.record(s, "not-an-action", Target("x", "1"))


@pytest.mark.req("AUD-3")
def test_chain_links_every_event_to_the_previous_hash(
    services: Services, clock: FrozenClock
) -> None:
    append(services, 5, clock)
    with services.sessions() as session:
        events = session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    previous = GENESIS_HASH
    for event in events:
        assert event.prev_hash == previous
        fields = HashedFields(
            **{
                name: (
                    iso_utc(event.occurred_at) if name == "occurred_at" else getattr(event, name)
                )
                for name in HashedFields.__slots__
            }
        )
        assert event_hash(fields) == event.hash
        previous = event.hash
    report = services.verifier.verify()
    assert report.ok
    assert report.events_checked == 5
    assert report.head_hash == previous


@pytest.mark.req("AUD-2")
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET reason = 'rewritten' WHERE seq = 1",
        "DELETE FROM audit_events WHERE seq = 1",
        "DELETE FROM audit_head",
        "UPDATE audit_checkpoints SET size = 0",
    ],
)
def test_database_refuses_to_change_the_trail(services: Services, statement: str) -> None:
    append(services, 2)
    with transaction(services.sessions) as session:
        services.keys.create(session, "audit", reason="test")
        services.checkpoints.issue(session)
    with pytest.raises(DatabaseError, match="append-only"), services.engine.begin() as conn:
        conn.execute(text(statement))
    assert services.verifier.verify().ok


@pytest.mark.req("AUD-2")
def test_postgres_refuses_truncate(services: Services, is_postgres: bool) -> None:
    if not is_postgres:
        pytest.skip("TRUNCATE exists only on PostgreSQL; SQLite has no such statement")
    append(services, 1)
    with pytest.raises(DatabaseError, match="append-only"), services.engine.begin() as conn:
        conn.execute(text("TRUNCATE audit_events"))


@pytest.mark.req("AUD-3")
@pytest.mark.parametrize(
    ("statements", "first_bad", "words"),
    [
        (["UPDATE audit_events SET reason = 'nothing happened' WHERE seq = 3"], 3, "altered"),
        (["UPDATE audit_events SET new_values = '{\"value\":99}' WHERE seq = 4"], 4, "altered"),
        (["DELETE FROM audit_events WHERE seq = 3"], 3, "missing"),
        (
            [
                "UPDATE audit_events SET seq = -2 WHERE seq = 2",
                "UPDATE audit_events SET seq = 2 WHERE seq = 3",
                "UPDATE audit_events SET seq = 3 WHERE seq = -2",
            ],
            2,
            "link",
        ),
        (["DELETE FROM audit_events WHERE seq >= 5"], 5, "removed from the end"),
    ],
    ids=["altered-reason", "altered-value", "deleted", "reordered", "truncated-tail"],
)
def test_verify_names_the_first_bad_sequence_number(
    services: Services, clock: FrozenClock, statements: list[str], first_bad: int, words: str
) -> None:
    append(services, 6, clock)
    tamper(services.engine, *statements)
    report = services.verifier.verify()
    assert not report.ok
    assert report.first_bad_seq == first_bad
    assert words in (report.problem or "")


@pytest.mark.req("AUD-3")
def test_rehashed_alteration_is_caught_at_the_next_link(services: Services) -> None:
    append(services, 4)
    # Always a different first character (a plain 'f' would be no change one time in 16).
    tamper(
        services.engine,
        "UPDATE audit_events SET hash = CASE WHEN substr(hash, 1, 1) = 'f' THEN 'e' ELSE 'f' END"
        " || substr(hash, 2) WHERE seq = 2",
    )
    report = services.verifier.verify()
    assert report.first_bad_seq == 2  # its own hash no longer matches its content
    assert not report.ok


def _concurrent_appends(services: Services, writers: int, each: int) -> list[BaseException]:
    errors: list[BaseException] = []
    barrier = threading.Barrier(writers)

    def write(index: int) -> None:
        try:
            barrier.wait()
            for n in range(each):
                with transaction(services.sessions) as session:
                    services.trail.record(
                        session, "test:widget:changed", Target("w", f"{index}-{n}")
                    )
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


@pytest.mark.req("AUD-3")
def test_concurrent_writers_never_fork_or_leave_gaps(services: Services) -> None:
    errors = _concurrent_appends(services, writers=6, each=25)
    assert errors == []
    report = services.verifier.verify()
    assert report.ok, report.problem
    assert report.events_checked == 150
    with services.sessions() as session:
        targets = session.scalars(select(AuditEvent.target_id)).all()
    assert len(set(targets)) == 150
