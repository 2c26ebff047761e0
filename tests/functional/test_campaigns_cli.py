"""`idgov campaigns`: define, start, follow, close and report a campaign end to end (REV-1..6)."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import pytest

from idgov.wiring import Services
from tests.functional import test_cli
from tests.functional.people import events
from tests.functional.review_support import Org, entitlement, load_campaign, org
from tests.functional.test_review_closing import decide, item_ids, sign

Cli = test_cli.Cli
cli = test_cli.cli
__all__ = ["cli"]  # the fixture


@pytest.fixture
def team(services: Services) -> Org:
    return org(services)


def ok(cli: Cli, *args: str) -> str:
    result = cli("campaigns", *args)
    assert result.exit_code == 0, result.output
    return result.stdout


def refused(cli: Cli, *args: str) -> str:
    result = cli("campaigns", *args)
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith(("idgov: error: ", "Error: ")), result.stderr
    return result.stderr


@pytest.mark.req("REV-1")
@pytest.mark.req("REV-5")
@pytest.mark.req("SEQ-1")
def test_a_campaign_from_definition_to_evidence(
    cli: Cli, services: Services, team: Org, tmp_path: Path
) -> None:
    entitlement(services, "qa-approvers", {"bob": team.bob, "carol": team.carol})
    defined = ok(
        cli, "define", "QA quarterly", "--scope", '{"all": true}', "--rule", "manager",
        "--fallback", "admin1", "--reminder-days", "5",
    )  # fmt: skip
    assert "defined QA quarterly" in defined
    assert "schedule: 0 6 1 1,4,7,10 *" in defined  # quarterly by default (REV-1)
    listed = ok(cli, "definitions")
    assert "QA quarterly  manager  0 6 1 1,4,7,10 *  last started -" in listed

    started = ok(cli, "start", "QA quarterly")
    campaign_id = started.split()[2]
    assert "items: 2" in started
    assert "population hash: sha256:" in started
    assert "directory-group:corp: 2 grants over 1 entitlement; last snapshot none" in started
    assert "flagged: dormant 2, orphan 0" in started
    assert campaign_id in ok(cli, "list", "--state", "active")
    assert ok(cli, "list", "--state", "closed") == "no campaigns in state closed\n"

    ids = item_ids(services, campaign_id)
    decide(services, team.alice, [ids["bob"], ids["carol"]], "certify", None)
    shown = ok(cli, "show", campaign_id)
    assert "items 2: decided 2, signed 0, overdue 0" in shown
    assert "Alice Tester (alice): decided 2/2, signed 0, overdue 0" in shown
    sign(services, campaign_id, team.alice)

    closed = ok(cli, "close", campaign_id, "--reason", "Q1 review complete")
    assert f"campaign {campaign_id}: closed; now closed" in closed
    sealed = dict(
        line.split()[1:3] for line in closed.splitlines() if line.startswith("  evidence ")
    )
    assert sorted(sealed) == ["csv:", "json:", "pdf:"]
    assert events(services, "review:campaign:closed")[0].actor_type == "cli"

    for fmt in ("json", "csv", "pdf"):
        output = tmp_path / f"evidence.{fmt}"
        reported = ok(cli, "report", campaign_id, "--format", fmt, "--output", str(output))
        digest = "sha256:" + hashlib.sha256(output.read_bytes()).hexdigest()
        assert digest == sealed[f"{fmt}:"]
        assert f"2 items, {output.stat().st_size} bytes, {digest}" in reported
        assert "identical to the pack sealed when the campaign closed" in reported
    document = json.loads((tmp_path / "evidence.json").read_text())
    assert document["export"]["campaign"]["state"] == "closed"
    rows = [
        line for line in (tmp_path / "evidence.csv").read_text().splitlines() if line[:1] != "#"
    ]
    assert [row["decision"] for row in csv.DictReader(rows)] == ["certify", "certify"]
    assert (tmp_path / "evidence.pdf").read_bytes().startswith(b"%PDF-")
    assert load_campaign(services, campaign_id).state == "closed"


@pytest.mark.req("REV-4")
@pytest.mark.req("REV-5")
def test_close_waits_for_remediation_unless_with_exceptions(
    cli: Cli, services: Services, team: Org
) -> None:
    entitlement(services, "qa-approvers", {"bob": team.bob})
    ok(cli, "define", "QA", "--scope", '{"all": true}', "--rule", "manager",
       "--fallback", "admin1", "--on-demand")  # fmt: skip
    campaign_id = ok(cli, "start", "QA").split()[2]
    decide(services, team.alice, list(item_ids(services, campaign_id).values()), "revoke", "moved")
    sign(services, campaign_id, team.alice)
    assert "1 remediation of campaign" in refused(cli, "close", campaign_id, "--reason", "done")
    closed = ok(cli, "close", campaign_id, "--reason", "CAPA-7 tracks it", "--with-exceptions")
    assert "closed with exceptions: 1 remediation not verified" in closed
    assert "is closed already" in refused(cli, "close", campaign_id, "--reason", "again")


def test_refusals_name_the_problem(cli: Cli, services: Services, team: Org, tmp_path: Path) -> None:
    base = ("define", "QA", "--rule", "manager", "--fallback", "admin1")
    assert "--scope is not JSON" in refused(cli, *base, "--scope", "{all")
    assert "no identity with username 'nobody'" in refused(
        cli, "define", "QA", "--rule", "manager", "--fallback", "nobody", "--scope", "{}"
    )
    both = refused(cli, *base, "--scope", '{"all": true}', "--schedule", "0 6 * * *", "--on-demand")
    assert "not both" in both
    assert "duration_days must be between 1 and 365" in refused(
        cli, *base, "--scope", '{"all": true}', "--duration-days", "0"
    )
    assert "no campaign definition with id or name 'QA'" in refused(cli, "start", "QA")
    assert "no campaign 'nope'" in refused(cli, "show", "nope")
    assert "no campaign 'nope'" in refused(cli, "close", "nope", "--reason", "x")
    assert "a reason is required" in refused(cli, "close", "nope", "--reason", " ")
    missing = tmp_path / "missing" / "evidence.pdf"
    assert "cannot write" in refused(
        cli, "report", "nope", "--format", "pdf", "--output", str(missing)
    )
    output = tmp_path / "evidence.json"
    assert "no campaign 'nope'" in refused(
        cli, "report", "nope", "--format", "json", "--output", str(output)
    )
    assert not output.exists()  # no copy is left without its audit event
    assert cli("campaigns", "close", "nope").exit_code == 2  # click: --reason is required
    assert ok(cli, "definitions") == "no campaign definitions (idgov campaigns define ...)\n"
