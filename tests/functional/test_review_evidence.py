"""The evidence pack of a campaign: contents, formats, reproducibility, downloads (REV-5, EXP-1)."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import update

from idgov.clock import FrozenClock
from idgov.db import transaction
from idgov.errors import Conflict, NotFound
from idgov.reviews.evidence import pdf as evidence_pdf
from idgov.reviews.evidence.services import Written
from idgov.reviews.models import Remediation, ReviewItem
from idgov.wiring import Services
from tests.functional.people import events, login, person
from tests.functional.review_support import Org, campaign, entitlement, org
from tests.functional.test_audit_export import core_font, pdf_text
from tests.functional.test_review_closing import (
    close,
    decide,
    item_ids,
    reviewed,
    sign,
    verify_remediation,
)

__all__ = ["core_font"]  # the fixture


@pytest.fixture
def team(services: Services) -> Org:
    return org(services)


@pytest.fixture
def closed(services: Services, team: Org, clock: FrozenClock) -> str:
    """A campaign through sign-off, with an orphaned account, an overdue item, a verified
    revocation, closed with the overdue item as an exception."""
    entitlement(services, "lims-admin", {"ghost": None}, source="lims", system=True)
    campaign_id = reviewed(services, team)
    clock.advance(timedelta(days=31))
    close(services, campaign_id, "quarter done")
    verify_remediation(services, campaign_id, clock)
    clock.advance(timedelta(hours=2))
    assert close(services, campaign_id, "verified").closed
    return campaign_id


def export(services: Services, campaign_id: str, fmt: str) -> tuple[Written, bytes]:
    out = io.BytesIO()
    written = services.evidence.export(campaign_id, fmt, out, "test")
    return written, out.getvalue()


def csv_rows(data: bytes) -> tuple[list[str], list[dict[str, str]]]:
    lines = data.decode("utf-8").splitlines()
    comments = [line for line in lines if line.startswith("#")]
    rows = [line for line in lines if not line.startswith("#")]
    return comments, list(csv.DictReader(rows))


@pytest.mark.req("REV-5")
@pytest.mark.req("REV-6")
@pytest.mark.req("REV-1")
def test_the_pack_holds_completeness_decisions_signatures_and_exceptions(
    services: Services, team: Org, closed: str
) -> None:
    with services.sessions() as session:
        pack = services.evidence.pack(session, closed)
        items = {item.account: item for item in pack.items()}
        exceptional = [item.account for item in pack.items(exceptions=True)]
        remediated = [item.account for item in pack.items(remediated=True)]
    assert pack.campaign.state == "closed"
    assert pack.as_of == pack.campaign.closed_at  # reproducible: as of its closing
    assert pack.population.complete
    assert pack.population.matches
    assert pack.population.statement().startswith("All 4 items frozen at the start are present")
    assert pack.campaign.completeness["sources"] == {
        "directory-group:corp": {"entitlements": 1, "grants": 3},
        "system-role:lims": {"entitlements": 1, "grants": 1},
    }
    assert (pack.totals.items, pack.totals.certified, pack.totals.revoked) == (4, 1, 1)
    assert (pack.totals.undecided, pack.totals.signed, pack.totals.with_exceptions) == (2, 2, 4)
    assert pack.totals.remediation == {"verified": 1}
    assert pack.totals.exceptions == {
        "overdue": 2,
        "undecided": 0,
        "unsigned": 0,
        "escalated": 0,
        "orphaned": 1,
        "dormant": 3,  # nobody in the test has logged in
        "remediation-unverified": 0,
        "remediation-failed": 0,
    }
    (signoff,) = pack.signoffs
    assert signoff.intact
    assert signoff.manifestation.meaning == "review"
    assert signoff.manifestation.text().startswith(
        "Electronically signed by Alice Tester (alice) on 2026-03-02 09:30:00 UTC; meaning: review"
    )
    bob, ghost = items["bob"], items["ghost"]
    assert (bob.decision, bob.justification, bob.decided_by and bob.decided_by.username) == (
        "revoke",
        "left the QA team",
        "alice",
    )
    assert bob.signoff == signoff
    assert bob.remediation is not None
    assert (bob.remediation.status, bob.remediation.verified_by) == ("verified", "snapshot 7")
    assert bob.remediation.verified_at is not None
    assert bob.exceptions == ("dormant",)
    assert (ghost.flags, ghost.suggestion, ghost.holder.id) == (("orphan",), "revoke", None)
    assert ghost.exceptions == ("overdue", "orphaned")
    assert ghost.reviewer.username == "admin1"  # the fallback reviewer (REV-2)
    assert sorted(exceptional) == ["bob", "carol", "dave", "ghost"]
    assert remediated == ["bob"]


@pytest.mark.req("REV-5")
@pytest.mark.req("EXP-1")
@pytest.mark.req("MAN-2")
def test_json_and_csv_copies_list_every_item(services: Services, closed: str) -> None:
    written, data = export(services, closed, "json")
    document = json.loads(data)
    meta, items = document["export"], document["items"]
    assert written.items == len(items) == 4
    assert written.sha256 == "sha256:" + hashlib.sha256(data).hexdigest()
    assert meta["campaign"]["state"] == "closed"
    assert meta["completeness"]["check"]["matches"] is True
    assert meta["completeness"]["population_hash"].startswith("sha256:")
    assert "ordered by grant id" in meta["completeness"]["hash_algorithm"]
    assert meta["exceptions"]["overdue"] == 2
    (signoff,) = meta["signoffs"]
    assert signoff["manifestation"]["meaning"] == "review"
    assert signoff["manifestation"]["signed_at"] == "2026-03-02T09:30:00.000000Z"
    assert signoff["token"].count(".") == 2  # the JWS, verifiable offline
    bob = next(item for item in items if item["holder"]["account"] == "bob")
    assert bob["remediation"]["verified_by"] == "snapshot 7"
    assert bob["signoff"]["manifestation"].startswith("Electronically signed by Alice Tester")

    written, data = export(services, closed, "csv")
    comments, rows = csv_rows(data)
    assert written.items == len(rows) == 4
    assert any(line.startswith("# population_hash: sha256:") for line in comments)
    assert any("meaning: review" in line for line in comments)
    by_account = {row["account"]: row for row in rows}
    assert by_account["ghost"]["exceptions"] == "overdue orphaned"
    assert by_account["ghost"]["decision"] == ""
    assert by_account["bob"]["remediation_verified_at"].endswith("Z")
    assert by_account["carol"]["manifestation"].startswith("Electronically signed by Alice")
    assert by_account["carol"]["reviewer"] == "Alice Tester (alice)"


@pytest.mark.req("REV-5")
@pytest.mark.req("EXP-1")
@pytest.mark.req("MAN-1")
def test_the_pdf_prints_scope_signatures_remediation_and_exceptions(
    services: Services, closed: str, core_font: None
) -> None:
    written, data = export(services, closed, "pdf")
    assert data.startswith(b"%PDF-")
    assert written.sha256 == "sha256:" + hashlib.sha256(data).hexdigest()
    text = pdf_text(data)
    with services.sessions() as session:
        pack = services.evidence.pack(session, closed)
    for expected in (
        "Access review evidence",
        pack.campaign.population_hash,
        "All 4 items frozen at the start are present",
        # The manifestation (MAN-1), wrapped in its cell; the PDF escapes parentheses.
        "Electronically signed by Alice Tester \\(alice\\) on 2026-03-02 09:30:00 UTC; meaning:",
        f"review: {pack.signoffs[0].manifestation.statement}",
        "Remediation of revocations, with verification times \\(REV-4\\)",
        "snapshot 7",
        "Exceptions \\(REV-5, REV-6\\): overdue 2",
        "left the QA team",
        "1 electronic signature, meaning review",  # one sign-off: never "1 ... signatures"
    ):
        assert expected.encode() in text, expected
    assert len(pack.signoffs) == 1


@pytest.mark.req("EXP-1")
def test_the_pdf_caps_its_tables_and_says_so(
    services: Services, closed: str, core_font: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(evidence_pdf, "PDF_ROW_CAP", 1)
    text = pdf_text(export(services, closed, "pdf")[1])
    assert b"each table lists at most 1 row," in text
    assert b"3 more rows are in the CSV and JSON copies \\(4 in all\\)." in text
    assert export(services, closed, "csv")[0].items == 4  # the electronic copies have no cap


@pytest.mark.req("REV-5")
@pytest.mark.req("AUD-1")
def test_packs_of_a_closed_campaign_reproduce_the_sealed_digests(
    services: Services, closed: str, clock: FrozenClock
) -> None:
    clock.advance(timedelta(days=40))
    for fmt in ("pdf", "csv", "json"):
        written, _ = export(services, closed, fmt)
        assert written.matches_sealed is True, fmt
    generated = events(services, "review:evidence:generated")
    occasions = [json.loads(e.new_values)["occasion"] for e in generated]
    assert occasions == ["closing"] * 3 + ["test"] * 3
    last = json.loads(generated[-1].new_values)
    assert (last["format"], last["matches_closing"]) == ("json", True)
    assert generated[-1].actor_type == "system"


@pytest.mark.req("LNK-1")
@pytest.mark.req("REV-3")
def test_a_decision_changed_after_signing_shows_in_the_pack(
    services: Services, closed: str
) -> None:
    with transaction(services.sessions) as session:
        session.execute(
            update(ReviewItem)
            .where(ReviewItem.id == item_ids(services, closed)["carol"])
            .values(justification="edited behind the system's back")
        )
    with services.sessions() as session:
        (signoff,) = services.evidence.pack(session, closed).signoffs
    assert not signoff.intact
    assert signoff.check().startswith("DECISIONS CHANGED SINCE SIGNING")
    written, _ = export(services, closed, "json")
    assert written.matches_sealed is False


def test_drafts_and_unknown_campaigns_have_no_evidence(services: Services, team: Org) -> None:
    entitlement(services, "qa-approvers", {"bob": team.bob})
    with transaction(services.sessions) as session:
        started = services.campaigns.get(session, campaign(services, fallback=team.admin))
        draft_id = services.campaigns.draft(session, started.definition_id, "test").id
    with pytest.raises(Conflict, match="is a draft"):
        export(services, draft_id, "json")
    with pytest.raises(NotFound, match="no campaign"):
        export(services, "nope", "csv")
    assert not events(services, "review:evidence:generated")


@pytest.mark.req("ACC-2")
@pytest.mark.req("EXP-1")
def test_admins_and_auditors_download_reviewers_cannot(
    app: Flask, services: Services, closed: str
) -> None:
    person(services, "audrey", roles=("auditor",))
    person(services, "rita", roles=("reviewer",))
    url = f"/admin/reviews/{closed}/evidence"
    admin = app.test_client()
    login(admin, "admin1")
    # Another site cannot make the admin's browser download (and so audit) a copy.
    for site in ("cross-site", "same-site"):
        refused = admin.get(f"{url}.pdf", headers={"Sec-Fetch-Site": site})
        assert refused.status_code == 403
    with admin.get(f"{url}.pdf", headers={"Sec-Fetch-Site": "same-origin"}) as response:
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.mimetype == "application/pdf"
        assert "attachment" in response.headers["Content-Disposition"]
        digest = base64.b64encode(hashlib.sha256(response.get_data()).digest()).decode()
        assert response.headers["Repr-Digest"] == f"sha-256=:{digest}:"
    auditor = app.test_client()
    login(auditor, "audrey")
    with auditor.get(f"{url}.csv") as response:
        assert (response.status_code, response.mimetype) == (200, "text/csv")
        assert len(csv_rows(response.get_data())[1]) == 4
    with auditor.get(f"{url}.json") as response:
        assert response.get_json()["export"]["campaign"]["id"] == closed
    assert auditor.get(f"{url}.xlsx").status_code == 404
    assert auditor.get("/admin/reviews/nope/evidence.json").status_code == 404
    reviewer = app.test_client()
    login(reviewer, "rita")
    assert reviewer.get(f"{url}.pdf").status_code == 403
    assert app.test_client().get(f"{url}.pdf").status_code == 302  # to the login page
    downloads = [
        json.loads(e.new_values) for e in events(services, "review:evidence:generated")[3:]
    ]
    assert [d["format"] for d in downloads] == ["pdf", "csv", "json"]
    assert all(d["occasion"] == "download" and d["matches_closing"] for d in downloads)
    assert len(events(services, "access:review_evidence-download:refused")) == 1


def test_pack_json_is_valid_for_an_active_campaign(services: Services, team: Org) -> None:
    entitlement(services, "qa-approvers", {"bob": team.bob})
    campaign_id = campaign(services, fallback=team.admin)
    written, data = export(services, campaign_id, "json")
    document: dict[str, Any] = json.loads(data)
    assert document["export"]["campaign"]["state"] == "active"
    assert document["items"][0]["exceptions"] == ["dormant"]  # undecided is no exception yet
    assert written.sealed is None


@pytest.mark.req("REV-5")
@pytest.mark.req("REV-1")
def test_escalated_items_and_failed_remediation_are_exceptions(
    services: Services, team: Org
) -> None:
    campaign_id = reviewed(services, team)
    ids = item_ids(services, campaign_id)
    with transaction(services.sessions) as session:  # what escalation and a refusal leave
        session.execute(
            update(ReviewItem)
            .where(ReviewItem.id == ids["dave"])
            .values(escalation=2, reviewer_id=team.alice)
        )
        session.execute(
            update(Remediation).values(status="failed", last_error="nested group: remove by hand")
        )
    with services.sessions() as session:
        pack = services.evidence.pack(session, campaign_id)
        dave = next(item for item in pack.items() if item.account == "dave")
    assert dave.exceptions == ("escalated", "dormant")  # still active: undecided, not due
    assert (pack.totals.exceptions["escalated"], pack.totals.exceptions["remediation-failed"]) == (
        1,
        1,
    )
    assert pack.population.complete
    # The hash covers the population, not who reviews it: an escalation leaves it intact.
    assert pack.population.matches
    assert not pack.population.alarming


@pytest.mark.req("REV-2")
@pytest.mark.req("REV-5")
def test_both_stages_of_manager_then_owner_are_in_the_pack(services: Services, team: Org) -> None:
    entitlement(services, "qa-approvers", {"bob": team.bob}, owner=team.carol)
    campaign_id = campaign(services, fallback=team.admin, rule="manager-then-owner")
    decide(services, team.alice, list(item_ids(services, campaign_id).values()), "certify", None)
    sign(services, campaign_id, team.alice)  # bob's item goes on to carol, the owner
    with services.sessions() as session:
        pack = services.evidence.pack(session, campaign_id)
        stages = [(item.stage, item.reviewer.username) for item in pack.items()]
    assert stages == [(1, "alice"), (2, "carol")]
    assert pack.totals.stages == {1: 1, 2: 1}
    assert pack.population.complete
    assert pack.population.matches  # computed over the frozen (stage 1) items only
