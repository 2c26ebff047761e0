"""A campaign from start to sign-off: assignment, decisions, signatures, states (REV-1..3)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from idgov.clock import FrozenClock
from idgov.db import transaction
from idgov.errors import Conflict, InvalidRequest, NotFound, OutOfSequence
from idgov.identity.models import Identity
from idgov.reviews.campaigns.definition import NewDefinition
from idgov.reviews.campaigns.schedule import QUARTERLY
from idgov.reviews.decisions.signoff import Credentials
from idgov.reviews.models import CampaignState, Remediation, ReviewItem, ReviewSignoff
from idgov.wiring import Services
from tests.functional.people import PASSWORD, events
from tests.functional.review_support import Org, campaign, entitlement, load_campaign, org


@pytest.fixture
def team(services: Services) -> Org:
    return org(services)


def items(services: Services, campaign_id: str) -> dict[str, ReviewItem]:
    with services.sessions() as session:
        found = session.scalars(
            select(ReviewItem).where(ReviewItem.campaign_id == campaign_id)
        ).all()
        for item in found:
            session.expunge(item)
    return {f"{item.account}:{item.entitlement_name}:{item.stage}": item for item in found}


def decide(services: Services, who: str, ids: list[int], decision: str, why: str | None) -> int:
    with transaction(services.sessions) as session:
        reviewer = session.get(Identity, who)
        assert reviewer is not None
        return services.decisions.decide(session, reviewer, ids, decision, why)


@pytest.mark.req("REV-1")
@pytest.mark.req("REV-2")
def test_start_freezes_the_population_with_reviewers_never_the_holder(
    services: Services, team: Org
) -> None:
    entitlement(services, "qa-approvers", {"bob": team.bob, "alice": team.alice})
    campaign_id = campaign(services, fallback=team.alice)
    found = items(services, campaign_id)
    assert found["bob:qa-approvers:1"].reviewer_id == team.alice  # bob's manager
    # alice's manager is admin1; as the fallback she never reviews herself either.
    assert found["alice:qa-approvers:1"].reviewer_id == team.admin
    started = load_campaign(services, campaign_id)
    assert started.state == CampaignState.ACTIVE
    assert started.item_count == 2
    assert started.population_hash.startswith("sha256:")


@pytest.mark.req("REV-3")
@pytest.mark.req("SEQ-1")
@pytest.mark.req("ACC-2")
def test_decide_sign_off_and_close_in_order(services: Services, team: Org) -> None:
    entitlement(services, "qa-approvers", {"bob": team.bob, "alice": team.alice})
    campaign_id = campaign(services, fallback=team.admin)
    found = items(services, campaign_id)
    bob_item, alice_item = found["bob:qa-approvers:1"], found["alice:qa-approvers:1"]
    with pytest.raises(InvalidRequest, match="justification"):
        decide(services, team.alice, [bob_item.id], "revoke", None)
    # Another reviewer's item answers as an unknown one, and the refusal is audited (ACC-2).
    with pytest.raises(NotFound, match=r"no review items \[\d+\] in this campaign") as refused:
        decide(services, team.alice, [alice_item.id], "certify", None)
    assert refused.value.recorded
    with pytest.raises(NotFound) as unknown:
        decide(services, team.alice, [2**31 - 1], "certify", None)
    assert str(unknown.value.detail).replace(str(2**31 - 1), "N") == str(
        refused.value.detail
    ).replace(str(alice_item.id), "N")
    [audited] = events(services, "review:decision:refused")
    assert audited.target_id == team.alice
    assert '"refusal":"not-assigned"' in audited.new_values
    assert decide(services, team.alice, [bob_item.id], "revoke", "left the QA team") == 1
    with pytest.raises(Conflict, match="undecided"):
        services.signoffs.sign_off(campaign_id, team.admin, Credentials(PASSWORD), None)
    signed = services.signoffs.sign_off(campaign_id, team.alice, Credentials(PASSWORD), None)
    assert signed.item_count == 1
    with services.sessions() as session:
        remediation = session.scalars(select(Remediation)).one()
    assert (remediation.status, remediation.kind) == ("open", "directory-group")
    decide(services, team.admin, [alice_item.id], "certify", None)
    services.signoffs.sign_off(campaign_id, team.admin, Credentials(PASSWORD), None)
    assert load_campaign(services, campaign_id).state == CampaignState.CLOSING
    with transaction(services.sessions) as session:
        closing = services.campaigns.get(session, campaign_id)
        with pytest.raises(OutOfSequence):
            services.campaigns.advance(session, closing, CampaignState.ACTIVE, "back")
    with services.sessions() as session:
        assert len(session.scalars(select(ReviewSignoff)).all()) == 2


def test_an_empty_scope_is_refused(services: Services, team: Org) -> None:
    entitlement(services, "qa-approvers", {"bob": team.bob})
    with pytest.raises(Conflict, match="nothing is in this campaign's scope"):
        campaign(services, fallback=team.admin, systems=["nosuch"])


@pytest.mark.req("REV-1")
def test_a_paused_definition_does_not_start_on_its_schedule(
    services: Services, team: Org, clock: FrozenClock
) -> None:
    entitlement(services, "qa-approvers", {"bob": team.bob})
    with transaction(services.sessions) as session:
        definition = services.campaigns.define(
            session,
            NewDefinition(
                name="Quarterly QA",
                scope={"all": True},
                reviewer_rule="manager",
                fallback_reviewer_id=team.admin,
                schedule=QUARTERLY,
            ),
            created_by="test",
        )
        definition_id = definition.id
    clock.advance(timedelta(days=120))  # a quarter start has passed
    with transaction(services.sessions) as session:
        services.campaigns.pause(session, definition_id, "audit season", paused=True)
        assert services.campaigns.due_definitions(session, clock.now()) == []
        with pytest.raises(Conflict, match="paused already"):
            services.campaigns.pause(session, definition_id, "again", paused=True)
        services.campaigns.pause(session, definition_id, "back to normal", paused=False)
        assert [d.id for d in services.campaigns.due_definitions(session, clock.now())] == [
            definition_id
        ]
    assert [e.action for e in events(services, "review:definition:paused")] == [
        "review:definition:paused"
    ]


@pytest.mark.req("REV-6")
def test_a_suspended_holder_is_an_orphan_and_unsigned_decisions_certify_nothing(
    services: Services, team: Org
) -> None:
    entitlement(services, "qa-approvers", {"bob": team.bob, "carol": team.carol})
    with transaction(services.sessions) as session:
        carol = services.identities.get(session, team.carol)
        services.identities.transition(session, carol, "suspended", "leave of absence")
    campaign_id = campaign(services, fallback=team.admin)
    found = items(services, campaign_id)
    assert found["carol:qa-approvers:1"].flags == "orphan"  # no active person (REV-6)
    assert found["carol:qa-approvers:1"].suggestion == "revoke"  # suggested, not decided
    assert found["carol:qa-approvers:1"].decision is None
    decide(services, team.alice, [i.id for i in found.values()], "certify", None)
    services.closer.close(campaign_id, "Ada Admin", "quarter over", with_exceptions=True)
    with services.sessions() as session:
        totals = services.evidence.pack(session, campaign_id).totals
    assert (totals.certified, totals.unsigned, totals.signed) == (0, 2, 0)
