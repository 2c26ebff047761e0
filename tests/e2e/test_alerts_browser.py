"""A security officer in the browser: sees the open alerts on the home page, reads a lockout
alert's deliveries, re-notifies, unlocks the locked person with a reason, acknowledges an
attack alert with a note and opens the attack view (ALERT-1, LOCK-2, LOCK-3).

Screenshots go to $IDGOV_SCREENSHOTS when set, else to the test's temporary directory; the
run prints where.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, expect

from idgov.clock import FrozenClock
from idgov.db import transaction
from idgov.identity.models import Identity, IdentityStatus
from idgov.wiring import Services
from tests.e2e.screens import shoot
from tests.functional.people import PASSWORD, events, fast_hashing, person
from tests.harness.live_server import LiveServer

pytestmark = [pytest.mark.e2e]


def prepare(app: Flask, services: Services) -> str:
    """Sam, an active security officer; John, locked out; a guesser's attack alert."""
    fast_hashing(services)
    admin = person(services, "ada", roles=("admin",), name="Ada Admin")
    officer = person(services, "sam", roles=("security_officer",), name="Sam Secure")
    john = person(services, "jdoe", name="John Doe")
    with transaction(services.sessions) as session:
        verifier = session.get_one(Identity, admin)
        for verified in (officer, john):
            services.identities.record_verification(
                session, session.get_one(Identity, verified), verifier, "badge"
            )
        services.policies.change(
            session,
            "alerting",
            {"security_emails": ["security@example.com"]},
            reason="alerts reach the security unit",
            changed_by="test",
        )
    client = app.test_client()
    for _ in range(5):  # the default lockout policy locks at the fifth failure
        client.post("/api/v1/session", json={"username": "jdoe", "password": "wrong"})
    for n in range(5):  # five usernames from one source: an attack-source alert
        client.post("/api/v1/session", json={"username": f"admin{n}", "password": "guess"})
    return john


@pytest.mark.req("ALERT-1")
@pytest.mark.req("LOCK-2")
def test_an_officer_sees_the_alert_unlocks_and_acknowledges(
    browser: Browser,
    server: LiveServer,
    app: Flask,
    services: Services,
    clock: FrozenClock,
    screenshots: Path,
) -> None:
    john = prepare(app, services)
    context = browser.new_context(timezone_id="America/New_York")
    page = context.new_page()
    page.goto(f"{server.url}/login")
    page.get_by_label("Username").fill("sam")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Waiting for a security officer")).to_be_visible()
    expect(page.get_by_role("link", name="2 open alerts")).to_be_visible()
    expect(page.get_by_role("link", name="1 locked person")).to_be_visible()
    shoot(page, screenshots, "officer-home")

    page.get_by_role("link", name="2 open alerts").click()
    expect(page.get_by_role("heading", name="Alerts")).to_be_visible()
    expect(page.locator("table.trail tbody tr")).to_have_count(2)
    shoot(page, screenshots, "alerts-queue")

    page.locator("table.trail tbody tr").filter(has_text="jdoe").get_by_role("link").click()
    expect(page.get_by_role("table")).to_contain_text("security@example.com")
    expect(page.locator(".local-time").first).to_contain_text("your time")
    page.get_by_label("Reason").fill("the mail relay was down this morning")
    page.get_by_role("button", name="Re-notify now").click()
    expect(page.get_by_role("status")).to_contain_text("Notification 2 queued")
    shoot(page, screenshots, "alert-lockout")

    page.get_by_role("link", name="Home").click()
    page.get_by_role("link", name="unlock with a reason").click()
    page.get_by_label("Reason to unlock jdoe").fill("John confirmed by a call to his desk phone")
    page.get_by_role("button", name="Unlock").click()
    expect(page.get_by_role("status")).to_contain_text("jdoe is unlocked")
    expect(page.get_by_role("table")).to_contain_text("Nobody is locked.")
    shoot(page, screenshots, "lockouts-unlocked")

    page.get_by_role("link", name="Alerts", exact=True).click()
    expect(page.locator("table.trail tbody tr")).to_have_count(1)
    page.locator("table.trail tbody tr").filter(has_text="many usernames").get_by_role(
        "link"
    ).click()
    page.get_by_role("button", name="Acknowledge").click()  # empty: the browser asks first
    note = page.get_by_label("Note (what you found, what you did)")
    note.fill("our own scanner; told the network team to exclude idgov")
    page.get_by_role("button", name="Acknowledge").click()
    expect(page.get_by_role("status")).to_contain_text("with your note: our own scanner")
    shoot(page, screenshots, "alert-acknowledged")

    page.get_by_role("link", name="Attack view").click()
    expect(page.get_by_role("table", name="Failures by unknown username")).to_contain_text(
        "hmac-sha256:"
    )
    shoot(page, screenshots, "attack-view")
    context.close()

    with services.sessions() as session:
        assert session.get_one(Identity, john).status == IdentityStatus.ACTIVE
    assert len(events(services, "alert:attack-source:acknowledged")) == 1
    assert len(events(services, "alert:lockout:acknowledged")) == 1
