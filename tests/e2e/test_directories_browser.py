"""The directory pages in Chromium with a real OpenLDAP (issue 15 item 6): an admin opens
/admin/directories, tests the connection, syncs now and reads the run's counts (ACC-2).

Screenshots: directories, directory, directory-synced (each also checked by axe-core).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from idgov.config import Settings
from idgov.wiring import Services
from tests.e2e.screens import shoot
from tests.e2e.signing_in import sign_in
from tests.functional.people import fast_hashing, person
from tests.harness.live_server import LiveServer
from tests.harness.slapd import SEED_PEOPLE, SlapdServer
from tests.integration.directory_support import NAME, identity_named, with_directory

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


@pytest.fixture(autouse=True)
def ada(services: Services) -> None:
    """Only admins may test and sync (web/ui/directory_pages.py OPERATORS)."""
    fast_hashing(services)
    person(services, "ada", roles=("admin",), name="Ada Admin")


@pytest.fixture
def settings(settings: Settings, slapd: SlapdServer) -> Settings:
    return with_directory(settings, slapd)


@pytest.mark.req("ACC-2")
def test_an_admin_tests_the_directory_syncs_it_and_reads_the_counts(
    browser: Browser, server: LiveServer, services: Services, screenshots: Path
) -> None:
    page = sign_in(browser, server, "ada", "Europe/Paris")

    page.get_by_role("navigation").get_by_role("link", name="Directories").click()
    expect(page.get_by_role("heading", name="Directories", exact=True)).to_be_visible()
    listed = page.get_by_role("table", name="1 directory configured, with the last sync")
    expect(listed.get_by_role("row").nth(1)).to_contain_text("never synced")
    shoot(page, screenshots, "directories")

    listed.get_by_role("link", name=NAME).click()
    expect(page.get_by_role("heading", name=f"Directory {NAME}")).to_be_visible()
    page.get_by_role("button", name="Test the connection").click()
    expect(page.get_by_role("status")).to_contain_text(f"{NAME}: connected to ldap://")
    expect(page.get_by_role("status")).to_contain_text("searched as the service account")
    expect(page.get_by_role("cell", name="No sync yet.")).to_be_visible()
    shoot(page, screenshots, "directory")

    page.get_by_label("Full sync (read everything and find accounts that are gone)").check()
    page.get_by_role("button", name="Sync now").click()
    people = len(SEED_PEOPLE)
    expect(page.get_by_role("status")).to_contain_text(f"Full sync of {NAME} succeeded")
    expect(page.get_by_role("status")).to_contain_text(f"users_read {people}, ")
    runs = page.get_by_role("table", name="Recent syncs, newest first (1 run)")
    newest = runs.get_by_role("row").nth(1)
    expect(newest).to_contain_text("succeeded")
    expect(newest).to_contain_text(f"users_read {people}, ")
    expect(newest).to_contain_text(f"created {people}, ")
    expect(newest.locator(".local-time").first).to_contain_text("your time")
    shoot(page, screenshots, "directory-synced")
    page.close()

    assert identity_named(services, "alice").provider == NAME  # the sync really ran
