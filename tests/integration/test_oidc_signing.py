"""STEP-1: in the signing ceremony an OIDC person re-authenticates at a real OpenID provider
(node's oidc-provider) with prompt=login, max_age=0, a fresh nonce and login_hint, and our own
code checks the ID token before anything is signed (OIDC Core 1.0 3.1.2.1, 3.1.3.7, 2)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from idgov.alerts.models import Alert
from idgov.app import create_app
from idgov.clock import FrozenClock
from idgov.config import Settings
from idgov.wiring import Services, build_services
from tests.functional.ceremony_support import Host, host, returned, shorter, signature_count
from tests.functional.hosts import HOST_ADDRESS
from tests.functional.people import csrf_of, events
from tests.functional.signing import record, verified
from tests.harness.oidc_provider import CLIENT_ID, OTHER_CLIENT, OidcProvider, rsa_jwk
from tests.harness.ports import LOOPBACK, free_port
from tests.integration.oidc_support import (
    PERSON,
    ProviderBrowser,
    WallClock,
    identity,
    make_signer,
    path_of,
    query_of,
    seconds_later,
    sign_in,
    with_provider,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def clock() -> FrozenClock:
    return WallClock()


@pytest.fixture
def settings(settings: Settings, oidc_provider: OidcProvider) -> Settings:
    # The acr the signing asks for (OIDC Core 1.0 3.1.2.1) and the ones it accepts.
    mfa = ["urn:idgov:test:mfa"]
    return with_provider(settings, oidc_provider, acr_values=mfa, accepted_acr=mfa)


@pytest.fixture
def lims(services: Services, app: Flask, client: FlaskClient, browser: ProviderBrowser) -> Host:
    """A host; alice signed in to idgov through the provider once, was verified by an admin
    and certified: she may sign."""
    registered = host(services, app)
    assert sign_in(client, browser, "sub-alice").status_code == 303
    make_signer(services, "alice", identity(services, "admin1").id)
    return registered


def start(client: FlaskClient, request_id: str) -> TestResponse:
    """The ceremony page's "Continue at Acme ID" button."""
    page = client.get(f"/sign/{request_id}", environ_base=PERSON)
    text = page.get_data(as_text=True)
    assert "Continue at Acme ID" in text
    assert 'name="password"' not in text  # no password to idgov for a federated person
    return client.post(
        f"/sign/{request_id}/oidc", data={"csrf_token": csrf_of(text)}, environ_base=PERSON
    )


def at_provider(
    client: FlaskClient, browser: ProviderBrowser, began: TestResponse, login: str | None
) -> TestResponse:
    """The person at the provider (logging in as `login` when asked), then back at idgov."""
    callback = browser.visit(began.headers["Location"], login)
    return client.get(path_of(callback), environ_base=PERSON)


def failures(services: Services, reason: str) -> list[Any]:
    found = [json.loads(e.new_values) for e in events(services, "auth:signing:failed")]
    return [values for values in found if values["reason"] == reason]


def pending(lims: Host, request_id: str) -> bool:
    return bool(lims.read(request_id).get_json()["status"] == "pending")


@pytest.mark.req("STEP-1")
@pytest.mark.req("MAN-1")
def test_an_oidc_person_signs_after_a_fresh_login_at_the_provider(
    services: Services, client: FlaskClient, browser: ProviderBrowser, lims: Host
) -> None:
    created = lims.created(signer="alice")
    began = start(client, created["id"])
    assert began.status_code == 303
    asked = query_of(began.headers["Location"])
    # OIDC Core 1.0 3.1.2.1: a new login whatever session the provider holds.
    assert asked["prompt"] == "login"
    assert asked["max_age"] == "0"
    assert asked["login_hint"] == "alice"
    assert asked["nonce"]
    assert asked["code_challenge_method"] == "S256"

    done = at_provider(client, browser, began, "sub-alice")

    assert browser.logins == 2  # the provider asked again, although its session was alive
    _url, query = returned(done)
    assert query == {"signing_request": created["id"]}
    answer = lims.read(created["id"]).get_json()
    assert answer["status"] == "completed"
    payload = verified(services, answer["result"]["token"])
    authn = payload["authn"]
    assert authn["method"] == "oidc"
    assert authn["iss"] == services.settings.oidc["acme"].issuer
    assert authn["acr"] == "urn:idgov:test:mfa"
    assert authn["amr"] == ["pwd", "otp"]
    assert isinstance(authn["auth_time"], int)
    assert abs(time.time() - authn["auth_time"]) < 30
    assert authn["components"] == ["oidc-subject", "oidc-reauthentication"]
    assert payload["manifest"]["printed_name"] == "Alice Adams"
    assert payload["sub"] == identity(services, "alice").id


