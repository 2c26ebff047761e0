"""An admin in the browser registers a host system, copies its secret shown once, and rotates
it (DEV-1, AUD-1). Screenshots go to $IDGOV_SCREENSHOTS when set, else the test's temporary
directory."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from idgov.wiring import Services
from tests.e2e.screens import shoot
from tests.functional.people import PASSWORD, fast_hashing, person
from tests.harness.live_server import LiveServer

pytestmark = [pytest.mark.e2e]


@pytest.mark.req("DEV-1")
def test_an_admin_registers_a_host_rotates_its_secret_and_changes_its_access(
    browser: Browser, server: LiveServer, services: Services, screenshots: Path
) -> None:
    folder = screenshots
    fast_hashing(services)
    person(services, "ada", roles=("admin",), name="Ada Admin")
    page = browser.new_context().new_page()
    page.goto(f"{server.url}/login")
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Host systems").click()
    expect(page.get_by_role("heading", name="Host systems", exact=True)).to_be_visible()

    page.get_by_label("Name", exact=True).fill("lims")
    page.get_by_label("Reason (kept in the audit trail)").fill("LIMS go-live")
    page.get_by_role("button", name="Register and show the secret once").click()
    expect(page.locator(".field-error").first).to_contain_text("scopes")  # none chosen
    page.get_by_label("signatures").check()
    page.get_by_label("Allowed addresses").fill("192.0.2.0/24")
    shoot(page, folder, "hosts-register")
    page.get_by_role("button", name="Register and show the secret once").click()
    expect(page.get_by_role("heading", name="Host lims is registered")).to_be_visible()
    first = page.locator("#client-secret").inner_text()
    shoot(page, folder, "hosts-secret")

    page.get_by_role("link", name="Go to host lims").click()
    expect(page.get_by_text(first)).to_have_count(0)  # never shown again
    expect(page.locator("table.trail").last).to_contain_text("client:host:registered")
    shoot(page, folder, "hosts-host")
    page.locator("#rotate-reason").fill("secret seen in a ticket")
    page.get_by_role("button", name="Rotate the secret").click()
    expect(page.get_by_role("heading", name="New secret for host lims")).to_be_visible()
    assert page.locator("#client-secret").inner_text() != first
    shoot(page, folder, "hosts-rotated")

    page.get_by_role("link", name="Go to host lims").click()
    scopes = page.locator("form", has=page.get_by_role("button", name="Save the scopes"))
    scopes.get_by_label("entitlements").check()
    scopes.get_by_label("signatures").uncheck()
    scopes.get_by_label("Reason (kept in the audit trail)").fill("reviews only, CR-31")
    scopes.get_by_role("button", name="Save the scopes").click()
    expect(page.get_by_text("now has the scopes entitlements")).to_be_visible()
    page.locator("#networks-allowed_cidrs").fill("192.0.2.0/24\n198.51.100.7")
    page.locator("#networks-reason").fill("second LIMS node")
    page.get_by_role("button", name="Save the allowed addresses").click()
    expect(page.get_by_text("may now call from 192.0.2.0/24, 198.51.100.7/32")).to_be_visible()
    shoot(page, folder, "hosts-access-changed")
