"""An administrator in the browser changes the lockout policy with a reason and sees the diff;
a value out of range is refused on its field (CHG-1, ACC-2).

Screenshots go to $IDGOV_SCREENSHOTS when set, else to the test's temporary directory.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from idgov.policies.documents import LockoutPolicy
from idgov.wiring import Services
from tests.e2e.screens import shoot
from tests.functional.people import PASSWORD, fast_hashing, person
from tests.harness.live_server import LiveServer

pytestmark = [pytest.mark.e2e]


@pytest.mark.req("CHG-1")
def test_an_admin_changes_the_lockout_policy_and_sees_the_diff(
    browser: Browser, server: LiveServer, services: Services, screenshots: Path
) -> None:
    fast_hashing(services)
    person(services, "ada", roles=("admin",), name="Ada Admin")
    context = browser.new_context(timezone_id="America/New_York")
    page = context.new_page()
    page.goto(f"{server.url}/login")
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    page.get_by_role("link", name="Policies").click()
    expect(page.get_by_role("heading", name="Policies")).to_be_visible()
    shoot(page, screenshots, "policies")
    page.get_by_role("link", name="Lockout policy").click()
    expect(page.get_by_role("heading", name="Lockout policy")).to_be_visible()
    expect(page.get_by_label("Max failures")).to_have_value("5")
    expect(page.get_by_text("gxp-classic").first).to_be_visible()
    shoot(page, screenshots, "policy-lockout")

    # Out of range: refused on the field, nothing recorded.
    page.get_by_label("Max failures").fill("50")
    page.get_by_label("Reason for the change").fill("CAPA-12: fewer guesses")
    page.get_by_role("button", name="Record a new version").click()
    expect(page.get_by_role("alert")).to_contain_text("Nothing was changed")
    expect(page.get_by_label("Max failures")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#e-max_failures")).to_contain_text("less than or equal to 20")
    shoot(page, screenshots, "policy-lockout-refused")

    # By keyboard: the field, then the reason, then the button.
    page.get_by_label("Max failures").fill("3")
    page.get_by_label("Reason for the change").focus()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Record a new version")).to_be_focused()
    page.keyboard.press("Enter")

    expect(page.get_by_role("status")).to_contain_text("Lockout policy version 1 is recorded")
    expect(page.get_by_role("heading", name="Lockout policy: what changed")).to_be_visible()
    row = page.get_by_role("row", name="Max failures")
    expect(row.locator("td.old")).to_have_text("5")
    expect(row.locator("td.new")).to_have_text("3")
    expect(page.locator("table.diff tbody tr")).to_have_count(1)
    expect(page.get_by_text("CAPA-12: fewer guesses")).to_be_visible()
    expect(page.locator(".local-time").first).to_contain_text("your time")
    shoot(page, screenshots, "policy-lockout-diff")

    page.get_by_role("link", name="← Versions of the lockout policy").click()
    expect(page.get_by_role("table")).to_contain_text("CAPA-12: fewer guesses")
    shoot(page, screenshots, "policy-lockout-history")
    context.close()
    with services.sessions() as session:
        assert services.policies.current(session, LockoutPolicy).max_failures == 3