@pytest.mark.req("STEP-1")
def test_a_provider_that_hands_back_its_old_session_is_refused(
    services: Services,
    client: FlaskClient,
    browser: ProviderBrowser,
    lims: Host,
    oidc_provider: OidcProvider,
) -> None:
    """authentik's behaviour: max_age=0 ignored, the SSO session's old auth_time comes back."""
    seconds_later(2.2)
    created = lims.created(signer="alice")
    oidc_provider.lax(True)
    began = start(client, created["id"])

    refused = at_provider(client, browser, began, None)  # no login asked

    assert refused.status_code == 401
    assert "too old to sign" in refused.get_data(as_text=True)
    assert signature_count(services) == 0
    assert pending(lims, created["id"])  # the person may try again
    assert len(failures(services, "stale-authentication")) == 1
    assert identity(services, "alice").failed_attempts == 1


@pytest.mark.req("STEP-1")
@pytest.mark.req("LOCK-1")
def test_another_person_at_the_provider_cannot_sign_for_the_signer(
    services: Services, client: FlaskClient, browser: ProviderBrowser, lims: Host
) -> None:
    created = lims.created(signer="alice")
    began = start(client, created["id"])

    refused = at_provider(client, browser, began, "sub-bob")  # bob logs in instead

    assert refused.status_code == 401
    assert signature_count(services) == 0
    assert pending(lims, created["id"])
    [event] = failures(services, "subject-mismatch")
    assert event["subject"] == "sub-bob"
    assert identity(services, "alice").failed_attempts == 1  # counted toward the lock


def claims_for(provider: OidcProvider, expected: str, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": provider.issuer,
        "aud": CLIENT_ID,
        "sub": "sub-alice",
        "nonce": expected,
        "iat": now,
        "acr": "urn:idgov:test:mfa",
        "exp": now + 300,
        "auth_time": now,
        "amr": ["pwd"],
    }
    claims.update(changes)
    return {key: value for key, value in claims.items() if value is not None}


Minted = Callable[[OidcProvider, str], str]
HOSTILE: dict[str, tuple[Minted, str]] = {
    "auth_time missing": (
        lambda p, n: p.mint(claims_for(p, n, auth_time=None)),
        "missing-auth-time",
    ),
    "auth_time older than the window": (
        lambda p, n: p.mint(claims_for(p, n, auth_time=int(time.time()) - 200)),
        "stale-authentication",
    ),
    "auth_time as a string": (
        lambda p, n: p.mint(claims_for(p, n, auth_time=str(int(time.time())))),
        "bad-claim",
    ),
    "auth_time in milliseconds": (
        lambda p, n: p.mint(claims_for(p, n, auth_time=int(time.time() * 1000))),
        "bad-claim",
    ),
    "another nonce": (lambda p, n: p.mint(claims_for(p, n, nonce="not-" + n)), "wrong-nonce"),
    "aud another client, azp ours": (
        lambda p, n: p.mint(claims_for(p, n, aud=OTHER_CLIENT, azp=CLIENT_ID)),
        "wrong-audience",
    ),
    "alg none": (lambda p, n: p.unsigned(claims_for(p, n)), "bad-signature"),
    "HS256 keyed with the public key": (
        lambda p, n: p.forged_hs256(claims_for(p, n)),
        "bad-signature",
    ),
    "a key the provider never published": (
        lambda p, n: p.mint(claims_for(p, n), key=rsa_jwk("stranger")),
        "bad-signature",
    ),
}


@pytest.mark.req("STEP-1")
@pytest.mark.parametrize("case", list(HOSTILE))
def test_an_id_token_that_does_not_prove_a_fresh_login_signs_nothing(
    case: str,
    services: Services,
    client: FlaskClient,
    browser: ProviderBrowser,
    lims: Host,
    oidc_provider: OidcProvider,
) -> None:
    mint, reason = HOSTILE[case]
    created = lims.created(signer="alice")
    began = start(client, created["id"])
    nonce = query_of(began.headers["Location"])["nonce"]
    oidc_provider.next_id_token(mint(oidc_provider, nonce))

    refused = at_provider(client, browser, began, "sub-alice")

    assert refused.status_code == 401, refused.get_data(as_text=True)
    assert signature_count(services) == 0
    assert pending(lims, created["id"])
    assert len(failures(services, reason)) == 1


