"""An auditor in the browser: filters the trail for one person, opens an event, exports what
is filtered and verifies the chain (AUD-1, AUD-3, EXP-1, ACC-2).

Screenshots go to $IDGOV_SCREENSHOTS when set, else to the test's temporary directory; the
run prints where.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from idgov.audit.context import Actor, Target
from idgov.audit.models import AuditEvent
from idgov.clock import FrozenClock
from idgov.wiring import Services
from tests.e2e.screens import shoot
from tests.functional.console_support import record
from tests.functional.people import PASSWORD, fast_hashing, person
from tests.harness.live_server import LiveServer

pytestmark = [pytest.mark.e2e]


def prepare(services: Services, clock: FrozenClock) -> str:
    """An auditor, and Alice, who changed documents among other people's events."""
    fast_hashing(services)
    person(services, "inspector", roles=("auditor",), name="Ingrid Inspector")
    alice_id = person(services, "alice", name="Alice Analyst")
    alice = Actor("identity", alice_id, "Alice Analyst")
    bob = Actor("identity", "id-bob", "Bob Builder")
    for n in range(6):
        record(
            services,
            clock,
            "record:document:approved",
            Target("document", f"DOC-{n}"),
            alice if n % 2 == 0 else bob,
            old={"status": "in review"},
            new={"status": "approved", "note": "<b>not bold</b>"},
            reason=f"approved step {n}",
        )
    return alice_id


@pytest.mark.req("AUD-1")
@pytest.mark.req("EXP-1")
def test_an_auditor_filters_opens_exports_and_verifies(
    browser: Browser,
    server: LiveServer,
    services: Services,
    clock: FrozenClock,
    screenshots: Path,
    tmp_path: Path,
) -> None:
    alice_id = prepare(services, clock)
    context = browser.new_context(accept_downloads=True, timezone_id="Europe/Berlin")
    page = context.new_page()
    page.goto(f"{server.url}/login")
    page.get_by_label("Username").fill("inspector")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out (inspector)")).to_be_visible()

    # The skip link comes first for keyboard users.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()

    page.get_by_role("link", name="Audit trail").click()
    expect(page.get_by_role("heading", name="Audit trail")).to_be_visible()
    shoot(page, screenshots, "audit-trail")

    page.get_by_label("Actor (username or id)").fill("alice")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(f"{server.url}/audit?since=&until=&actor=alice&target=&action=")
    rows = page.locator("table.trail tbody tr")
    expect(rows).to_have_count(3)
    expect(page.locator("table.trail caption")).to_contain_text("Events matching the filter")
    expect(page.locator(".local-time").first).to_contain_text("your time")
    shoot(page, screenshots, "audit-trail-alice")

    page.get_by_role("link", name="Event", exact=False).first.click()
    expect(page.get_by_role("heading", name="New values")).to_be_visible()
    expect(page.locator("pre.values").last).to_contain_text('"note": "<b>not bold</b>"')
    shoot(page, screenshots, "audit-event")
    page.get_by_role("link", name="← Back to the trail").click()
    expect(rows).to_have_count(3)

    with page.expect_download() as waiting:
        page.get_by_role("link", name="JSON").click()
    saved = tmp_path / "trail.json"
    waiting.value.save_as(saved)
    exported = json.loads(saved.read_text(encoding="utf-8"))
    with services.sessions() as session:
        wanted = list(
            session.scalars(
                select(AuditEvent.seq)
                .where(AuditEvent.actor_id == alice_id)
                .order_by(AuditEvent.seq)
            )
        )
    assert [event["seq"] for event in exported["events"]] == wanted

    page.get_by_role("button", name="Verify the chain now").click()
    expect(page.get_by_role("status")).to_contain_text("The chain verifies")
    shoot(page, screenshots, "audit-verify")

    page.goto(f"{server.url}/audit?since=last+week")
    expect(page.get_by_role("alert")).to_contain_text("From:")
    expect(page.get_by_label("From (UTC, inclusive)")).to_have_attribute("aria-invalid", "true")
    shoot(page, screenshots, "audit-trail-bad-date")
    context.close()
