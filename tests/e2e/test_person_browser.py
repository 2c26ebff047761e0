"""A person's page in the browser (issue 15 item 2): the creator cannot verify, a second
administrator verifies and sets roles and manager, a security officer unlocks, and an
administrator's reset shows only how the set-password link travels (IDV-1, CMP-2, ACC-2,
LOCK-2). Screenshots go to $IDGOV_SCREENSHOTS when set, else the test's temporary
directory."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect

from idgov.db import transaction
from idgov.wiring import Services
from tests.e2e.screens import shoot
from tests.e2e.test_review_browser import sign_in
from tests.functional.people import PASSWORD
from tests.functional.person_support import handover_mode, staff
from tests.functional.test_console_alerts import lock_out
from tests.harness.live_server import LiveServer

pytestmark = [pytest.mark.e2e]


def give_password(services: Services, username: str) -> None:
    with transaction(services.sessions) as session:
        found = services.identities.by_username(session, username)
        assert found is not None
        services.passwords.set_initial(session, found, PASSWORD)


def signed_in(browser: Browser, server: LiveServer, username: str) -> Page:
    """A browser of its own, signed in as `username`."""
    page = browser.new_context().new_page()
    sign_in(page, server, username, PASSWORD)
    return page


@pytest.mark.req("IDV-1")
@pytest.mark.req("CMP-2")
@pytest.mark.req("LOCK-2")
def test_the_person_page_from_creation_to_reset(
    browser: Browser, server: LiveServer, services: Services, app: Flask, screenshots: Path
) -> None:
    staff(services, with_jdoe=False)
    ada = signed_in(browser, server, "ada")
    ada.get_by_role("link", name="People", exact=True).click()
    ada.get_by_role("link", name="Create a person").click()
    ada.get_by_label("Username", exact=True).fill("jdoe")
    ada.get_by_label("Printed name").fill("John Doe")
    ada.get_by_label("E-mail").fill("jdoe@example.com")
    ada.get_by_label("Reason (kept in the audit trail)").fill("new starter, ticket HR-7")
    ada.get_by_role("button", name="Create, pending verification").click()
    expect(ada.get_by_role("heading", name="John Doe")).to_be_visible()
    url = ada.url.split("#", 1)[0]
    give_password(services, "jdoe")  # as the owner would through their set-password link
    expect(ada.locator("#person-status")).to_have_text("pending verification")
    shoot(ada, screenshots, "person")
    ada.get_by_label("Evidence type").fill("government-id")
    ada.locator("#verify-reason").fill("passport seen at the desk")
    ada.get_by_role("button", name="Record the verification").click()
    expect(ada.get_by_role("alert")).to_contain_text("Refused (403)")
    expect(ada.get_by_role("alert")).to_contain_text("cannot also verify it")
    expect(ada.locator("#person-status")).to_have_text("pending verification")
    ada.locator("#verify").scroll_into_view_if_needed()
    shoot(ada, screenshots, "person-verify-refused")

    bob = signed_in(browser, server, "bob")
    bob.goto(url)
    bob.get_by_label("Evidence type").fill("government-id")
    bob.get_by_label("Evidence reference").fill("P-1234")
    bob.locator("#verify-reason").fill("passport seen at the desk")
    bob.get_by_role("button", name="Record the verification").click()
    expect(bob.get_by_role("status")).to_contain_text("Identity verification of jdoe recorded")
    expect(bob.locator("#person-status")).to_have_text("active")
    expect(bob.locator("table.trail").nth(1)).to_contain_text("Bob Second (bob)")
    shoot(bob, screenshots, "person-verified")

    bob.get_by_label("reviewer").check()
    bob.locator("#roles-reason").fill("joins the QA review team")
    bob.get_by_role("button", name="Save the roles").click()
    expect(bob.locator("#person-roles")).to_have_text("reviewer")
    bob.get_by_label("Manager's username").fill("ada")
    bob.locator("#manager-reason").fill("reports to Ada")
    bob.get_by_role("button", name="Save the manager").click()
    expect(bob.get_by_role("status")).to_contain_text("jdoe is now managed by ada")
    expect(bob.locator("#person-manager")).to_contain_text("Ada Admin")
    shoot(bob, screenshots, "person-roles")

    lock_out(app, "jdoe")
    sam = signed_in(browser, server, "sam")
    sam.goto(url)
    expect(sam.locator("#person-status")).to_have_text("locked")
    sam.locator("#unlock-reason").fill("identity confirmed by phone")
    sam.get_by_role("button", name="Unlock jdoe").click()
    expect(sam.get_by_role("status")).to_contain_text("jdoe is unlocked (now active)")
    expect(sam.locator("#status")).to_be_visible()
    shoot(sam, screenshots, "person-unlock")

    ada.goto(url)
    ada.locator("#reset-reason").fill("forgot the password")
    ada.get_by_role("button", name="Reset the password").click()
    notice = ada.get_by_role("status")
    expect(notice).to_contain_text("e-mailed to jdoe@example.com")
    expect(notice).to_contain_text("expires at")
    expect(ada.locator("#waiting-link")).to_contain_text("e-mail to the owner")
    expect(ada.locator("body")).not_to_contain_text("/account/set-password/")
    ada.locator("#password").scroll_into_view_if_needed()
    shoot(ada, screenshots, "person-reset")


@pytest.mark.req("CMP-2")
def test_in_handover_mode_a_second_admin_sees_the_link_once(
    browser: Browser, server: LiveServer, services: Services, screenshots: Path
) -> None:
    people = staff(services)
    handover_mode(services)
    url = f"{server.url}/people/{people['jdoe']}"
    ada = signed_in(browser, server, "ada")
    ada.goto(url)
    ada.locator("#reset-reason").fill("forgot the password")
    ada.get_by_role("button", name="Reset the password").click()
    expect(ada.get_by_role("status")).to_contain_text("a second administrator or security")
    expect(ada.get_by_role("button", name="Show the link once")).to_have_count(0)

    bob = signed_in(browser, server, "bob")
    bob.goto(url)
    expect(bob.locator("#waiting-link")).to_contain_text("handover by a second person")
    bob.get_by_role("button", name="Show the link once").click()
    expect(bob.get_by_role("heading", name="Set-password link for jdoe")).to_be_visible()
    expect(bob.locator("#set-password-url")).to_contain_text("/account/set-password/")
    shoot(bob, screenshots, "person-handover")
    bob.get_by_role("link", name="Back to jdoe").click()
    expect(bob.get_by_role("button", name="Show the link once")).to_have_count(0)
    expect(bob.locator("#waiting-link")).to_contain_text("handed over")
