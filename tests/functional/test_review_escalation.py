"""Reminders, escalation, scheduled starts and reassignment of access reviews (REV-1, REV-5)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from idgov.alerts.models import Alert, AlertDelivery
from idgov.clock import FrozenClock
from idgov.db import transaction
from idgov.errors import Conflict, Forbidden, NotFound, UnprocessableRequest
from idgov.identity.models import Identity
from idgov.reviews.campaigns.definition import NewDefinition
from idgov.reviews.campaigns.schedule import QUARTERLY
from idgov.reviews.models import Campaign, CampaignDefinition, CampaignState, ReviewItem
from idgov.wiring import Services
from idgov.worker import Worker, scheduled_jobs
from tests.functional.people import events
from tests.functional.review_support import Org, campaign, entitlement, org

DAY = timedelta(days=1)


@pytest.fixture
def team(services: Services) -> Org:
    return org(services)


def tick(services: Services) -> int:
    with transaction(services.sessions) as session:
        return services.escalation.run(session)


def items(services: Services, campaign_id: str | None = None) -> dict[str, ReviewItem]:
    """Items by "account:entitlement"."""
    with services.sessions() as session:
        query = select(ReviewItem)
        if campaign_id is not None:
            query = query.where(ReviewItem.campaign_id == campaign_id)
        found = session.scalars(query).all()
        for item in found:
            session.expunge(item)
    return {f"{item.account}:{item.entitlement_name}": item for item in found}


def notices(services: Services, kind: str) -> list[tuple[str, str]]:
    """(recipient, summary) of every delivery of alerts of `kind`."""
    with services.sessions() as session:
        rows = session.execute(
            select(AlertDelivery.recipient, Alert.summary)
            .join(Alert, Alert.id == AlertDelivery.alert_id)
            .where(Alert.kind == kind)
            .order_by(AlertDelivery.recipient)
        ).all()
    return [(row.recipient, row.summary) for row in rows]


def scheduled(services: Services, fallback: str, **scope: object) -> str:
    with transaction(services.sessions) as session:
        definition = services.campaigns.define(
            session,
            NewDefinition(
                name="Quarterly QA access",
                scope=scope or {"all": True},
                reviewer_rule="manager",
                fallback_reviewer_id=fallback,
                schedule=QUARTERLY,
            ),
            created_by="test",
        )
        return definition.id


def campaigns(services: Services) -> list[Campaign]:
    with services.sessions() as session:
        return list(session.scalars(select(Campaign).order_by(Campaign.started_at)))


@pytest.mark.req("REV-5")
def test_each_reviewer_is_reminded_once_per_campaign(
    services: Services, team: Org, clock: FrozenClock
) -> None:
    entitlement(services, "qa-approvers", {"bob": team.bob, "carol": team.carol})
    entitlement(services, "lims-admin", {"alice": team.alice})
    campaign(services, fallback=team.admin)
    assert tick(services) == 0  # due in 30 days: nothing yet

    clock.advance(23 * DAY + timedelta(hours=1))  # inside the 7 reminder days
    assert tick(services) == 2
    told = notices(services, "review-reminder")
    assert [recipient for recipient, _ in told] == ["admin1@example.com", "alice@example.com"]
    assert "2 items of the access review" in dict(told)["alice@example.com"]
    assert " await your decision" in dict(told)["alice@example.com"]
    one = dict(told)["admin1@example.com"]  # alice's own access, for her manager
    assert one.startswith("1 item of the access review")
    assert " awaits your decision" in one
    assert all(item.reminded_at == clock.now() for item in items(services).values())

    assert tick(services) == 0  # the same tick again
    clock.advance(DAY)
    assert tick(services) == 0  # and the next day: reminded once, not per item or per day
    assert len(notices(services, "review-reminder")) == 2
    assert len(events(services, "review:campaign:reminded")) == 2


@pytest.mark.req("AUD-1")
@pytest.mark.req("REV-5")
@pytest.mark.req("REV-6")
def test_overdue_items_escalate_to_the_manager_then_the_fallback_and_are_never_decided(
    services: Services, team: Org, clock: FrozenClock
) -> None:
    entitlement(services, "qa-approvers", {"bob": team.bob, "carol": team.carol})
    campaign(services, fallback=team.dave)
    clock.advance(31 * DAY)
    assert tick(services) == 2
    for item in items(services).values():
        assert (item.reviewer_id, item.escalation) == (team.admin, 1)  # alice's manager
        assert item.due_at == clock.now() + 7 * DAY
        assert item.decision is None
    moved = events(services, "review:item:escalated")
    assert len(moved) == 2
    assert json.loads(moved[0].old_values or "")["reviewer_id"] == team.alice
    assert json.loads(moved[0].new_values or "")["reviewer_id"] == team.admin
    # One notice to the new reviewer and one to the old, for both items together.
    assert [r for r, _ in notices(services, "review-assigned")] == ["admin1@example.com"]
    assert [r for r, _ in notices(services, "review-moved-away")] == ["alice@example.com"]

    assert tick(services) == 0  # idempotent within a tick
    clock.advance(6 * DAY)
    assert tick(services) == 0  # still inside the escalation grace
    clock.advance(2 * DAY)
    assert tick(services) == 2
    for item in items(services).values():
        assert (item.reviewer_id, item.escalation) == (team.dave, 2)  # the fallback reviewer

    clock.advance(30 * DAY)
    assert tick(services) == 0  # the end of the chain: overdue, still undecided
    assert all(item.decision is None for item in items(services).values())
    assert events(services, "review:item:decided") == []
    assert len(events(services, "review:item:escalated")) == 4


@pytest.mark.req("REV-2")
@pytest.mark.req("REV-5")
def test_escalation_never_reaches_the_holder(
    services: Services, team: Org, clock: FrozenClock
) -> None:
    # owner rule: bob reviews both; alice (bob's manager) holds one, admin1 - the manager's
    # manager and the fallback reviewer - the other.
    entitlement(services, "batch-release", {"admin1": team.admin}, owner=team.bob)
    entitlement(services, "qa-release", {"alice": team.alice}, owner=team.bob)
    campaign(services, fallback=team.admin, rule="owner")
    clock.advance(31 * DAY)
    tick(services)
    found = items(services)
    # alice's item skips her (bob's manager) and goes down the fallback chain.
    assert (found["alice:qa-release"].reviewer_id, found["alice:qa-release"].escalation) == (
        team.admin,
        2,
    )
    assert found["admin1:batch-release"].reviewer_id == team.alice
    clock.advance(8 * DAY)
    tick(services)
    # The fallback chain for admin1's item is admin1 alone: it stays with alice.
    held = items(services)["admin1:batch-release"]
    assert (held.reviewer_id, held.escalation) == (team.alice, 2)
    holders = {item.id: item.identity_id for item in items(services).values()}
    for event in events(services, "review:item:escalated"):
        new = json.loads(event.new_values or "")["reviewer_id"]
        assert new != holders[int(event.target_id)]


@pytest.mark.req("REV-1")
def test_scheduled_definitions_start_quarterly_once_each_time(
    services: Services, team: Org, clock: FrozenClock
) -> None:
    entitlement(services, "qa-approvers", {"bob": team.bob})
    definition_id = scheduled(services, team.admin)
    assert tick(services) == 0
    assert campaigns(services) == []
    clock.advance(datetime(2026, 4, 1, 6, 0, tzinfo=UTC) - clock.now())  # Q2 begins
    worker = Worker(
        services, [j for j in scheduled_jobs(services) if j.name == "review-escalation"]
    )
    worker.run_once()
    (started,) = campaigns(services)
    assert (started.state, started.started_by) == (CampaignState.ACTIVE, "idgov scheduler")
    assert started.item_count == 1
    clock.advance(timedelta(hours=1))
    assert tick(services) == 0  # not again in the same quarter
    clock.advance(datetime(2026, 7, 1, 6, 0, tzinfo=UTC) - clock.now())
    tick(services)
    assert len(campaigns(services)) == 2
    with services.sessions() as session:
        definition = session.get(CampaignDefinition, definition_id)
        assert definition is not None
        assert definition.last_started_at == clock.now()


@pytest.mark.req("REV-1")
def test_a_refused_scheduled_start_alerts_once_and_waits_for_the_next_time(
    services: Services, team: Org, clock: FrozenClock
) -> None:
    with transaction(services.sessions) as session:
        services.policies.change(
            session, "alerting", {"security_emails": ["soc@example.com"]}, "test", "test"
        )
    entitlement(services, "qa-approvers", {"bob": team.bob})
    definition_id = scheduled(services, team.admin, systems=["lims"])  # nothing from lims yet
    clock.advance(datetime(2026, 4, 1, 6, 0, tzinfo=UTC) - clock.now())
    assert tick(services) == 1
    assert campaigns(services) == []  # no draft, no items left behind
    told = notices(services, "review-start-refused")
    assert sorted(r for r, _ in told) == ["admin1@example.com", "soc@example.com"]
    (refused,) = events(services, "review:definition:start-refused")
    assert refused.target_id == definition_id
    assert "nothing is in this campaign's scope" in (refused.reason or "")
    assert json.loads(refused.new_values or "")["next_start_at"].startswith("2026-07-01T06:00")

    for _ in range(3):  # later ticks do not retry, nor alert again
        clock.advance(timedelta(minutes=1))
        assert tick(services) == 0
    assert len(notices(services, "review-start-refused")) == 2
    clock.advance(datetime(2026, 7, 1, 6, 0, tzinfo=UTC) - clock.now())
    assert tick(services) == 1
    assert len(events(services, "review:definition:start-refused")) == 2


@pytest.mark.req("AUD-1")
@pytest.mark.req("REV-2")
def test_reassignment_refuses_the_holder_and_inactive_reviewers(
    services: Services, team: Org
) -> None:
    entitlement(services, "qa-approvers", {"bob": team.bob, "carol": team.carol})
    campaign_id = campaign(services, fallback=team.admin)
    found = items(services)
    bob_item, carol_item = found["bob:qa-approvers"].id, found["carol:qa-approvers"].id

    def reassign(ids: list[int], to: str, **extra: str) -> int:
        with transaction(services.sessions) as session:
            admin = session.get(Identity, team.admin)
            assert admin is not None
            return services.escalation.reassign(session, ids, to, admin, "leave", **extra)

    with pytest.raises(Forbidden, match="own access"):
        reassign([bob_item, carol_item], team.bob)
    with transaction(services.sessions) as session:
        services.identities.transition(
            session, services.identities.get(session, team.dave), "suspended", "leave"
        )
    with pytest.raises(UnprocessableRequest, match="active"):
        reassign([bob_item], team.dave)
    with pytest.raises(NotFound):
        reassign([bob_item], team.carol, campaign_id="another")
    assert {item.reviewer_id for item in items(services).values()} == {team.alice}

    assert reassign([bob_item], team.carol, campaign_id=campaign_id) == 1
    assert items(services)["bob:qa-approvers"].reviewer_id == team.carol
    (event,) = events(services, "review:item:reassigned")
    assert (event.reason, json.loads(event.new_values or "")["by"]) == ("leave", team.admin)
    with transaction(services.sessions) as session:
        carol = session.get(Identity, team.carol)
        assert carol is not None
        services.decisions.decide(session, carol, [bob_item], "certify", None)
    with pytest.raises(Conflict, match="decided already"):
        reassign([bob_item], team.admin)
    with services.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Alert)) == 2  # carol, alice
