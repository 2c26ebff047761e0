"""Closing a campaign and retrying a failed revocation from the admin page (REV-4, REV-5)."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, update

from idgov.db import transaction
from idgov.reviews.decisions.signoff import Credentials
from idgov.reviews.models import Remediation, ReviewItem
from idgov.wiring import Services
from tests.functional.people import PASSWORD, login, page_csrf
from tests.functional.review_support import Org, campaign, entitlement, load_campaign, org


@pytest.fixture
def team(services: Services) -> Org:
    return org(services)


def revoked_and_signed(services: Services, team: Org) -> str:
    entitlement(services, "qa-approvers", {"bob": team.bob})
    campaign_id = campaign(services, fallback=team.admin)
    with transaction(services.sessions) as session:
        item = session.scalars(select(ReviewItem)).one()
        alice = services.identities.get(session, team.alice)
        services.decisions.decide(session, alice, [item.id], "revoke", "left the team")
    services.signoffs.sign_off(campaign_id, team.alice, Credentials(PASSWORD), None)
    return campaign_id


@pytest.mark.req("REV-5")
def test_an_admin_closes_from_the_campaign_page(
    services: Services, client: FlaskClient, team: Org
) -> None:
    campaign_id = revoked_and_signed(services, team)
    login(client, "admin1")
    page = f"/admin/reviews/{campaign_id}"
    shown = client.get(page).get_data(as_text=True)
    assert "Close the campaign" in shown
    assert "Remediation" in shown
    assert "<strong>open</strong>" in shown  # the revocation waits for its verification
    form = {"csrf_token": page_csrf(client, page), "reason": "quarter over"}
    waiting = client.post(f"{page}/close", data=form, follow_redirects=True)
    assert load_campaign(services, campaign_id).state == "closing"  # waits for remediation
    said = waiting.get_data(as_text=True)
    assert f"1 remediation of campaign {campaign_id} is not verified yet" in said
    client.post(f"{page}/close", data={**form, "with_exceptions": "yes"})
    assert load_campaign(services, campaign_id).state == "closed"
    assert "Close the campaign" not in client.get(page).get_data(as_text=True)


@pytest.mark.req("REV-4")
def test_an_admin_retries_a_failed_revocation_from_the_page(
    services: Services, client: FlaskClient, team: Org
) -> None:
    campaign_id = revoked_and_signed(services, team)
    with transaction(services.sessions) as session:
        session.execute(update(Remediation).values(status="failed", last_error="write-back off"))
        remediation_id = session.scalars(select(Remediation.id)).one()
    login(client, "admin1")
    page = f"/admin/reviews/{campaign_id}"
    assert "write-back off" in client.get(page).get_data(as_text=True)
    client.post(
        f"/admin/reviews/remediations/{remediation_id}/retry",
        data={
            "csrf_token": page_csrf(client, page),
            "reason": "turned on",
            "campaign": campaign_id,
        },
    )
    with services.sessions() as session:
        assert session.get(Remediation, remediation_id).status == "open"  # type: ignore[union-attr]
    reviewer = client.application.test_client()
    login(reviewer, "alice")  # a reviewer may not close, even with a valid form token
    token = page_csrf(reviewer, "/reviews")
    refused = reviewer.post(f"{page}/close", data={"csrf_token": token, "reason": "x"})
    assert refused.status_code == 403
    assert load_campaign(services, campaign_id).state == "closing"


@pytest.mark.req("REV-5")
def test_the_page_labels_the_closing_time_decisions_closed_not_signed_off(
    services: Services, client: FlaskClient, team: Org
) -> None:
    """Closing before anyone signed: the closing time is when decisions stopped; calling it
    "Signed off" would claim sign-offs that never happened."""
    entitlement(services, "qa-approvers", {"bob": team.bob})
    campaign_id = campaign(services, fallback=team.admin)
    login(client, "admin1")
    page = f"/admin/reviews/{campaign_id}"
    client.post(f"{page}/close", data={"csrf_token": page_csrf(client, page), "reason": "x"})
    shown = client.get(page).get_data(as_text=True)
    assert load_campaign(services, campaign_id).state == "closed"
    assert "<dt>Decisions closed</dt>" in shown
    assert "Signed off" not in shown
