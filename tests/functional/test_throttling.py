"""Throttles on sign-in, signing, the ceremony and /oauth/token, and the password-hash cap:
429 or 503 problem+json with Retry-After, per source and per account, in memory and in a real
Redis, and nothing checked or recorded on refusal (LOCK-1, LOCK-3, CMP-2, DEV-1)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from idgov.app import create_app
from idgov.clock import FrozenClock
from idgov.config import Settings, ThrottlingSettings, load_settings
from idgov.errors import ConfigurationError
from idgov.providers import hashing
from idgov.wiring import Services, build_services
from tests.functional.api_client import json_login
from tests.functional.ceremony_support import PERSON, host, open_page, submit
from tests.functional.hash_gate import hash_gate
from tests.functional.hosts import HOST_ADDRESS, bearer, register, request_token
from tests.functional.people import PASSWORD, actions, fast_hashing, login, person, problem
from tests.functional.signing import body, prepare, signer
from tests.harness.redis import RedisServer

WRONG = "Not-The-Password-99"
LOW = ThrottlingSettings(
    signin_per_source="4/minute",
    signin_per_account="2/minute",
    signing_per_source="4/minute",
    signing_per_account="2/minute",
    ceremony_per_source="4/minute",
    ceremony_per_account="2/minute",
    token_per_source="4/minute",
    token_per_client="2/minute",
    max_concurrent_hashes=1,
    hash_wait_seconds=0.05,
)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"throttling": LOW})


@pytest.fixture(autouse=True)
def _cheap_hashes(services: Services) -> Iterator[None]:
    fast_hashing(services)
    # create_app sized the process-wide gate from LOW: its defaults come back afterwards.
    with hash_gate(LOW.max_concurrent_hashes, LOW.hash_wait_seconds):
        yield


def from_address(address: str) -> dict[str, Any]:
    return {"environ_base": {"REMOTE_ADDR": address}}


def too_many(response: TestResponse) -> dict[str, Any]:
    """A 429 problem+json with a Retry-After in whole seconds within the window."""
    found = problem(response, 429, "too-many-requests")
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    return found


def attempts(services: Services) -> int:
    """Recorded authentication attempts: a throttled request adds none."""
    return sum(1 for action in actions(services) if action.startswith("auth:"))


@pytest.mark.req("LOCK-3")
def test_one_source_guessing_many_usernames_is_throttled_before_any_check(
    client: FlaskClient, services: Services
) -> None:
    for name in ("amy", "bob", "cat", "dan"):
        assert json_login(client, name, WRONG).status_code == 401
    recorded = attempts(services)
    body = too_many(json_login(client, "eve", WRONG))
    assert "nothing was checked" in body["detail"]
    assert attempts(services) == recorded  # no hash, no lookup, no audit event
    # Another address is not slowed by this one.
    other = client.post(
        "/api/v1/session", json={"username": "eve", "password": WRONG}, **from_address("192.0.2.7")
    )
    assert other.status_code == 401


@pytest.mark.req("LOCK-3")
def test_one_account_guessed_from_many_addresses_is_throttled(
    client: FlaskClient, services: Services
) -> None:
    person(services, "jdoe")
    first = client.post(
        "/api/v1/session", json={"username": "jdoe", "password": WRONG}, **from_address("192.0.2.1")
    )
    assert first.status_code == 401
    # The same account however it is spelled, through the login page this time.
    assert login(client, " JDoe", WRONG).status_code == 401
    recorded = attempts(services)
    third = client.post(
        "/api/v1/session",
        json={"username": "jdoe", "password": PASSWORD},
        **from_address("192.0.2.3"),
    )
    too_many(third)  # even the right password waits: the throttle never checks it
    assert attempts(services) == recorded
    # Other people keep signing in from the same addresses.
    person(services, "asmith")
    ok = client.post(
        "/api/v1/session",
        json={"username": "asmith", "password": PASSWORD},
        **from_address("192.0.2.3"),
    )
    assert ok.status_code == 201


@pytest.mark.req("LOCK-1")
def test_the_login_page_answers_a_readable_429_page(client: FlaskClient) -> None:
    for _ in range(2):
        assert login(client, "jdoe", WRONG).status_code == 401
    page = login(client, "jdoe", WRONG)
    assert page.status_code == 429
    assert 1 <= int(page.headers["Retry-After"]) <= 60
    # A browser (Accept: text/html) gets a page; problem+json for anything else.
    browser = client.post(
        "/login",
        data={"username": "jdoe", "password": WRONG},
        headers={"Accept": "text/html,application/xhtml+xml"},
    )
    assert browser.status_code == 429
    assert browser.mimetype == "text/html"
    assert "Too many attempts" in browser.get_data(as_text=True)
    assert 1 <= int(browser.headers["Retry-After"]) <= 60


@pytest.mark.req("CMP-2")
def test_signing_is_throttled_per_signer(client: FlaskClient, services: Services) -> None:
    _lims, admin = prepare(services, host="lims-internal")
    signer(services, "jdoe", admin, name="Jane Doe")
    client_id, secret = register(services, "lims", ("signatures",))
    response = request_token(client, client_id, secret)
    token = response.get_json()["access_token"]
    host = {"headers": bearer(token), **from_address(HOST_ADDRESS)}
    for _ in range(2):
        wrong = client.post("/api/v1/signatures", json=body("jdoe", password=WRONG), **host)
        assert wrong.status_code == 401
    recorded = attempts(services)
    too_many(client.post("/api/v1/signatures", json=body("jdoe"), **host))
    assert attempts(services) == recorded
    assert "signature:created" not in actions(services)


@pytest.mark.req("CMP-2")
def test_the_ceremony_page_is_throttled_per_signer(
    app: Flask, services: Services, client: FlaskClient
) -> None:
    lims = host(services, app)
    request_id = lims.created()["id"]
    browser = app.test_client()
    _page, csrf = open_page(browser, request_id)
    for _ in range(2):
        assert submit(browser, request_id, csrf, password=WRONG).status_code == 401
    refused = browser.post(
        f"/sign/{request_id}",
        data={"csrf_token": csrf, "username": "jdoe", "password": PASSWORD},
        headers={"Accept": "text/html"},
        environ_base=PERSON,
    )
    assert refused.status_code == 429
    assert refused.mimetype == "text/html"
    assert int(refused.headers["Retry-After"]) >= 1
    assert lims.read(request_id).get_json()["status"] == "pending"


@pytest.mark.req("CMP-2")
def test_creating_signing_requests_is_throttled_per_host_credential(
    app: Flask, services: Services
) -> None:
    lims = host(services, app)
    for _ in range(2):
        assert lims.create().status_code == 201
    too_many(lims.create())


@pytest.mark.req("DEV-1")
def test_token_endpoint_is_throttled_per_client_across_addresses(
    client: FlaskClient, services: Services
) -> None:
    client_id, secret = register(services, "lims", ("signatures",))
    for address in ("192.0.2.1", "192.0.2.2"):
        wrong = request_token(client, client_id, "wrong-" + secret, address=address)
        assert wrong.status_code == 401
    recorded = len(actions(services))
    too_many(request_token(client, client_id, secret, address="192.0.2.3"))
    assert len(actions(services)) == recorded  # nothing audited for the throttled request
    # client_secret_post names the client in the form: the same bucket.
    posted = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
        **from_address("192.0.2.4"),
    )
    too_many(posted)


@pytest.mark.req("DEV-1")
def test_token_endpoint_is_throttled_per_source(client: FlaskClient, services: Services) -> None:
    for n in range(4):
        refused = request_token(client, f"cl_unknown{n}", "secret", address="192.0.2.9")
        assert refused.status_code == 401
    too_many(request_token(client, "cl_unknown9", "secret", address="192.0.2.9"))


@pytest.mark.req("LOCK-1")
def test_a_full_hash_gate_answers_503_at_once_and_counts_nothing(
    client: FlaskClient, services: Services
) -> None:
    person(services, "jdoe")
    recorded = attempts(services)
    with hashing.gate().slot():  # every slot of this process busy (max_concurrent_hashes=1)
        busy = json_login(client, "jdoe", WRONG)
        page = login(client, "jdoe", WRONG)
    found = problem(busy, 503, "busy")
    assert "nothing was checked" in found["detail"]
    assert busy.headers["Retry-After"] == "1"
    assert page.status_code == 503
    assert page.headers["Retry-After"] == "1"
    assert attempts(services) == recorded  # not a failure: LOCK-1's count is untouched


@pytest.mark.req("CMP-2")
def test_a_full_hash_gate_refuses_signing_and_the_ceremony_with_503(
    app: Flask, services: Services
) -> None:
    lims = host(services, app)
    request_id = lims.created()["id"]
    browser = app.test_client()
    _page, csrf = open_page(browser, request_id)
    api = app.test_client()
    client_id, secret = register(services, "eln", ("signatures",))
    token = request_token(api, client_id, secret).get_json()["access_token"]
    recorded = attempts(services)
    with hashing.gate().slot():
        page = submit(browser, request_id, csrf)
        signed = api.post(
            "/api/v1/signatures",
            json=body("jdoe"),
            headers=bearer(token),
            **from_address(HOST_ADDRESS),
        )
    assert page.status_code == 503
    assert page.headers["Retry-After"] == "1"
    assert problem(signed, 503, "busy")["status"] == 503
    assert signed.headers["Retry-After"] == "1"
    assert attempts(services) == recorded
    assert "signature:created" not in actions(services)
    assert lims.read(request_id).get_json()["status"] == "pending"


def redis_app(settings: Settings, clock: FrozenClock, storage: str) -> tuple[Flask, Services]:
    throttling = LOW.model_copy(update={"storage_uri": storage})
    built = build_services(settings.model_copy(update={"throttling": throttling}), clock)
    return create_app(services=built), built


@pytest.mark.req("LOCK-3")
def test_processes_sharing_redis_share_the_counts(
    settings: Settings, clock: FrozenClock, services: Services, redis_server: RedisServer
) -> None:
    # Two apps with their own limiter each, as two gunicorn workers would be.
    first, first_services = redis_app(settings, clock, redis_server.url)
    second, second_services = redis_app(settings, clock, redis_server.url)
    try:
        one, two = first.test_client(), second.test_client()
        assert json_login(one, "jdoe", WRONG).status_code == 401
        assert json_login(two, "jdoe", WRONG).status_code == 401
        too_many(json_login(one, "jdoe", WRONG))
        too_many(json_login(two, "JDOE", WRONG))
        keys = redis_server.keys()
        assert keys
        assert all(key.startswith("LIMITS:LIMITER/idgov/") for key in keys)
        assert not any("jdoe" in key for key in keys)  # usernames are digested
    finally:
        first_services.close()
        second_services.close()


@pytest.mark.req("LOCK-3")
def test_unreachable_redis_refuses_sign_in_with_503_and_records_nothing(
    settings: Settings,
    clock: FrozenClock,
    services: Services,
    redis_server: RedisServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    app, built = redis_app(settings, clock, redis_server.url)
    try:
        person(built, "jdoe")
        recorded = attempts(built)
        redis_server.stop()
        client = app.test_client()
        refused = json_login(client, "jdoe", PASSWORD)
        found = problem(refused, 503, "service-unavailable")
        assert found["reason"] == "throttle-storage-unavailable"
        assert refused.headers["Retry-After"] == "5"
        assert attempts(built) == recorded
        assert "throttle storage unreachable" in capsys.readouterr().err  # loudly logged
        # Pages that check no secret keep working.
        assert client.get("/login").status_code == 200
        redis_server.start()
        assert json_login(client, "jdoe", PASSWORD).status_code == 201
    finally:
        built.close()


@pytest.mark.req("LOCK-3")
def test_throttling_can_be_switched_off(settings: Settings, clock: FrozenClock) -> None:
    off = LOW.model_copy(update={"enabled": False})
    built = build_services(settings.model_copy(update={"throttling": off}), clock)
    try:
        client = create_app(services=built).test_client()
        answers = {json_login(client, "jdoe", WRONG).status_code for _ in range(5)}
        assert 429 not in answers
    finally:
        built.close()


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("signin_per_account", "ten a minute"),
        ("signin_per_source", "0/minute"),
        ("storage_uri", "sqlite:///limits.db"),
        ("max_concurrent_hashes", "0"),
    ],
)
def test_unusable_throttle_settings_are_refused_by_name(key: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match=f"throttling.{key}"):
        load_settings(environ={f"IDGOV_THROTTLING__{key.upper()}": value})


def test_default_throttles_are_on_in_memory_with_a_moving_window() -> None:
    defaults = load_settings(environ={}).throttling
    assert defaults.enabled
    assert defaults.storage_uri == "memory://"
