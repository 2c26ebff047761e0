"""An administrator in the browser: finds people in the list by filter, creates a person
through the form (refused first, for a username that is someone else's), and a second
administrator verifies them (ACC-2, UNQ-1, AUD-1, IDV-1). Screenshots go to
$IDGOV_SCREENSHOTS when set, else to the test's temporary directory."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import update

from idgov.db import transaction
from idgov.identity.models import Identity, IdentityStatus
from idgov.wiring import Services
from tests.e2e.screens import shoot
from tests.functional.people import PASSWORD, events, fast_hashing, person
from tests.harness.live_server import LiveServer

pytestmark = [pytest.mark.e2e]


def prepare(services: Services) -> None:
    """Ada and Grace administer; a few people, some of them active, one managing others."""
    fast_hashing(services)
    person(services, "ada", roles=("admin",), name="Ada Admin")
    person(services, "grace", roles=("admin",), name="Grace Hopper")
    for username, name in [
        ("mia.manager", "Mia Manager"),
        ("jdoe", "John Doe"),
        ("jane.doe", "Jane Doe"),
        ("bob", "Bob Builder"),
    ]:
        person(services, username, name=name, password=None)
    with transaction(services.sessions) as session:
        session.execute(
            update(Identity)
            .where(Identity.username.in_(["ada", "grace", "jdoe", "mia.manager"]))
            .values(status=IdentityStatus.ACTIVE)
        )


@pytest.mark.req("IDV-1")
@pytest.mark.req("UNQ-1")
def test_an_admin_filters_people_and_creates_one_verified_by_a_second_admin(
    browser: Browser, server: LiveServer, services: Services, screenshots: Path
) -> None:
    prepare(services)
    page = browser.new_context(timezone_id="Europe/Berlin").new_page()
    page.goto(f"{server.url}/login")
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="People", exact=True).click()
    expect(page.get_by_role("heading", name="People")).to_be_visible()
    rows = page.locator("table.people tbody tr")
    expect(rows).to_have_count(6)
    expect(page.locator(".local-time").first).to_contain_text("your time")
    shoot(page, screenshots, "people-list")

    page.get_by_label("Name or username").fill("J")
    page.get_by_label("Status").select_option("active")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("John Doe")
    expect(page.locator("table.people caption")).to_contain_text("1 person")
    shoot(page, screenshots, "people-filtered")

    page.get_by_role("link", name="Create a person").click()
    expect(page.get_by_role("heading", name="Create a person")).to_be_visible()
    page.get_by_label("Username", exact=True).fill("JDoe")  # John Doe's, whatever the case (UNQ-1)
    page.get_by_label("Printed name").fill("Nora Newhire")
    page.get_by_label("E-mail").fill("nora@example.com")
    page.get_by_label("Manager (username)").fill("mia.manager")
    page.get_by_label("reviewer").check()
    page.get_by_label("Reason (kept in the audit trail)").fill("joins QA, ticket HR-42")
    shoot(page, screenshots, "person-new")
    page.get_by_role("button", name="Create, pending verification").click()
    expect(page.get_by_role("alert")).to_contain_text("Username: username 'jdoe' belongs")
    expect(page.get_by_label("Username", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Printed name")).to_have_value("Nora Newhire")  # kept
    expect(page.get_by_label("reviewer")).to_be_checked()
    shoot(page, screenshots, "person-new-refused")
    assert events(services, "identity:identifier:reuse-refused")

    page.get_by_label("Username", exact=True).fill("nora.newhire")
    page.get_by_role("button", name="Create, pending verification").click()
    expect(page.get_by_role("heading", name="Nora Newhire")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("pending verification")
    expect(page.get_by_role("link", name="Mia Manager")).to_be_visible()
    shoot(page, screenshots, "person-created")
    created = events(services, "identity:identity:created")[-1]
    assert created.reason == "joins QA, ticket HR-42"

    # IDV-1: Grace, not Ada, verifies her (the person page's verify action is built apart;
    # the service is the one that page and POST /api/v1/identities/{id}/verification call).
    with transaction(services.sessions) as session:
        grace = services.identities.by_username(session, "grace")
        nora = services.identities.by_username(session, "nora.newhire")
        assert grace is not None
        assert nora is not None
        services.identities.record_verification(session, nora, grace, "passport")
    page.goto(f"{server.url}/people?q=nora&status=active")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("nora.newhire")
