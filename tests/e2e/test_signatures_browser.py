"""Signatures and checkpoints in the browser, for auditors: search by record and signer, a
signature's manifestation as printed and its verification, the chain's checkpoints (MAN-1,
MAN-2, LNK-1, AUD-4; issue 15 items 7 and 8)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from idgov.clock import FrozenClock
from idgov.db import transaction
from idgov.wiring import Services
from tests.e2e.screens import shoot
from tests.e2e.signing_in import sign_in
from tests.functional.people import fast_hashing, person
from tests.functional.signing_support import SignatureMaker, record_ref
from tests.harness.live_server import LiveServer

pytestmark = [pytest.mark.e2e]


@pytest.mark.req("MAN-2")
@pytest.mark.req("AUD-4")
def test_an_auditor_finds_a_signature_reads_its_manifestation_and_the_checkpoints(
    browser: Browser,
    server: LiveServer,
    services: Services,
    clock: FrozenClock,
    screenshots: Path,
) -> None:
    fast_hashing(services)
    maker = SignatureMaker(services, clock)
    sop = record_ref("SOP-0042", "4")
    maker.sign(sop, username="alice", name="Alice Author", meaning="authorship")
    maker.sign(sop, username="bob", name="Bob Reviewer", meaning="review", reason="checked")
    with transaction(services.sessions) as session:
        services.keys.create(session, "audit", reason="test setup")
        services.checkpoints.issue(session)
    person(services, "eve", roles=("auditor",), name="Eve Analyst")

    page = sign_in(browser, server, "eve")
    page.get_by_role("link", name="Signatures").click()
    page.get_by_label("Record (TYPE:ID or ID)").fill("SOP-0042")
    page.get_by_label("Signer (username)").fill("bob")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("1 signature found, newest first")).to_be_visible()
    shoot(page, screenshots, "signatures-search")

    page.locator("table.trail tbody a").first.click()
    expect(
        page.get_by_role("heading", name="Manifestation, as printed with the record")
    ).to_be_visible()
    expect(page.get_by_text("Electronically signed by Bob Reviewer (bob)")).to_be_visible()
    expect(page.get_by_text("Verified now")).to_be_visible()
    shoot(page, screenshots, "signature")

    page.goto(f"{server.url}/signatures?digest=md5%3Aabc")
    expect(page.locator("#e-digest")).to_be_visible()  # the refusal names the field
    shoot(page, screenshots, "signatures-bad-digest")

    page.get_by_role("link", name="Audit trail").click()
    page.get_by_role("link", name="Checkpoints").click()
    expect(page.get_by_role("heading", name="Audit checkpoints")).to_be_visible()
    expect(page.locator("table.trail tbody tr")).to_have_count(1)
    shoot(page, screenshots, "audit-checkpoints")
