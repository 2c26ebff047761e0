"""Closing campaigns: forward-only states, remediation before closed, exceptions (SEQ-1, REV-5)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from idgov.clock import FrozenClock
from idgov.db import transaction
from idgov.errors import Conflict, InvalidRequest, NotFound, OutOfSequence
from idgov.identity.models import Identity
from idgov.reviews.campaigns.closing import ClosingOutcome
from idgov.reviews.campaigns.services import FORWARD
from idgov.reviews.decisions.signoff import Credentials
from idgov.reviews.models import CampaignState, Remediation, ReviewItem
from idgov.wiring import Services
from tests.functional.people import PASSWORD, events
from tests.functional.review_support import Org, campaign, entitlement, load_campaign, org

STATES = list(CampaignState)


@pytest.fixture
def team(services: Services) -> Org:
    return org(services)


def item_ids(services: Services, campaign_id: str) -> dict[str, int]:
    """account -> item id (stage 1)."""
    with services.sessions() as session:
        rows = session.execute(
            select(ReviewItem.account, ReviewItem.id).where(
                ReviewItem.campaign_id == campaign_id, ReviewItem.stage == 1
            )
        ).all()
    return dict(rows)


def decide(services: Services, who: str, ids: list[int], decision: str, why: str | None) -> int:
    with transaction(services.sessions) as session:
        reviewer = session.get(Identity, who)
        assert reviewer is not None
        return services.decisions.decide(session, reviewer, ids, decision, why)


def sign(services: Services, campaign_id: str, who: str) -> None:
    services.signoffs.sign_off(campaign_id, who, Credentials(PASSWORD), None)


def close(
    services: Services, campaign_id: str, reason: str = "quarter done", *, exceptions: bool = False
) -> ClosingOutcome:
    return services.closer.close(campaign_id, "Ada Admin", reason, with_exceptions=exceptions)


def verify_remediation(services: Services, campaign_id: str, clock: FrozenClock) -> None:
    """What the next snapshot does for a carried-out revocation (REV-4)."""
    with transaction(services.sessions) as session:
        session.execute(
            update(Remediation)
            .where(Remediation.campaign_id == campaign_id)
            .values(
                status="verified",
                done_at=clock.now(),
                verified_at=clock.now() + timedelta(hours=1),
                verified_by="snapshot 7",
            )
        )


def reviewed(services: Services, team: Org) -> str:
    """bob's access revoked and carol's certified by alice, signed; dave's (no manager) is
    left to the fallback reviewer, admin1, undecided."""
    entitlement(services, "qa-approvers", {"bob": team.bob, "carol": team.carol, "dave": team.dave})
    campaign_id = campaign(services, fallback=team.admin)
    ids = item_ids(services, campaign_id)
    decide(services, team.alice, [ids["bob"]], "revoke", "left the QA team")
    decide(services, team.alice, [ids["carol"]], "certify", None)
    sign(services, campaign_id, team.alice)
    return campaign_id


@pytest.mark.req("SEQ-1")
def test_states_move_forward_one_step_only(services: Services, team: Org) -> None:
    entitlement(services, "qa-approvers", {"bob": team.bob})
    with transaction(services.sessions) as session:
        definition_id = services.campaigns.get(
            session, campaign(services, fallback=team.admin)
        ).definition_id
        drafted = services.campaigns.draft(session, definition_id, "test")
        for state in STATES:
            for target in STATES:
                drafted.state = state
                if FORWARD.get(state) == target:
                    continue
                with pytest.raises(OutOfSequence, match="never back"):
                    services.campaigns.advance(session, drafted, target, "try")
        session.rollback()


@pytest.mark.req("SEQ-1")
@pytest.mark.req("REV-5")
def test_close_with_everything_signed_and_nothing_revoked(services: Services, team: Org) -> None:
    entitlement(services, "qa-approvers", {"bob": team.bob})
    campaign_id = campaign(services, fallback=team.admin)
    decide(services, team.alice, list(item_ids(services, campaign_id).values()), "certify", None)
    sign(services, campaign_id, team.alice)  # every item signed: closing by itself
    assert load_campaign(services, campaign_id).state == CampaignState.CLOSING
    outcome = close(services, campaign_id)
    assert outcome.moved == ("closed",)
    assert (outcome.closed, outcome.not_signed, outcome.unverified) == (True, 0, 0)
    assert sorted(outcome.evidence) == ["csv", "json", "pdf"]
    assert all(digest.startswith("sha256:") for digest in outcome.evidence.values())
    closed = events(services, "review:campaign:closed")
    assert len(closed) == 1
    assert closed[0].reason == "quarter done [closed by Ada Admin; every remediation verified]"
    sealed = events(services, "review:evidence:generated")
    assert [e.new_values.count('"occasion":"closing"') for e in sealed] == [1, 1, 1]
    assert closed[0].seq < sealed[0].seq  # in the same transaction, after the move
    with pytest.raises(OutOfSequence, match="closed already"):
        close(services, campaign_id)


@pytest.mark.req("SEQ-1")
@pytest.mark.req("REV-4")
@pytest.mark.req("REV-5")
def test_closing_waits_for_remediation_or_closes_with_exceptions(
    services: Services, team: Org, clock: FrozenClock
) -> None:
    campaign_id = reviewed(services, team)
    clock.advance(timedelta(days=31))  # dave's item is overdue now
    outcome = close(services, campaign_id, "auditors are here")
    # Decisions stop; the unsigned item is an exception, never certified; bob's revocation
    # is not verified, so the campaign waits in closing.
    assert (outcome.moved, outcome.state) == (("closing",), "closing")
    assert (outcome.not_signed, outcome.unverified, outcome.evidence) == (1, 1, {})
    moved = events(services, "review:campaign:closing")[-1]
    assert "1 item not signed off is an exception, never certified" in (moved.reason or "")
    with pytest.raises(Conflict, match=r"1 remediation of campaign .* is not verified yet"):
        close(services, campaign_id)
    with pytest.raises(InvalidRequest, match="reason is required") as refused:
        close(services, campaign_id, "  ", exceptions=True)
    assert refused.value.extensions["field"] == "reason"
    outcome = close(services, campaign_id, "remediation tracked in CAPA-12", exceptions=True)
    assert (outcome.moved, outcome.state, outcome.unverified) == (("closed",), "closed", 1)
    assert "with exceptions: 1 remediation not verified" in (
        events(services, "review:campaign:closed")[-1].reason or ""
    )
    with services.sessions() as session:
        pack = services.evidence.pack(session, campaign_id)
        assert pack.totals.exceptions["overdue"] == 1
        assert pack.totals.exceptions["remediation-unverified"] == 1
        assert pack.totals.certified == 1  # carol only: nothing was certified by closing


@pytest.mark.req("REV-4")
def test_closing_closes_once_remediation_is_verified(
    services: Services, team: Org, clock: FrozenClock
) -> None:
    campaign_id = reviewed(services, team)
    assert close(services, campaign_id).state == "closing"
    verify_remediation(services, campaign_id, clock)
    outcome = close(services, campaign_id, "all verified")
    assert (outcome.moved, outcome.unverified, outcome.closed) == (("closed",), 0, True)


@pytest.mark.req("SEQ-1")
@pytest.mark.req("REV-3")
def test_closed_campaigns_refuse_decisions_and_sign_off(services: Services, team: Org) -> None:
    campaign_id = reviewed(services, team)
    close(services, campaign_id, exceptions=True)
    ids = item_ids(services, campaign_id)
    with pytest.raises(Conflict, match="decisions are closed"):
        decide(services, team.admin, [ids["dave"]], "certify", None)
    with pytest.raises(Conflict, match="sign-off is closed"):
        sign(services, campaign_id, team.admin)


def test_drafts_and_unknown_campaigns_cannot_close(services: Services, team: Org) -> None:
    entitlement(services, "qa-approvers", {"bob": team.bob})
    with transaction(services.sessions) as session:
        definition_id = services.campaigns.get(
            session, campaign(services, fallback=team.admin)
        ).definition_id
        draft_id = services.campaigns.draft(session, definition_id, "test").id
    with pytest.raises(OutOfSequence, match="is a draft"):
        close(services, draft_id)
    with pytest.raises(NotFound, match="no campaign"):
        close(services, "no-such-campaign")
    assert load_campaign(services, draft_id).state == CampaignState.DRAFT
