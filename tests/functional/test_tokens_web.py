"""The person's token pages and JSON API: enroll, activate, test, list; CSRF; bad input."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask.testing import FlaskClient

from idgov.clock import FrozenClock
from idgov.tokens.codes import secret_of
from idgov.wiring import Services
from tests.functional.people import PASSWORD, fast_hashing, login, page_csrf, person, problem
from tests.functional.totp import STEP, code, enrolled, token, wrong_code

URI = re.compile(r"<code>(otpauth://[^<]+)</code>")


@pytest.fixture(autouse=True)
def _cheap_hashes(services: Services) -> None:
    fast_hashing(services)


@pytest.fixture
def jdoe(services: Services) -> str:
    return person(services, "jdoe", name="Jane Doe")


def api_login(client: FlaskClient, username: str = "jdoe") -> dict[str, str]:
    response = client.post("/api/v1/session", json={"username": username, "password": PASSWORD})
    assert response.status_code == 201
    return {"X-CSRF-Token": response.get_json()["csrf_token"]}


@pytest.mark.req("TOK-1")
def test_pages_enroll_activate_and_test_a_token(
    client: FlaskClient, services: Services, clock: FrozenClock, jdoe: str
) -> None:
    login(client, "jdoe")
    assert "no tokens yet" in client.get("/account/tokens").get_data(as_text=True)
    csrf = page_csrf(client, "/account/tokens")
    assert client.post("/account/tokens", data={"label": "phone"}).status_code == 403  # CSRF
    assert client.post("/account/tokens", data={"label": "", "csrf_token": csrf}).status_code == 422

    started = client.post("/account/tokens", data={"label": "phone", "csrf_token": csrf})
    page = started.get_data(as_text=True)
    assert started.status_code == 201
    assert "<svg" in page
    found = URI.search(page)
    assert found
    secret = secret_of(found.group(1).replace("&amp;", "&"))
    action = re.search(r'action="(/account/tokens/[^/]+/activation)"', page)
    assert action
    form = {"csrf_token": csrf}
    assert client.post(action.group(1), data={**form, "code": "12x"}).status_code == 422
    wrong = client.post(action.group(1), data={**form, "code": wrong_code(secret, clock)})
    assert wrong.status_code == 422
    done = client.post(action.group(1), data={**form, "code": code(secret, clock)})
    assert done.status_code == 302
    listing = client.get("/account/tokens").get_data(as_text=True)
    assert "active" in listing
    assert secret not in listing

    token_id = action.group(1).split("/")[3]
    test_page = f"/account/tokens/{token_id}/test"
    assert client.get(test_page).status_code == 200
    failed = client.post(test_page, data={**form, "code": wrong_code(secret, clock)})
    assert failed.status_code == 422
    assert "recorded" in failed.get_data(as_text=True)
    clock.advance(STEP)
    assert client.post(test_page, data={**form, "code": code(secret, clock)}).status_code == 302
    assert token(services, token_id).failed_tests == 0
    assert client.get("/account/tokens/nope/test").status_code == 404


@pytest.mark.req("TOK-1")
def test_api_enrolls_activates_tests_and_lists_without_the_secret(
    client: FlaskClient, services: Services, clock: FrozenClock, jdoe: str
) -> None:
    headers = api_login(client)
    problem(client.post("/api/v1/me/tokens", json={"label": "phone"}), 403, "forbidden")
    started = client.post("/api/v1/me/tokens", json={"label": "phone"}, headers=headers)
    assert started.status_code == 201
    body: dict[str, Any] = started.get_json()
    assert body["qr_svg"].startswith("<svg")
    secret, token_id = secret_of(body["otpauth_uri"]), body["token"]["id"]
    assert body["token"]["status"] == "enrolling"

    activation = f"/api/v1/me/tokens/{token_id}/activation"
    refused = client.post(activation, json={"code": wrong_code(secret, clock)}, headers=headers)
    assert problem(refused, 422, "invalid-request")["reason"] == "code-wrong"
    problem(client.post(activation, json={"code": "abc"}, headers=headers), 422, "invalid-request")
    done = client.post(activation, json={"code": code(secret, clock)}, headers=headers)
    assert done.status_code == 200
    assert done.get_json()["status"] == "active"
    assert done.get_json()["test_overdue"] is False

    tests = f"/api/v1/me/tokens/{token_id}/tests"
    replay = client.post(tests, json={"code": code(secret, clock)}, headers=headers)
    assert replay.status_code == 201
    assert replay.get_json()["result"] == "fail"
    clock.advance(STEP)
    passed = client.post(tests, json={"code": code(secret, clock, 1)}, headers=headers)
    assert (passed.get_json()["result"], passed.get_json()["drift_steps"]) == ("pass", 1)

    listed = client.get("/api/v1/me/tokens")
    assert listed.status_code == 200
    assert [t["serial"] for t in listed.get_json()["tokens"]] == [body["token"]["serial"]]
    assert secret not in listed.get_data(as_text=True)
    assert "otpauth" not in listed.get_data(as_text=True)


@pytest.mark.req("TOK-1")
def test_api_bad_input_and_other_peoples_tokens(
    client: FlaskClient, services: Services, clock: FrozenClock, jdoe: str
) -> None:
    person(services, "rroe", name="Rita Roe")
    theirs, _secret = enrolled(services, clock, person_id(services, "rroe"))
    problem(client.get("/api/v1/me/tokens"), 401, "unauthenticated")
    headers = api_login(client)
    for sent in ({"label": ""}, {"label": "x" * 65}, {"label": "a\x00b"}, {}, {"label": 5}):
        response = client.post("/api/v1/me/tokens", json=sent, headers=headers)
        problem(response, 422, "invalid-request")
    for path in (f"/api/v1/me/tokens/{theirs}/tests", "/api/v1/me/tokens/x/activation"):
        problem(client.post(path, json={"code": "123456"}, headers=headers), 404, "not-found")
    long_id = "/api/v1/me/tokens/" + "a" * 5000 + "/tests"
    problem(client.post(long_id, json={"code": "123456"}, headers=headers), 404, "not-found")
    assert token(services, theirs).failed_tests == 0


def person_id(services: Services, username: str) -> str:
    with services.sessions() as session:
        found = services.identities.by_username(session, username)
        assert found is not None
        return found.id
