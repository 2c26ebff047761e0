"""The signing ceremony in Chromium, end to end: the example host (docs/examples) asks, a local
person and a directory person (real slapd) sign at idgov, and the host receives tokens that a
JOSE library idgov does not use verifies offline. The host never handles a password."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from joserfc import jws
from joserfc.errors import SecurityWarning
from joserfc.jwk import KeySet
from playwright.sync_api import Browser, Page, expect

from idgov.config import ServerSettings, Settings
from idgov.db import transaction
from idgov.wiring import Services
from tests.functional.people import PASSWORD
from tests.functional.signing import prepare, signer
from tests.functional.test_host_examples import EXAMPLES, example
from tests.harness.live_server import LiveServer, live_server
from tests.harness.ports import LOOPBACK, free_port
from tests.harness.slapd import SlapdServer
from tests.integration.directory_support import NAME, verify_all, with_directory

pytestmark = [pytest.mark.e2e, pytest.mark.integration]
IDGOV_PORT = free_port(LOOPBACK)


@pytest.fixture
def settings(settings: Settings, own_slapd: SlapdServer) -> Settings:
    # The ceremony URL and the tokens' issuer are the address the browser and host use.
    server = ServerSettings(
        secret_key=settings.server.secret_key, base_url=f"http://{LOOPBACK}:{IDGOV_PORT}"
    )
    return with_directory(settings, own_slapd).model_copy(update={"server": server})


@pytest.fixture
def idgov(app: Flask) -> Iterator[LiveServer]:
    with live_server(app, IDGOV_PORT) as running:
        yield running


@pytest.fixture
def example_host(
    services: Services, idgov: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[LiveServer]:
    """docs/examples/ceremony_host.py, registered with its return URL, served on its port."""
    monkeypatch.syspath_prepend(str(EXAMPLES))
    module = example("ceremony_host")
    port = free_port(LOOPBACK)
    with transaction(services.sessions) as session:
        client, secret = services.clients.add(
            session,
            "demo-host",
            ["signatures"],
            return_urls=[f"http://{LOOPBACK}:{port}/signed"],
            reason="e2e",
        )
    host_app = module.create_app(idgov.url, client.client_id, secret)
    with live_server(host_app, port) as running:
        yield running


def sign_at_idgov(
    page: Page, host: LiveServer, signer_name: str, password: str, screenshots: Path
) -> str:
    """From the host's page through idgov's ceremony and back; the token the host shows."""
    page.goto(f"{host.url}/")
    page.get_by_label("Signer's username (optional)").fill(signer_name)
    page.get_by_role("button", name="Sign with idgov").click()
    expect(page.get_by_role("heading", name="Electronic signature requested")).to_be_visible()
    expect(page.get_by_text("Cleaning of the fermenter")).to_be_visible()
    expect(page.get_by_text("I approve this record.")).to_be_visible()
    expect(page.get_by_label("Username")).to_have_value(signer_name)
    page.get_by_label("Password").fill(password)
    page.screenshot(path=str(screenshots / f"ceremony-{signer_name}.png"), full_page=True)
    page.get_by_role("button", name="Sign", exact=True).click()
    expect(page.get_by_role("heading", name="Signed and verified")).to_be_visible()
    return page.locator("#token").inner_text()


def verified_elsewhere(idgov: LiveServer, token: str) -> dict[str, object]:
    """joserfc, with the published JWK Set: a JOSE library idgov does not use."""
    with urllib.request.urlopen(f"{idgov.url}/.well-known/jwks.json") as response:
        keys = KeySet.import_key_set(json.load(response))
    # RFC 9864 deprecates the name "EdDSA" (for "Ed25519"); joserfc warns and verifies.
    with pytest.warns(SecurityWarning, match="EdDSA is deprecated"):
        checked = jws.deserialize_compact(token, keys, algorithms=["EdDSA"])
    payload: dict[str, object] = json.loads(checked.payload)
    return payload


@pytest.mark.req("CMP-2")
@pytest.mark.req("LNK-2")
def test_a_local_and_a_directory_person_sign_through_the_ceremony(
    services: Services,
    idgov: LiveServer,
    example_host: LiveServer,
    browser: Browser,
    own_slapd: SlapdServer,
    tmp_path: Path,
) -> None:
    _internal, admin = prepare(services, host="internal")
    signer(services, "jdoe", admin, name="Jane Doe")
    services.directory_sync.run(NAME, full=True)
    verify_all(services, admin, "alice")
    alice = own_slapd.people["alice"]

    page = browser.new_page(viewport={"width": 1100, "height": 900})
    try:
        local = sign_at_idgov(page, example_host, "jdoe", PASSWORD, tmp_path)
        page.screenshot(path=str(tmp_path / "host-after-ceremony.png"), full_page=True)
        directory = sign_at_idgov(page, example_host, "alice", alice.password, tmp_path)
    finally:
        page.close()

    for token, printed in ((local, "Jane Doe"), (directory, "Alice Anders")):
        payload = verified_elsewhere(idgov, token)
        assert payload["manifest"]["printed_name"] == printed  # type: ignore[index]
        assert payload["iss"] == idgov.url
        assert payload["authn"]["method"] == "password"  # type: ignore[index]
