"""A quarterly access review in the browser: defined, started, decided and signed (REV-1..4)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from ldap3 import MODIFY_ADD
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from idgov.config import Settings
from idgov.db import transaction
from idgov.reviews.campaigns.schedule import QUARTERLY
from idgov.reviews.models import ReviewSignoff
from idgov.wiring import Services
from tests.functional.people import PASSWORD, fast_hashing, person
from tests.functional.review_support import campaign, entitlement, org
from tests.harness.live_server import LiveServer
from tests.harness.slapd import SlapdServer
from tests.integration.directory_support import NAME, verify_all, with_directory

pytestmark = [pytest.mark.e2e, pytest.mark.integration]
CAMPAIGN = "Quarterly corp access"
WHY = "Bob moved to production planning; he no longer approves QA records."


@pytest.fixture
def settings(settings: Settings, own_slapd: SlapdServer) -> Settings:
    return with_directory(settings, own_slapd)


def sign_in(page: Page, server: LiveServer, username: str, password: str) -> None:
    page.goto(f"{server.url}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name=f"Sign out ({username})")).to_be_visible()


def qa_approvers(slapd: SlapdServer) -> list[str]:
    with slapd.admin_connection() as conn:
        conn.search(f"cn=qa-approvers,{slapd.groups_dn}", "(objectClass=*)", attributes=["member"])
        return [str(dn) for dn in conn.entries[0].member.values]


def restore_bob(slapd: SlapdServer) -> None:
    bob = slapd.people["bob"].dn
    if bob not in qa_approvers(slapd):
        with slapd.admin_connection() as conn:
            conn.modify(slapd.groups["qa-approvers"].dn, {"member": [(MODIFY_ADD, [bob])]})


def prepare(services: Services) -> None:
    """The directory synced; a local admin (verified by a security officer) who verifies and
    certifies the manager alice, as an admin would after the first sync."""
    fast_hashing(services)
    with transaction(services.sessions) as session:
        services.keys.create(session, "signature", reason="e2e setup")
    services.directory_sync.run(NAME, full=True)
    admin = person(services, "admin1", roles=("admin",), name="Ada Admin")
    officer = person(services, "officer1", roles=("security_officer",), name="Otto Officer")
    verify_all(services, officer, "admin1")
    verify_all(services, admin, "alice")


def define_and_start(page: Page, server: LiveServer) -> None:
    """The admin's part: a quarterly definition over the corp directory, started now."""
    sign_in(page, server, "admin1", PASSWORD)
    page.goto(f"{server.url}/admin/reviews")
    page.get_by_label("Name", exact=True).fill(CAMPAIGN)
    page.get_by_label("Whole directories").check()
    page.get_by_label("Names (comma-separated").fill("corp")
    page.get_by_label("Reviewer", exact=True).select_option("manager")
    page.get_by_label("Fallback reviewer").fill("admin1")
    expect(page.get_by_label("Schedule (cron")).to_have_value(QUARTERLY)
    page.get_by_role("button", name="Create definition").click()
    expect(page.get_by_role("status")).to_contain_text(f"{CAMPAIGN} is created")
    page.get_by_role("button", name=f"Start {CAMPAIGN} now").click()
    expect(page.get_by_role("status")).to_contain_text("is started with 6 items")
    expect(page.get_by_role("heading", name="Progress per reviewer")).to_be_visible()
    page.get_by_role("button", name="Sign out (admin1)").click()


@pytest.mark.req("REV-1")
@pytest.mark.req("REV-3")
@pytest.mark.req("REV-4")
def test_a_manager_completes_a_quarterly_review_in_the_browser_and_signs_it(
    services: Services, server: LiveServer, browser: Browser, own_slapd: SlapdServer, tmp_path: Path
) -> None:
    prepare(services)
    alice = own_slapd.people["alice"]
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        define_and_start(page, server)

        sign_in(page, server, "alice", alice.password)
        page.goto(f"{server.url}/reviews")
        page.get_by_role("link", name=re.compile(CAMPAIGN)).click()
        groups = page.locator("section h2")
        expect(groups).to_have_count(3)
        expect(groups.nth(0)).to_contain_text("Bob Berg")
        expect(page.get_by_text("Suggestion: revoke").first).to_be_visible()  # a hint only
        expect(page.locator("input[name=item]:checked")).to_have_count(0)
        page.screenshot(path=str(tmp_path / "inbox.png"), full_page=True)

        page.get_by_label("Select all shown").check()
        page.get_by_label("Select Bob Berg: qa-approvers").uncheck()
        expect(page.locator("#checked-count")).to_have_text("4 items checked")
        page.get_by_role("button", name="Certify checked").click()
        expect(page.get_by_role("status")).to_have_text("4 items certified.")

        page.get_by_label("Justification").fill(WHY)
        page.get_by_role("button", name="Revoke Bob Berg: qa-approvers").click()
        expect(page.get_by_role("status")).to_have_text("1 item revoked.")
        page.get_by_role("link", name="Continue to the sign-off").click()

        expect(page.get_by_text("5 (4 certified, 1 revoked)")).to_be_visible()
        digest = page.locator("dd code.digest").first.inner_text()
        assert re.fullmatch(r"sha256:[0-9a-f]{64}", digest)
        page.get_by_label("Your password").fill(alice.password)
        page.get_by_role("button", name="Sign my review").click()

        manifestation = page.locator("section.manifestation")
        expect(manifestation).to_contain_text("Alice Anders (alice)")
        expect(manifestation).to_contain_text("review: I have reviewed this record.")
        expect(manifestation).to_contain_text(re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC"))
        with services.sessions() as session:
            signoff = session.scalars(select(ReviewSignoff)).one()
        assert (signoff.digest, signoff.item_count) == (digest, 5)
        expect(manifestation).to_contain_text(signoff.signature_id)

        services.remediation.carry_out_due()  # REV-4: the signed revocation is carried out
        assert own_slapd.people["bob"].dn not in qa_approvers(own_slapd)
    finally:
        page.close()
        restore_bob(own_slapd)


@pytest.mark.req("REV-3")
def test_the_inbox_works_without_javascript(
    services: Services, server: LiveServer, browser: Browser
) -> None:
    team = org(services)
    entitlement(services, "qa-approvers", {"bob": team.bob, "carol": team.carol})
    campaign(services, fallback=team.admin)
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, server, "alice", PASSWORD)
        page.goto(f"{server.url}/reviews")
        page.get_by_role("link", name=re.compile("Q-review")).click()
        expect(page.get_by_label("Select all shown")).to_be_hidden()  # needs the script
        page.get_by_label("Select Bob Tester: qa-approvers").check()
        page.get_by_label("Select Carol Tester: qa-approvers").check()
        page.get_by_role("button", name="Revoke checked").click()
        expect(page.get_by_role("alert")).to_contain_text("a revocation needs a justification")
        expect(page.get_by_label("Select Bob Tester: qa-approvers")).to_be_checked()  # kept
        page.get_by_role("button", name="Certify checked").click()
        expect(page.get_by_role("status")).to_have_text("2 items certified.")
        expect(page.get_by_role("link", name="Continue to the sign-off")).to_be_visible()
    finally:
        context.close()
