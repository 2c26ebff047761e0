"""The home page per role in Chromium (issue 15 items 1 and 8): an admin, a security officer,
an auditor and a reviewer each see what waits for them, and a person reaches the navigation
and a form with the keyboard alone (skip link, visible focus).

Screenshots: home-admin, home-officer, home-auditor, home-reviewer, keyboard-password (each
also checked by axe-core, tests/e2e/accessibility.py).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect

from idgov.db import transaction
from idgov.identity.models import Role
from idgov.tokens.models import OtpToken
from idgov.wiring import Services
from tests.e2e.screens import shoot
from tests.e2e.signing_in import sign_in
from tests.functional.loss_support import add_token, report
from tests.functional.people import PASSWORD, person
from tests.functional.review_support import Org, campaign, entitlement, org
from tests.harness.live_server import LiveServer

pytestmark = [pytest.mark.e2e]


def prepare(app: Flask, services: Services) -> Org:
    """The review org (admin1, alice managing bob and carol, dave a security officer), an
    auditor, a campaign, a locked person, a loss case and a token overdue for its test."""
    team = org(services)
    person(services, "eve", roles=(Role.AUDITOR,), name="Eve Auditor")
    person(services, "newbie", name="Nina Newcomer")  # eve and nina wait for verification
    entitlement(services, "qa-approvers", {"bob": team.bob, "carol": team.carol})
    campaign(services, fallback=team.admin)
    client = app.test_client()
    for _ in range(5):  # the default lockout policy locks at the fifth failure
        client.post("/api/v1/session", json={"username": "carol", "password": "wrong"})
    report(services, team.bob, team.bob)
    token = add_token(services, team.carol)
    with transaction(services.sessions) as session:
        session.get_one(OtpToken, token).test_due_at = services.clock.now() - timedelta(days=2)
    return team


@pytest.mark.req("ACC-2")
def test_each_role_sees_what_waits_for_it_on_the_home_page(
    browser: Browser, server: LiveServer, app: Flask, services: Services, screenshots: Path
) -> None:
    prepare(app, services)

    page = sign_in(browser, server, "admin1")
    expect(page.get_by_role("heading", name="Waiting for an administrator")).to_be_visible()
    expect(page.get_by_role("heading", name="2 identities to verify")).to_be_visible()
    expect(page.get_by_role("link", name="Nina Newcomer (newbie)")).to_be_visible()
    expect(page.get_by_role("heading", name="1 review campaign in progress")).to_be_visible()
    expect(page.get_by_role("heading", name="Waiting for a security officer")).to_have_count(0)
    shoot(page, screenshots, "home-admin")

    page = sign_in(browser, server, "dave")
    expect(page.get_by_role("heading", name="Waiting for a security officer")).to_be_visible()
    expect(page.get_by_role("link", name="1 locked person")).to_be_visible()
    expect(page.get_by_text("1 open loss case")).to_be_visible()
    expect(page.get_by_text("1 token overdue for a test")).to_be_visible()
    expect(page.locator(".local-time").first).to_contain_text("your time")
    expect(page.get_by_role("heading", name="The audit chain")).to_have_count(0)
    shoot(page, screenshots, "home-officer")
    page.get_by_role("link", name="unlock with a reason").click()
    expect(page.get_by_role("heading", name="Locked people")).to_be_visible()

    page = sign_in(browser, server, "eve")
    expect(page.get_by_role("heading", name="The audit chain")).to_be_visible()
    expect(page.get_by_text("never from this console")).to_be_visible()
    page.get_by_role("button", name="Verify the chain now").click()
    expect(page.get_by_role("status")).to_contain_text("The chain verifies")
    page.get_by_role("navigation").get_by_role("link", name="Home").click()
    expect(page.get_by_role("definition").first).to_contain_text("the chain verified up to event")
    expect(page.get_by_role("definition").first).to_contain_text("by Eve Auditor")
    shoot(page, screenshots, "home-auditor")

    page = sign_in(browser, server, "alice")
    expect(page.get_by_role("heading", name="Your access reviews")).to_be_visible()
    page.get_by_role("link", name="2 open review items").click()
    expect(page).to_have_url(f"{server.url}/reviews")
    page.go_back()
    expect(page.get_by_role("heading", name="Waiting for an administrator")).to_have_count(0)
    shoot(page, screenshots, "home-reviewer")


def focused(page: Page) -> str:
    """The focused element: its tag, id and text, to say where the keyboard is."""
    found: str = page.evaluate(
        "() => { const e = document.activeElement;"
        " return `${e.tagName.toLowerCase()}#${e.id} ${e.textContent.trim()}`; }"
    )
    return found


def outline_of_focus(page: Page) -> str:
    found: str = page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement);"
        " return `${s.outlineStyle} ${s.outlineWidth}`; }"
    )
    return found


def test_the_navigation_and_a_form_work_with_the_keyboard_alone(
    browser: Browser, server: LiveServer, services: Services, screenshots: Path
) -> None:
    person(services, "kim", roles=(Role.AUDITOR,), name="Kim Keys")
    page = browser.new_page()
    page.goto(f"{server.url}/login")
    # The username field has the focus (autofocus); type, Tab to the password, Enter submits.
    expect(page.get_by_label("Username")).to_be_focused()
    page.keyboard.type("kim")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Sign out (kim)")).to_be_visible()

    # The skip link comes first and shows itself when focused; then Tab through the bar to
    # the navigation's "Password" link, every stop with a visible focus ring.
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    assert outline_of_focus(page) == "solid 3px"  # :focus-visible, idgov.css
    box = skip.bounding_box()
    assert box is not None
    assert box["x"] >= 0  # moved on screen
    for _ in range(12):
        page.keyboard.press("Tab")
        assert outline_of_focus(page) == "solid 3px", focused(page)
        if focused(page).endswith(" Password"):
            break
    expect(page.get_by_role("navigation").get_by_role("link", name="Password")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Change your password")).to_be_visible()

    # The form by keyboard: the skip link moves the focus to the content, Tab through the
    # labelled fields, Enter sends; the refusal is shown on the form.
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_label("Current password")).to_be_focused()
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Tab")
    page.keyboard.type("Quarry-Violet-Meadow-83")
    page.keyboard.press("Tab")
    expect(page.get_by_label("New password again")).to_be_focused()
    page.keyboard.type("Quarry-Violet-Meadow-84")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text(
        "The new password and its repetition are not the same."
    )
    shoot(page, screenshots, "keyboard-password")
