"""Closing a campaign and retrying a failed revocation over the API (SEQ-1, REV-4, REV-5)."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select, update

from idgov.db import transaction
from idgov.reviews.decisions.signoff import Credentials
from idgov.reviews.models import Remediation, ReviewItem
from idgov.wiring import Services
from tests.functional.api_client import sign_in
from tests.functional.people import PASSWORD, problem
from tests.functional.review_support import Org, campaign, entitlement, org


@pytest.fixture
def team(services: Services) -> Org:
    return org(services)


def revoke_and_sign(services: Services, team: Org, campaign_id: str) -> None:
    with services.sessions() as session:
        item = session.scalars(
            select(ReviewItem).where(ReviewItem.campaign_id == campaign_id)
        ).one()
    with transaction(services.sessions) as session:
        alice = services.identities.get(session, team.alice)
        services.decisions.decide(session, alice, [item.id], "revoke", "left the team")
    services.signoffs.sign_off(campaign_id, team.alice, Credentials(PASSWORD), None)


@pytest.mark.req("SEQ-1")
@pytest.mark.req("REV-5")
def test_close_over_the_api_waits_for_verification_unless_told(
    services: Services, app: Flask, team: Org
) -> None:
    entitlement(services, "qa-approvers", {"bob": team.bob})
    campaign_id = campaign(services, fallback=team.admin)
    admin = sign_in(app, "admin1")
    path = f"/api/v1/campaigns/{campaign_id}/close"
    problem(admin.post(path, {"reason": " "}), 400, "invalid-request")
    revoke_and_sign(services, team, campaign_id)  # every item signed: the campaign is closing
    waiting = admin.post(path, {"reason": "quarter over"})
    assert waiting.status_code == 409, waiting.get_data(as_text=True)
    closed = admin.post(path, {"reason": "quarter over", "with_exceptions": True})
    assert closed.status_code == 200, closed.get_data(as_text=True)
    assert closed.get_json()["state"] == "closed"
    assert set(closed.get_json()["evidence"]) == {"pdf", "csv", "json"}
    problem(admin.post(path, {"reason": "again"}), 409, "out-of-sequence")


@pytest.mark.req("REV-4")
def test_a_failed_revocation_is_retried_once_its_cause_is_fixed(
    services: Services, app: Flask, team: Org
) -> None:
    entitlement(services, "qa-approvers", {"bob": team.bob})
    campaign_id = campaign(services, fallback=team.admin)
    revoke_and_sign(services, team, campaign_id)
    with transaction(services.sessions) as session:
        session.execute(update(Remediation).values(status="failed", last_error="write-back off"))
        remediation_id = session.scalars(select(Remediation.id)).one()
    admin = sign_in(app, "admin1")
    path = f"/api/v1/remediations/{remediation_id}/retry"
    retried = admin.post(path, {"reason": "group_write_back turned on"})
    assert retried.status_code == 200, retried.get_data(as_text=True)
    assert retried.get_json() == {"id": remediation_id, "status": "open"}
    problem(admin.post(path, {"reason": "again"}), 409, "conflict")
    problem(sign_in(app, "alice").post(path, {"reason": "x"}), 403, "forbidden")
