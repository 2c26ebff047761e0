"""Directories in the console (/admin/directories) against a real slapd: status, runs with
counts and errors, sync now and the connection test for admins; auditors read only
(ACC-2, as the API's roles)."""

from __future__ import annotations

import html

import pytest
from flask import Flask

from idgov.config import Settings
from idgov.wiring import Services
from tests.functional.console_support import browser
from tests.functional.people import fast_hashing, page_csrf
from tests.harness.slapd import SlapdServer
from tests.integration.directory_support import NAME, with_directory

pytestmark = pytest.mark.integration


@pytest.fixture
def settings(settings: Settings, own_slapd: SlapdServer) -> Settings:
    return with_directory(settings, own_slapd)


@pytest.mark.req("ACC-2")
def test_an_admin_syncs_and_tests_and_an_auditor_only_reads(
    app: Flask, services: Services, own_slapd: SlapdServer
) -> None:
    fast_hashing(services)
    admin = browser(app, services, "ada", "admin")
    auditor = browser(app, services, "audrey", "auditor")
    assert "never synced" in auditor.get("/admin/directories").get_data(as_text=True)
    token = page_csrf(auditor)
    for action in ("sync", "test"):
        refused = auditor.post(f"/admin/directories/{NAME}/{action}", data={"csrf_token": token})
        assert refused.status_code == 403, action
    assert "Sync now" not in auditor.get(f"/admin/directories/{NAME}").get_data(as_text=True)

    token = page_csrf(admin)
    tested = admin.post(
        f"/admin/directories/{NAME}/test", data={"csrf_token": token}, follow_redirects=True
    )
    assert "searched as the service account" in tested.get_data(as_text=True)
    synced = admin.post(
        f"/admin/directories/{NAME}/sync",
        data={"csrf_token": token, "full": "yes"},
        follow_redirects=True,
    )
    page = html.unescape(synced.get_data(as_text=True))
    assert f"Full sync of {NAME} succeeded (run " in page, page
    assert "created 6" in page
    listed = auditor.get("/admin/directories").get_data(as_text=True)
    assert "full" in listed
    assert "never synced" not in listed

    own_slapd.stop()
    try:
        down = admin.post(f"/admin/directories/{NAME}/test", data={"csrf_token": token})
        assert down.status_code == 503
        assert "The connection test failed" in down.get_data(as_text=True)
        failed = admin.post(f"/admin/directories/{NAME}/sync", data={"csrf_token": token})
        assert failed.status_code == 503
        assert "The sync failed (recorded as a failed run below)" in failed.get_data(as_text=True)
        assert "failed" in admin.get("/admin/directories").get_data(as_text=True)
    finally:
        own_slapd.start()
    assert admin.get("/admin/directories/hr").status_code == 404
