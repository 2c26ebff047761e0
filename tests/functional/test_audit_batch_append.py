"""AuditTrail.record_many / append_events: a batch is chained exactly like single appends."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from idgov.audit.context import Target
from idgov.audit.models import AuditEvent, AuditHead
from idgov.audit.trail import PendingEvent
from idgov.db import transaction
from idgov.wiring import Services

BATCH = 1_000


def pending(count: int, action: str = "test:widget:synced") -> list[PendingEvent]:
    return [
        PendingEvent(action, Target("widget", f"b{index}"), old=None, new={"value": index})
        for index in range(count)
    ]


def record_singles(services: Services, count: int, prefix: str = "s") -> None:
    for index in range(count):
        with transaction(services.sessions) as session:
            services.trail.record(
                session, "test:widget:changed", Target("widget", f"{prefix}{index}")
            )


def record_batches(
    services: Services, *batches: list[PendingEvent], then_fail: bool = False
) -> None:
    """Record the batches in one transaction; `then_fail`: the change fails after them."""
    with transaction(services.sessions) as session:
        for batch in batches:
            services.trail.record_many(session, batch)
        if then_fail:
            raise RuntimeError("the change failed")


def chain(services: Services) -> list[tuple[int, str]]:
    with services.sessions() as session:
        rows = session.execute(select(AuditEvent.seq, AuditEvent.target_id).order_by("seq"))
        return [(row.seq, row.target_id) for row in rows]


def head(services: Services) -> tuple[int, str]:
    with services.sessions() as session:
        row = session.execute(select(AuditHead.seq, AuditHead.hash)).one()
        return row.seq, row.hash


@pytest.mark.req("AUD-3")
def test_batch_between_single_events_keeps_the_chain_intact(services: Services) -> None:
    record_singles(services, 3, "before")
    with transaction(services.sessions) as session:
        assert services.trail.record_many(session, pending(BATCH)) == BATCH
    record_singles(services, 3, "after")
    report = services.verifier.verify()
    assert report.ok, report.problem
    assert (report.events_checked, report.head_seq) == (BATCH + 6, BATCH + 6)


@pytest.mark.req("AUD-3")
def test_batch_and_singles_in_one_transaction_keep_the_chain_intact(services: Services) -> None:
    with transaction(services.sessions) as session:
        services.trail.record(session, "test:widget:changed", Target("widget", "first"))
        services.trail.record_many(session, pending(BATCH))
        services.trail.record(session, "test:widget:changed", Target("widget", "last"))
    report = services.verifier.verify()
    assert report.ok, report.problem
    assert report.head_seq == BATCH + 2


@pytest.mark.req("AUD-3")
def test_batch_sequence_numbers_are_gap_free_in_list_order(services: Services) -> None:
    record_singles(services, 2, "before")
    with transaction(services.sessions) as session:
        services.trail.record_many(session, pending(BATCH))
    record_singles(services, 2, "after")
    rows = chain(services)
    assert [seq for seq, _ in rows] == list(range(1, BATCH + 5))
    expected = ["before0", "before1", *(f"b{i}" for i in range(BATCH)), "after0", "after1"]
    assert [target for _, target in rows] == expected
    assert head(services)[0] == BATCH + 4


@pytest.mark.req("AUD-1")
def test_batch_events_record_actor_values_and_reason_with_secrets_redacted(
    services: Services,
) -> None:
    event = PendingEvent(
        "test:widget:synced",
        Target("widget", "w1"),
        old={"colour": "red"},
        new={"colour": "blue", "password": "never-stored"},
        reason="as corp lists it",
    )
    with transaction(services.sessions) as session:
        services.trail.record_many(session, [event])
    with services.sessions() as session:
        stored = session.scalars(select(AuditEvent)).one()
    assert (stored.actor_type, stored.actor_id) == ("system", "idgov")
    assert (stored.action, stored.target_type, stored.target_id) == (
        "test:widget:synced",
        "widget",
        "w1",
    )
    assert json.loads(stored.old_values) == {"colour": "red"}
    assert json.loads(stored.new_values) == {"colour": "blue", "password": "<redacted>"}
    assert stored.reason == "as corp lists it"
    assert stored.occurred_at == services.clock.now()


@pytest.mark.req("AUD-3")
def test_empty_batch_appends_nothing(services: Services) -> None:
    record_singles(services, 2)
    before = head(services)
    with transaction(services.sessions) as session:
        assert services.trail.record_many(session, []) == 0
    assert head(services) == before
    assert len(chain(services)) == 2


@pytest.mark.req("AUD-1")
def test_invalid_action_in_a_batch_raises_and_nothing_of_the_transaction_is_kept(
    services: Services,
) -> None:
    record_singles(services, 2)
    before = head(services)
    bad = [*pending(3), PendingEvent("Not An Action", Target("widget", "x"))]
    with pytest.raises(ValueError, match="is not area:subject:action"):
        record_batches(services, pending(5), bad)  # the first batch is appended, then undone
    assert head(services) == before
    assert len(chain(services)) == 2
    assert services.verifier.verify().ok


@pytest.mark.req("AUD-3")
def test_rolled_back_batch_leaves_the_head_so_the_next_append_continues_the_chain(
    services: Services,
) -> None:
    record_singles(services, 2)
    before = head(services)
    with pytest.raises(RuntimeError, match="the change failed"):
        record_batches(services, pending(50), then_fail=True)
    assert head(services) == before
    record_singles(services, 1, "next")
    with transaction(services.sessions) as session:
        services.trail.record_many(session, pending(10))
    with services.sessions() as session:
        third = session.get(AuditEvent, 3)
        total = session.scalar(select(func.count()).select_from(AuditEvent))
    assert third is not None
    assert (third.target_id, third.prev_hash) == ("next0", before[1])
    assert total == 13
    report = services.verifier.verify()
    assert report.ok, report.problem
    assert report.head_seq == 13