@pytest.mark.req("STEP-1")
@pytest.mark.req("AUD-1")
def test_a_replayed_callback_signs_nothing_more(
    services: Services, client: FlaskClient, browser: ProviderBrowser, lims: Host
) -> None:
    created = lims.created(signer="alice")
    began = start(client, created["id"])
    callback = browser.visit(began.headers["Location"], "sub-alice")
    assert client.get(path_of(callback), environ_base=PERSON).status_code == 303

    again = client.get(path_of(callback), environ_base=PERSON)

    assert again.status_code == 401
    assert signature_count(services) == 1
    assert len(failures(services, "replayed")) == 1


@pytest.mark.req("STEP-1")
def test_a_request_that_expires_at_the_provider_signs_nothing(
    services: Services,
    client: FlaskClient,
    browser: ProviderBrowser,
    lims: Host,
    clock: FrozenClock,
) -> None:
    shorter(services, 1)
    created = lims.created(signer="alice")
    began = start(client, created["id"])
    callback = browser.visit(began.headers["Location"], "sub-alice")
    clock.advance(timedelta(minutes=2))

    ended = client.get(path_of(callback), environ_base=PERSON)

    assert ended.status_code == 200
    assert "expired" in ended.get_data(as_text=True)
    assert signature_count(services) == 0
    assert lims.read(created["id"]).get_json()["status"] == "expired"


@pytest.mark.req("STEP-1")
@pytest.mark.req("CMP-2")
def test_a_federated_person_has_no_password_to_sign_with_through_the_api(
    services: Services, client: FlaskClient, lims: Host
) -> None:
    """No fallback: the direct API (password through the host) refuses an OIDC person."""
    refused = lims.client.post(
        "/api/v1/signatures",
        json={"username": "alice", "password": "anything", **body_fields()},
        headers={"Authorization": f"Bearer {lims.token}"},
        environ_base={"REMOTE_ADDR": HOST_ADDRESS},
    )

    assert refused.status_code == 403
    assert refused.get_json()["type"] == "urn:idgov:problem:not-eligible"
    assert signature_count(services) == 0
    assert len(failures(services, "federated-identity")) == 1


@pytest.mark.req("STEP-1")
def test_the_provider_down_means_no_signature_and_no_fallback(
    settings: Settings, clock: FrozenClock, services: Services, lims: Host
) -> None:
    """503 provider-unavailable, never a password form instead (fail closed)."""
    down = with_provider(settings, oidc_down(), acr_values=["urn:idgov:test:mfa"])
    cut_off = build_services(down, clock)
    try:
        browser = create_app(services=cut_off).test_client()
        created = lims.created(signer="alice")

        refused = start(browser, created["id"])
        signing_in = browser.get("/login/oidc/acme", environ_base=PERSON)

        assert refused.status_code == 503
        assert "cannot be reached" in refused.get_data(as_text=True)
        assert signing_in.status_code == 503
        assert pending(lims, created["id"])
        assert signature_count(services) == 0
    finally:
        cut_off.close()


def oidc_down() -> Any:
    """A provider nobody answers for: a free loopback port with nothing listening."""
    return SimpleNamespace(issuer=f"http://{LOOPBACK}:{free_port(LOOPBACK)}")


def body_fields() -> dict[str, Any]:
    return {"meaning": "approval", "record": record()}


@pytest.mark.req("LOCK-1")
@pytest.mark.req("ALERT-1")
@pytest.mark.req("STEP-1")
def test_repeated_refused_logins_at_the_provider_lock_the_signer_and_end_the_request(
    services: Services, client: FlaskClient, browser: ProviderBrowser, lims: Host
) -> None:
    """Counted like wrong passwords: at the limit the identity locks, the lock is alerted, and
    the request fails as it would on the password path."""
    created = lims.created(signer="alice")
    statuses = []
    for _attempt in range(5):
        began = start(client, created["id"])
        statuses.append(at_provider(client, browser, began, "sub-bob").status_code)

    assert statuses == [401, 401, 401, 401, 200]  # the last: the ended page, back to the host
    assert identity(services, "alice").status == "locked"
    assert lims.read(created["id"]).get_json()["status"] == "failed"
    with services.sessions() as session:
        assert "lockout" in session.scalars(select(Alert.kind)).all()
    assert signature_count(services) == 0
