"""The access-review JSON API over HTTP: definitions, starts, items, decisions, sign-off."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from idgov.db import transaction
from idgov.reviews.campaigns.schedule import QUARTERLY
from idgov.reviews.models import CampaignState
from idgov.wiring import Services
from tests.functional.api_client import Api, sign_in
from tests.functional.people import PASSWORD, events, person, problem
from tests.functional.review_support import Org, entitlement, org

ORPHANS = 150


@pytest.fixture
def team(services: Services) -> Org:
    found = org(services)
    entitlement(services, "qa-approvers", {"bob": found.bob, "carol": found.carol})
    entitlement(services, "lims-admin", {"alice": found.alice})
    # Accounts nobody owns: flagged, suggested for revocation, left to the fallback (alice).
    legacy = {f"svc{n:03d}": None for n in range(ORPHANS)}
    entitlement(services, "legacy-app", legacy, source="legacy", system=True)
    return found


def define(api: Api, fallback: str, **extra: Any) -> dict[str, Any]:
    body = {"name": "QA access", "scope": {"all": True}, "reviewer_rule": "manager"}
    response = api.post(
        "/api/v1/review-definitions", {**body, "fallback_reviewer_id": fallback, **extra}
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    return dict(response.get_json())


def start(api: Api, definition_id: str, query: str = "") -> dict[str, Any]:
    response = api.post(f"/api/v1/review-definitions/{definition_id}/campaigns{query}")
    assert response.status_code == 201, response.get_data(as_text=True)
    return dict(response.get_json())


def item_ids(api: Api, campaign_id: str, query: str = "mine=true&limit=1000") -> dict[str, int]:
    response = api.get(f"/api/v1/campaigns/{campaign_id}/items?{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    return {
        f"{i['account']}:{i['entitlement_name']}": i["id"] for i in response.get_json()["items"]
    }


def fields(response: Any) -> set[str]:
    body = problem(response, 422, "invalid-request")
    return {error["field"] for error in body["errors"]}


@pytest.mark.req("REV-1")
@pytest.mark.req("REV-3")
@pytest.mark.req("REV-6")
@pytest.mark.req("SEQ-1")
def test_a_campaign_from_definition_to_signed_decisions(
    app: Flask, services: Services, team: Org
) -> None:
    admin, alice = sign_in(app, "admin1"), sign_in(app, "alice")
    definition = define(admin, team.alice)
    assert definition["schedule"] == QUARTERLY  # quarterly unless said otherwise
    assert definition["next_start_at"].startswith("2026-04-01T06:00:00")
    listed = admin.get("/api/v1/review-definitions").get_json()["definitions"]
    assert [d["id"] for d in listed] == [definition["id"]]

    campaign = start(admin, definition["id"])
    assert (campaign["state"], campaign["item_count"]) == ("active", ORPHANS + 3)
    cid = campaign["id"]
    assert [
        c["id"] for c in admin.get("/api/v1/campaigns?state=active").get_json()["campaigns"]
    ] == [cid]
    assert admin.get("/api/v1/campaigns?state=draft").get_json()["campaigns"] == []

    page = alice.get(
        f"/api/v1/campaigns/{cid}/items?mine=true&status=undecided&limit=100"
    ).get_json()
    assert (len(page["items"]), page["total"]) == (100, ORPHANS + 2)
    orphan = next(i for i in page["items"] if i["entitlement_name"] == "legacy-app")
    assert (orphan["flags"], orphan["suggestion"], orphan["decision"]) == (
        ["orphan"],
        "revoke",
        None,
    )
    rest = alice.get(f"/api/v1/campaigns/{cid}/items?mine=true&limit=100&offset=100").get_json()
    assert len(rest["items"]) == ORPHANS + 2 - 100

    mine = item_ids(alice, cid)
    legacy = [i for key, i in mine.items() if key.endswith(":legacy-app")]
    decided = alice.post(
        f"/api/v1/campaigns/{cid}/decisions",
        {"items": legacy, "decision": "revoke", "justification": "no owner: orphaned"},
    )
    assert decided.get_json() == {"decided": ORPHANS, "decision": "revoke"}
    people = [mine["bob:qa-approvers"], mine["carol:qa-approvers"]]
    assert (
        alice.post(
            f"/api/v1/campaigns/{cid}/decisions", {"items": people, "decision": "certify"}
        ).status_code
        == 200
    )
    assert len(events(services, "review:item:decided")) == ORPHANS + 2

    wrong = alice.post(f"/api/v1/campaigns/{cid}/signoff", {"password": "not-my-password"})
    problem(wrong, 401, "invalid-credentials")
    signed = alice.post(f"/api/v1/campaigns/{cid}/signoff", {"password": PASSWORD})
    assert signed.status_code == 201, signed.get_data(as_text=True)
    body = signed.get_json()
    assert body["items"] == ORPHANS + 2
    assert body["digest"].startswith("sha256:")
    assert (body["manifestation"]["meaning"], body["manifestation"]["username"]) == (
        "review",
        "alice",
    )
    assert body["signature_id"]

    detail = admin.get(f"/api/v1/campaigns/{cid}").get_json()
    assert detail["counts"] == {
        "items": ORPHANS + 3,
        "decided": ORPHANS + 2,
        "undecided": 1,
        "certified": 2,
        "revoked": ORPHANS,
        "signed_off": ORPHANS + 2,
        "overdue": 0,
    }
    progress = {row["username"]: row for row in detail["reviewers"]}
    assert (progress["alice"]["signed_off"], progress["admin1"]["items"]) == (ORPHANS + 2, 1)
    assert detail["completeness"]["items"] == ORPHANS + 3


@pytest.mark.req("ACC-2")
@pytest.mark.req("REV-2")
def test_reviewers_see_and_decide_only_their_own_items(
    app: Flask, services: Services, team: Org
) -> None:
    admin, alice, bob = sign_in(app, "admin1"), sign_in(app, "alice"), sign_in(app, "bob")
    cid = start(admin, define(admin, team.alice)["id"])["id"]
    assert len(item_ids(alice, cid, "limit=1000")) == ORPHANS + 2  # mine or not: only hers
    assert len(item_ids(admin, cid, "limit=1000")) == ORPHANS + 3
    assert list(item_ids(admin, cid)) == ["alice:lims-admin"]
    own = item_ids(admin, cid)["alice:lims-admin"]

    refused = alice.post(
        f"/api/v1/campaigns/{cid}/decisions", {"items": [own], "decision": "certify"}
    )
    # Her own access answers as an unknown item would, and is audited (ACC-2, REV-2).
    assert problem(refused, 404, "not-found")["field"] == "items"
    unknown = alice.post(
        f"/api/v1/campaigns/{cid}/decisions", {"items": [2**31 - 1], "decision": "certify"}
    )
    assert problem(unknown, 404, "not-found")["detail"].replace(str(2**31 - 1), "N") == (
        refused.get_json()["detail"].replace(str(own), "N")
    )
    assert len(events(services, "review:decision:refused")) == 1
    problem(bob.get(f"/api/v1/campaigns/{cid}/items"), 403, "forbidden")
    problem(bob.get(f"/api/v1/campaigns/{cid}"), 403, "forbidden")
    assert len(events(services, "access:api_reviews-list_items:refused")) == 1
    assert bob.get("/api/v1/campaigns").get_json()["campaigns"] == []
    reviewers = alice.get(f"/api/v1/campaigns/{cid}").get_json()["reviewers"]
    assert [row["username"] for row in reviewers] == ["alice"]

    problem(
        alice.post(
            f"/api/v1/campaigns/{cid}/reassignments",
            {"items": [own], "reviewer_id": team.bob, "reason": "r"},
        ),
        403,
        "forbidden",
    )
    mine = item_ids(alice, cid)
    bob_item = mine["bob:qa-approvers"]
    to_bob = {"items": [bob_item], "reviewer_id": team.bob, "reason": "alice is away"}
    holder = admin.post(f"/api/v1/campaigns/{cid}/reassignments", to_bob)
    assert problem(holder, 403, "forbidden")["field"] == "reviewer_id"
    to_carol = {**to_bob, "reviewer_id": team.carol}
    moved = admin.post(f"/api/v1/campaigns/{cid}/reassignments", to_carol)
    assert moved.get_json() == {"reassigned": 1, "reviewer_id": team.carol}
    carol = sign_in(app, "carol")
    assert list(item_ids(carol, cid)) == ["bob:qa-approvers"]
    gone = alice.post(
        f"/api/v1/campaigns/{cid}/decisions", {"items": [bob_item], "decision": "certify"}
    )
    problem(gone, 404, "not-found")  # reassigned: no longer hers, answered as unknown


@pytest.mark.req("SEQ-1")
def test_starts_and_decisions_follow_the_campaign_states(
    app: Flask, services: Services, team: Org
) -> None:
    admin, alice = sign_in(app, "admin1"), sign_in(app, "alice")
    definition_id = define(admin, team.alice, schedule=None)["id"]
    draft = start(admin, definition_id, "?start=false")
    assert (draft["state"], draft["item_count"]) == ("draft", 0)
    started = admin.post(f"/api/v1/campaigns/{draft['id']}/start")
    assert started.get_json()["state"] == "active"
    problem(admin.post(f"/api/v1/campaigns/{draft['id']}/start"), 409, "out-of-sequence")
    problem(alice.post(f"/api/v1/campaigns/{draft['id']}/start"), 403, "forbidden")

    cid = draft["id"]
    bob_item = item_ids(alice, cid)["bob:qa-approvers"]
    with transaction(services.sessions) as session:
        services.campaigns.advance(
            session, services.campaigns.get(session, cid), CampaignState.CLOSING, "test"
        )
    closed = alice.post(
        f"/api/v1/campaigns/{cid}/decisions", {"items": [bob_item], "decision": "certify"}
    )
    assert "decisions are closed" in problem(closed, 409, "conflict")["detail"]
    problem(alice.post(f"/api/v1/campaigns/{cid}/signoff", {"password": PASSWORD}), 409, "conflict")
    problem(admin.get("/api/v1/campaigns/nosuch"), 404, "not-found")


def test_an_empty_scope_is_refused_with_a_clear_message(
    app: Flask, services: Services, team: Org
) -> None:
    admin = sign_in(app, "admin1")
    body = {
        "name": "Empty",
        "scope": {"systems": []},
        "reviewer_rule": "manager",
        "fallback_reviewer_id": team.alice,
    }
    empty = admin.post("/api/v1/review-definitions", body)
    assert fields(empty) == {"scope"}
    assert "the scope is empty" in empty.get_data(as_text=True)

    definition = define(admin, team.alice, scope={"systems": ["nosuch"]})
    refused = admin.post(f"/api/v1/review-definitions/{definition['id']}/campaigns")
    assert "nothing is in this campaign's scope" in problem(refused, 409, "conflict")["detail"]
    assert admin.get("/api/v1/campaigns").get_json()["campaigns"] == []  # no draft left


@pytest.mark.req("ACC-1")
def test_bad_requests_name_the_field_and_change_nothing(
    app: Flask, services: Services, team: Org
) -> None:
    person(services, "audrey", roles=("auditor",))
    admin, alice = sign_in(app, "admin1"), sign_in(app, "alice")
    bad = {
        "name": "",
        "scope": {"groups": ["no-directory"]},
        "reviewer_rule": "boss",
        "fallback_reviewer_id": team.alice,
        "duration_days": 0,
        "schedule": "every day",
    }
    assert fields(admin.post("/api/v1/review-definitions", bad)) == {
        "name",
        "scope",
        "reviewer_rule",
        "duration_days",
        "schedule",
    }
    assert fields(admin.post("/api/v1/review-definitions", None)) == set()
    cid = start(admin, define(admin, team.alice)["id"])["id"]
    url = f"/api/v1/campaigns/{cid}"
    assert fields(alice.post(f"{url}/decisions", {"items": "all", "decision": "approve"})) == {
        "items",
        "decision",
    }
    bob_item = item_ids(alice, cid)["bob:qa-approvers"]
    assert fields(alice.post(f"{url}/decisions", {"items": [bob_item], "decision": "revoke"})) == {
        "justification"
    }
    assert fields(alice.post(f"{url}/decisions", {"items": [], "decision": "certify"})) == {"items"}
    unknown = alice.post(f"{url}/decisions", {"items": [bob_item, 10**9], "decision": "certify"})
    assert problem(unknown, 404, "not-found")["field"] == "items"
    assert fields(alice.post(f"{url}/signoff", {"otp": "12"})) == {"password", "otp"}
    assert fields(alice.get(f"{url}/items?limit=5000&status=maybe")) == {"limit", "status"}
    assert fields(admin.get("/api/v1/campaigns?state=open")) == {"state"}
    too_big = {"items": [2**63], "decision": "certify", "justification": "a\x00b"}
    assert fields(alice.post(f"{url}/decisions", too_big)) == {"items.0", "justification"}
    assert fields(alice.get(f"{url}/items?offset={10**21}")) == {"offset"}
    problem(admin.get("/api/v1/campaigns/%00/items"), 404, "not-found")
    for odd in ("%C2%B2", "%D9%A1", str(2**31), "9" * 18):  # were 500s (int(), INTEGER)
        retried = admin.post(f"/api/v1/remediations/{odd}/retry", {"reason": "fixed"})
        problem(retried, 404, "not-found")  # from routing: no handler sees it
    assert fields(admin.post(f"/api/v1/review-definitions/{cid}/campaigns?start=perhaps")) == {
        "start"
    }
    csrf = alice.client.post(f"{url}/decisions", json={"items": [bob_item], "decision": "certify"})
    assert problem(csrf, 403, "forbidden")["reason"] == "csrf"
    undecided = alice.post(f"{url}/signoff", {"password": PASSWORD})
    assert "undecided" in problem(undecided, 409, "conflict")["detail"]
    assert events(services, "review:item:decided") == []

    auditor = sign_in(app, "audrey")
    assert auditor.get(url).status_code == 200
    assert len(item_ids(auditor, cid, "limit=1000")) == ORPHANS + 3
    problem(auditor.post("/api/v1/review-definitions", bad), 403, "forbidden")
    problem(
        auditor.post(f"{url}/decisions", {"items": [bob_item], "decision": "certify"}),
        404,
        "not-found",
    )
    paths = app.test_client().get("/api/v1/openapi.json").get_json()["paths"]
    assert "/api/v1/campaigns/{campaign_id}/decisions" in paths
