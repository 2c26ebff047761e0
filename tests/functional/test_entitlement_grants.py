"""GrantLedger.reconcile: recorded holders follow the source, history is kept, changes audited."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from idgov.audit.models import AuditEvent
from idgov.clock import FrozenClock
from idgov.db import transaction
from idgov.entitlements.grants import GrantLedger, GrantReport
from idgov.entitlements.models import DIRECTORY_GROUP, Entitlement, EntitlementGrant
from idgov.wiring import Services
from tests.functional.people import events, person

pytestmark = pytest.mark.req("REV-1")

QA, LAB = "ent-qa", "ent-lab"
NAMES = {QA: "QA Reviewers", LAB: "Lab Admins"}
ANN_DN, BOB_DN, GHOST_DN = "uid=ann,dc=example", "uid=bob,dc=example", "uid=ghost,dc=example"
GRANTS_CHANGED, ORPHANS_CHANGED = "entitlement:grants:changed", "entitlement:orphans:changed"


@pytest.fixture
def people(services: Services, clock: FrozenClock) -> dict[str, str]:
    with transaction(services.sessions) as session:
        for entitlement_id, name in NAMES.items():
            session.add(
                Entitlement(
                    id=entitlement_id,
                    source_type=DIRECTORY_GROUP,
                    source="corp",
                    key=f"key-{entitlement_id}",
                    name=name,
                    description=None,
                    owner_id=None,
                    created_at=clock.now(),
                    updated_at=clock.now(),
                    removed_at=None,
                )
            )
    return {name: person(services, name, password=None) for name in ("ann", "bob")}


def reconcile(
    services: Services, wanted: dict[tuple[str, str], Any], scope: tuple[str, ...] = (QA, LAB)
) -> GrantReport:
    with transaction(services.sessions) as session:
        ledger = GrantLedger(services.trail)
        return ledger.reconcile(session, scope, wanted, NAMES, services.clock.now(), "corp")


def grants(services: Services) -> list[EntitlementGrant]:
    with services.sessions() as session:
        return list(session.scalars(select(EntitlementGrant).order_by(EntitlementGrant.id)))


def event_count(services: Services) -> int:
    with services.sessions() as session:
        return session.scalar(select(func.count()).select_from(AuditEvent)) or 0


def values(event: AuditEvent) -> tuple[Any, Any]:
    return json.loads(event.old_values), json.loads(event.new_values)


def test_reconcile_inserts_the_wanted_grants(services: Services, people: dict[str, str]) -> None:
    report = reconcile(
        services, {(QA, ANN_DN): (people["ann"], None), (LAB, BOB_DN): (people["bob"], "Inner")}
    )
    assert report == GrantReport(granted=2, removed=0, changed=0)
    held = {
        (g.entitlement_id, g.account, g.identity_id, g.via, g.removed_at) for g in grants(services)
    }
    assert held == {
        (QA, ANN_DN, people["ann"], None, None),
        (LAB, BOB_DN, people["bob"], "Inner", None),
    }
    assert all(g.granted_at == services.clock.now() for g in grants(services))


def test_identical_reconcile_changes_nothing_and_records_no_event(
    services: Services, people: dict[str, str]
) -> None:
    wanted = {(QA, ANN_DN): (people["ann"], None), (LAB, GHOST_DN): (None, None)}
    reconcile(services, wanted)
    rows, count = [(g.id, g.identity_id, g.via) for g in grants(services)], event_count(services)
    assert reconcile(services, dict(wanted)) == GrantReport()
    assert [(g.id, g.identity_id, g.via) for g in grants(services)] == rows
    assert event_count(services) == count


def test_grant_no_longer_wanted_is_ended_by_the_source_and_its_row_kept(
    services: Services, people: dict[str, str], clock: FrozenClock
) -> None:
    reconcile(services, {(QA, ANN_DN): (people["ann"], None), (LAB, ANN_DN): (people["ann"], None)})
    clock.advance(timedelta(hours=1))
    report = reconcile(services, {(QA, ANN_DN): (people["ann"], None)})
    assert report == GrantReport(granted=0, removed=1, changed=0)
    ended = [g for g in grants(services) if g.entitlement_id == LAB]
    assert [(g.removed_at, g.removed_by) for g in ended] == [(clock.now(), "source")]
    assert [g.removed_at for g in grants(services) if g.entitlement_id == QA] == [None]


def test_changed_via_relinks_the_same_grant(services: Services, people: dict[str, str]) -> None:
    reconcile(services, {(QA, ANN_DN): (people["ann"], None)})
    (before,) = grants(services)
    report = reconcile(services, {(QA, ANN_DN): (people["ann"], "Inner")})
    assert report == GrantReport(granted=0, removed=0, changed=1)
    (after,) = grants(services)
    assert (after.id, after.via, after.removed_at) == (before.id, "Inner", None)
    old, new = values(events(services, GRANTS_CHANGED)[-1])
    assert (old["entitlements"], new["entitlements"]) == (
        ["QA Reviewers"],
        ["QA Reviewers (via Inner)"],
    )


def test_changed_identity_moves_the_grant_and_both_people_get_an_event(
    services: Services, people: dict[str, str]
) -> None:
    reconcile(services, {(QA, ANN_DN): (people["ann"], None)})
    first = len(events(services, GRANTS_CHANGED))
    report = reconcile(services, {(QA, ANN_DN): (people["bob"], None)})
    assert report.changed == 1
    assert [g.identity_id for g in grants(services)] == [people["bob"]]
    changes = {e.target_id: values(e) for e in events(services, GRANTS_CHANGED)[first:]}
    assert changes[people["ann"]][1]["entitlements"] == []
    assert changes[people["bob"]][1]["entitlements"] == ["QA Reviewers"]
    assert len(changes) == 2


def test_orphan_account_gets_an_orphans_event_and_no_person_event(
    services: Services, people: dict[str, str]
) -> None:
    reconcile(services, {(QA, GHOST_DN): (None, None)})
    (orphan,) = events(services, ORPHANS_CHANGED)
    assert (orphan.target_type, orphan.target_id) == ("entitlement", QA)
    assert values(orphan) == ({"accounts": []}, {"accounts": [GHOST_DN]})
    assert events(services, GRANTS_CHANGED) == []
    assert [(g.account, g.identity_id) for g in grants(services)] == [(GHOST_DN, None)]


def test_each_changed_identity_gets_exactly_one_event_with_old_and_new_names(
    services: Services, people: dict[str, str]
) -> None:
    reconcile(services, {(QA, ANN_DN): (people["ann"], None)})
    first = len(events(services, GRANTS_CHANGED))
    wanted = {
        (QA, ANN_DN): (people["ann"], None),
        (LAB, ANN_DN): (people["ann"], "Inner"),
        (QA, BOB_DN): (people["bob"], None),
    }
    reconcile(services, wanted)
    changed = events(services, GRANTS_CHANGED)[first:]
    assert sorted(e.target_id for e in changed) == sorted(people.values())
    by_person = {e.target_id: values(e) for e in changed}
    assert by_person[people["ann"]] == (
        {"source": "corp", "entitlements": ["QA Reviewers"]},
        {"source": "corp", "entitlements": ["Lab Admins (via Inner)", "QA Reviewers"]},
    )
    assert by_person[people["bob"]][0]["entitlements"] == []


def test_grant_ended_then_added_again_is_a_new_row_and_the_old_one_stays(
    services: Services, people: dict[str, str], clock: FrozenClock
) -> None:
    wanted = {(QA, ANN_DN): (people["ann"], None)}
    reconcile(services, wanted)
    clock.advance(timedelta(days=1))
    reconcile(services, {})
    clock.advance(timedelta(days=1))
    assert reconcile(services, wanted).granted == 1
    old, new = grants(services)
    assert (old.account, new.account) == (ANN_DN, ANN_DN)
    assert old.id != new.id
    assert (old.removed_at, new.removed_at) == (clock.now() - timedelta(days=1), None)
    assert new.granted_at == clock.now()


def test_grants_outside_the_scope_are_left_alone(
    services: Services, people: dict[str, str]
) -> None:
    reconcile(services, {(LAB, ANN_DN): (people["ann"], None)})
    assert reconcile(services, {}, scope=(QA,)) == GrantReport()
    assert [(g.entitlement_id, g.removed_at) for g in grants(services)] == [(LAB, None)]
