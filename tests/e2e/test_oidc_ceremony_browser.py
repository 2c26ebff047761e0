"""STEP-1 in Chromium, end to end: a person of an OpenID provider (node's oidc-provider) signs in
to idgov with "Sign in with Acme ID", then the example host (docs/examples) asks for a signature;
at idgov's ceremony the person logs in at the provider again, and the host receives a token
that a JOSE library idgov does not use verifies, carrying the provider login's evidence."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect

from idgov.clock import FrozenClock
from idgov.config import ServerSettings, Settings
from idgov.wiring import Services
from tests.e2e.test_ceremony_browser import EXAMPLES, verified_elsewhere
from tests.e2e.test_ceremony_browser import example_host as example_host  # the fixture
from tests.functional.signing import prepare
from tests.harness.live_server import LiveServer, live_server
from tests.harness.oidc_provider import PASSWORD, OidcProvider
from tests.harness.ports import LOOPBACK, free_port
from tests.integration.oidc_support import ACCOUNTS, NAME, WallClock, make_signer, with_provider

pytestmark = [pytest.mark.e2e, pytest.mark.integration]
IDGOV_PORT = free_port(LOOPBACK)
IDGOV_URL = f"http://{LOOPBACK}:{IDGOV_PORT}"
assert EXAMPLES.is_dir()


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcProvider]:
    """A provider of this module's own: its redirect URI is this module's idgov port."""
    running = OidcProvider(
        tmp_path_factory.mktemp("e2e-oidc"), [f"{IDGOV_URL}/oidc/{NAME}/callback"], ACCOUNTS
    )
    running.start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def clock() -> FrozenClock:
    return WallClock()


@pytest.fixture
def settings(settings: Settings, provider: OidcProvider) -> Settings:
    server = ServerSettings(secret_key=settings.server.secret_key, base_url=IDGOV_URL)
    mfa = ["urn:idgov:test:mfa"]
    federated = with_provider(settings, provider, acr_values=mfa, accepted_acr=mfa)
    return federated.model_copy(update={"server": server})


@pytest.fixture
def idgov(app: Flask) -> Iterator[LiveServer]:
    with live_server(app, IDGOV_PORT) as running:
        yield running


def log_in_at_provider(page: Page, account: str, screenshots: Path, name: str) -> None:
    expect(page.get_by_role("heading", name="Test provider login")).to_be_visible()
    page.get_by_label("Login").fill(account)
    page.get_by_label("Password").fill(PASSWORD)
    page.screenshot(path=str(screenshots / f"provider-{name}.png"), full_page=True)
    page.get_by_role("button", name="Sign in").click()


@pytest.mark.req("STEP-1")
@pytest.mark.req("IDV-1")
def test_an_oidc_person_signs_in_and_signs_through_the_ceremony(
    services: Services,
    idgov: LiveServer,
    example_host: LiveServer,
    browser: Browser,
    tmp_path: Path,
) -> None:
    _internal, admin = prepare(services, host="internal")
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    try:
        page.goto(f"{idgov.url}/login")
        page.get_by_role("link", name="Sign in with Acme ID").click()
        log_in_at_provider(page, "sub-alice", tmp_path, "sign-in")
        expect(page).to_have_url(f"{idgov.url}/")
        make_signer(services, "alice", admin)  # someone else verified her (IDV-1)

        page.goto(f"{example_host.url}/")
        page.get_by_label("Signer's username (optional)").fill("alice")
        page.get_by_role("button", name="Sign with idgov").click()
        expect(page.get_by_role("heading", name="Electronic signature requested")).to_be_visible()
        expect(page.get_by_label("Password")).to_have_count(0)  # no password to idgov
        page.screenshot(path=str(tmp_path / "ceremony-oidc.png"), full_page=True)
        started = int(time.time())
        page.get_by_role("button", name="Continue at Acme ID").click()
        # The provider asks again although its session is alive (prompt=login, max_age=0).
        log_in_at_provider(page, "sub-alice", tmp_path, "signing")
        expect(page.get_by_role("heading", name="Signed and verified")).to_be_visible()
        token = page.locator("#token").inner_text()
    finally:
        page.close()

    payload = verified_elsewhere(idgov, token)
    authn = payload["authn"]
    assert isinstance(authn, dict)
    assert authn["method"] == "oidc"
    assert authn["amr"] == ["pwd", "otp"]
    assert authn["acr"] == "urn:idgov:test:mfa"
    assert started - 1 <= authn["auth_time"] <= int(time.time())
    assert payload["manifest"]["printed_name"] == "Alice Adams"  # type: ignore[index]
