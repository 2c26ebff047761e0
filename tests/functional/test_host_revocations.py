"""Revoked host roles: listed for the host, reported done, verified by the next snapshot (REV-4)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask.testing import FlaskClient
from flask.wrappers import Response
from sqlalchemy import select

from idgov.audit.models import AuditEvent
from idgov.db import transaction
from idgov.entitlements.models import Entitlement, EntitlementGrant
from idgov.errors import Conflict, InvalidRequest, NotFound
from idgov.identity.models import Identity
from idgov.reviews.decisions.signoff import Credentials
from idgov.reviews.models import Remediation, ReviewItem
from idgov.wiring import Services
from tests.functional.hosts import HOST_ADDRESS, bearer, register, token_for
from tests.functional.people import PASSWORD, problem
from tests.functional.review_support import Org, campaign, org

BASE = "/api/v1/systems/lims"
ROLES = [
    {"name": "approver", "description": "Approves batch records", "owner": "alice"},
    {"name": "analyst", "description": "Enters results"},
]
EVERYONE = [
    {"username": "bob", "role": "approver"},
    {"username": "carol", "role": "approver"},
    {"username": "bob", "role": "analyst"},
]


class Host:
    """The host "lims" over HTTP with a real bearer token."""

    def __init__(self, client: FlaskClient, token: str, system: str = "lims") -> None:
        self.client, self.token, self.base = client, token, f"/api/v1/systems/{system}"

    def call(self, method: str, path: str, body: Any = None) -> Response:
        return self.client.open(
            self.base + path,
            method=method,
            json=body,
            headers=bearer(self.token),
            environ_base={"REMOTE_ADDR": HOST_ADDRESS},
        )

    def snapshot(self, assignments: list[dict[str, str]]) -> dict[str, Any]:
        answer = self.call("PUT", "/entitlements", {"roles": ROLES, "assignments": assignments})
        assert answer.status_code == 200, answer.get_data(as_text=True)
        found: dict[str, Any] = answer.get_json()
        return found

    def revocations(self, status: str = "open") -> list[dict[str, Any]]:
        answer = self.call("GET", f"/revocations?status={status}")
        assert answer.status_code == 200, answer.get_data(as_text=True)
        found: list[dict[str, Any]] = answer.get_json()["revocations"]
        return found

    def done(self, remediation_id: int | str, note: str | None = None) -> Response:
        return self.call("POST", f"/revocations/{remediation_id}/done", {"note": note})


@pytest.fixture
def team(services: Services) -> Org:
    return org(services)


@pytest.fixture
def lims(client: FlaskClient, services: Services, team: Org) -> Host:
    client_id, secret = register(services, "lims", ("entitlements",))
    host = Host(client, token_for(client, client_id, secret))
    host.snapshot(EVERYONE)
    return host


def revoke_bobs_approver(services: Services, team: Org) -> str:
    """A campaign over lims: alice (bob's and carol's manager) revokes bob's approver role,
    certifies the rest, and signs off; returns the campaign id."""
    campaign_id = campaign(services, fallback=team.admin, systems=["lims"])
    with transaction(services.sessions) as session:
        found = session.scalars(
            select(ReviewItem).where(ReviewItem.campaign_id == campaign_id)
        ).all()
        alice = session.get(Identity, team.alice)
        assert alice is not None
        mine = {f"{i.account}:{i.entitlement_name}": i.id for i in found}
        services.decisions.decide(
            session, alice, [mine["bob:approver"]], "revoke", "moved to production planning"
        )
        services.decisions.decide(
            session, alice, [mine["carol:approver"], mine["bob:analyst"]], "certify", None
        )
    services.signoffs.sign_off(campaign_id, team.alice, Credentials(PASSWORD), None)
    return campaign_id


def remediation(services: Services) -> Remediation:
    with services.sessions() as session:
        return session.scalars(select(Remediation)).one()


def audited(services: Services, action: str) -> list[dict[str, Any]]:
    with services.sessions() as session:
        rows = session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)
        ).all()
    return [json.loads(row.new_values) for row in rows]


@pytest.mark.req("REV-4")
@pytest.mark.req("AUD-1")
def test_a_revoked_role_is_listed_reported_done_and_verified_by_the_next_snapshot(
    services: Services, team: Org, lims: Host
) -> None:
    campaign_id = revoke_bobs_approver(services, team)
    [listed] = lims.revocations()
    assert (listed["role"], listed["username"], listed["status"]) == ("approver", "bob", "open")
    assert listed["campaign_id"] == campaign_id
    with services.sessions() as session:
        assert services.remediation.open_count(session, campaign_id) == 1

    reported = lims.done(listed["id"], note="CHG-1042")
    assert reported.status_code == 200, reported.get_data(as_text=True)
    assert reported.get_json()["status"] == "done"
    again = lims.done(listed["id"])  # idempotent: the same answer, no second event
    assert again.status_code == 200
    assert again.get_json() == reported.get_json()
    assert [e["note"] for e in audited(services, "review:remediation:done")] == ["CHG-1042"]
    assert lims.revocations() == []
    assert [r["id"] for r in lims.revocations("done")] == [listed["id"]]

    answer = lims.snapshot(
        [row for row in EVERYONE if row["role"] != "approver" or row["username"] != "bob"]
    )

    assert answer["revocations_verified"] == [listed["id"]]
    found = remediation(services)
    assert found.status == "verified"
    assert found.verified_by == f"snapshot:{answer['snapshot_id']}"
    assert found.verified_at is not None
    with services.sessions() as session:
        assert services.remediation.open_count(session, campaign_id) == 0
        grant = session.scalars(
            select(EntitlementGrant)
            .join(Entitlement)
            .where(Entitlement.key == "approver", EntitlementGrant.account == "bob")
        ).one()
    assert grant.removed_at is not None
    [verified] = audited(services, "review:remediation:verified")
    assert verified["verified_by"] == found.verified_by
    assert [r["id"] for r in lims.revocations("verified")] == [listed["id"]]
    refused = problem(lims.done(listed["id"]), 409, "conflict")
    assert "verified" in refused["detail"]


@pytest.mark.req("REV-4")
def test_a_revocation_reported_done_but_still_in_the_snapshot_is_open_again(
    services: Services, team: Org, lims: Host
) -> None:
    revoke_bobs_approver(services, team)
    [listed] = lims.revocations()
    lims.done(listed["id"])

    answer = lims.snapshot(EVERYONE)  # the host said done, yet bob still holds approver

    assert answer["revocations_reopened"] == [listed["id"]]
    [again] = lims.revocations()
    assert again["status"] == "open"
    assert again["last_error"] == f"still present in snapshot {answer['snapshot_id']}"
    assert again["done_at"] is None
    assert audited(services, "review:remediation:reopened")[0]["status"] == "open"

    later = lims.snapshot(EVERYONE)  # still there, never reported done again: stays open
    assert (later["revocations_verified"], later["revocations_reopened"]) == ([], [])
    assert [r["id"] for r in lims.revocations()] == [listed["id"]]


@pytest.mark.req("REV-4")
def test_an_open_revocation_is_verified_by_a_snapshot_without_it(
    services: Services, team: Org, lims: Host
) -> None:
    revoke_bobs_approver(services, team)
    [listed] = lims.revocations()
    answer = lims.snapshot(EVERYONE[1:])  # removed without a report: the snapshot proves it
    assert answer["revocations_verified"] == [listed["id"]]
    assert remediation(services).status == "verified"


@pytest.mark.req("ACC-2")
def test_a_host_sees_and_confirms_only_its_own_revocations(
    client: FlaskClient, services: Services, team: Org, lims: Host
) -> None:
    revoke_bobs_approver(services, team)
    [listed] = lims.revocations()
    eqms_id, eqms_secret = register(services, "eqms", ("entitlements",))
    eqms = Host(client, token_for(client, eqms_id, eqms_secret), system="eqms")
    as_lims = Host(client, eqms.token, system="lims")

    assert eqms.revocations() == []
    assert problem(eqms.done(listed["id"]), 404, "not-found")["detail"] == (
        problem(eqms.done("424242"), 404, "not-found")["detail"].replace(
            "424242", str(listed["id"])
        )
    )
    for refused in (as_lims.call("GET", "/revocations"), as_lims.done(listed["id"])):
        assert problem(refused, 404, "not-found")["detail"] == "unknown system"
    for bad_id in ("abc", "99999", "-1", "9" * 40):
        problem(lims.done(bad_id), 404, "not-found")
    problem(lims.call("GET", "/revocations?status=maybe"), 422, "invalid-request")
    problem(
        lims.call("POST", f"/revocations/{listed['id']}/done", {"note": 5}), 422, "invalid-request"
    )
    assert remediation(services).status == "open"
    refused = audited(services, "access:host-system:refused")
    assert [e["refusal"] for e in refused] == [
        "another system's revocation",
        "another system",
        "another system",
    ]


def test_revocations_are_paged(services: Services, team: Org, lims: Host) -> None:
    revoke_bobs_approver(services, team)
    first = lims.call("GET", "/revocations?limit=1").get_json()
    assert len(first["revocations"]) == 1
    assert first["next_after"] is None
    after = lims.call("GET", f"/revocations?after={first['revocations'][0]['id']}").get_json()
    assert after == {"revocations": [], "next_after": None}


def test_only_a_failed_remediation_is_retried(services: Services, team: Org, lims: Host) -> None:
    revoke_bobs_approver(services, team)
    found = remediation(services)
    with transaction(services.sessions) as session:
        with pytest.raises(InvalidRequest, match="reason"):
            services.remediation.retry(session, found.id, "  ")
        with pytest.raises(NotFound):
            services.remediation.retry(session, found.id + 1000, "checked")
        with pytest.raises(Conflict, match="only a failed one"):
            services.remediation.retry(session, found.id, "checked")
    assert remediation(services).status == "open"
