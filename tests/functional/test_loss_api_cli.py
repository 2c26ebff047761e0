"""Loss cases over /api/v1/loss-reports and `idgov tokens`: report, read, replace, export."""

from __future__ import annotations

import json

import pytest
from flask import Flask

from idgov.wiring import Services
from tests.functional import test_cli
from tests.functional.api_client import sign_in
from tests.functional.loss_support import Team, add_token, case_of, report, team
from tests.functional.people import events, problem

Cli = test_cli.Cli
cli = test_cli.cli
__all__ = ["cli", "team"]  # the fixtures
BASE = "/api/v1/loss-reports"


@pytest.mark.req("LOSS-1")
@pytest.mark.req("LOSS-2")
def test_the_whole_case_over_the_api(app: Flask, services: Services, team: Team) -> None:
    token = add_token(services, team.owner)
    owner = sign_in(app, "olga")
    created = owner.post(BASE, {"owner_id": team.owner, "credential": "token", "kind": "lost"})
    assert created.status_code == 201, created.get_data(as_text=True)
    case = created.get_json()
    assert (case["status"], case["token_id"]) == ("deauthorized", token)
    assert case["sla"]["report_to_deauthorization_seconds"] == 0
    url = f"{BASE}/{case['id']}"
    problem(owner.get(url), 401, "unauthenticated")  # every session of the owner ended

    officer, second = sign_in(app, "sam"), sign_in(app, "tess")
    verified = officer.post(f"{url}/verification", {"evidence": "badge and passport"})
    assert verified.get_json()["status"] == "verified"
    issued = second.post(f"{url}/temporary")
    assert issued.status_code == 201
    assert issued.headers["Cache-Control"] == "no-store"
    assert issued.get_json()["uses_left"] == 3
    new = add_token(services, team.owner)
    replaced = sign_in(app, "olga").post(f"{url}/replacement", {"token_id": new})
    assert replaced.status_code == 200, replaced.get_data(as_text=True)
    assert replaced.get_json()["status"] == "replaced"
    for reader in ("eve", "mona"):
        assert sign_in(app, reader).get(url).get_json()["status"] == "replaced"


@pytest.mark.req("LOSS-1")
def test_refusals_over_the_api(app: Flask, services: Services, team: Team) -> None:
    stranger = sign_in(app, "uma")
    body = {"owner_id": team.owner, "credential": "card", "kind": "stolen"}
    problem(stranger.post(BASE, body), 403, "forbidden")
    problem(stranger.post(BASE, {**body, "kind": "misplaced"}), 422, "invalid-request")
    problem(stranger.post(BASE, ["not", "an", "object"]), 422, "invalid-request")
    problem(app.test_client().post(BASE, json=body), 401, "unauthenticated")
    case_id = report(services, team.owner, team.owner, credential="card")
    problem(stranger.get(f"{BASE}/{case_id}"), 403, "forbidden")
    assert len(events(services, "loss:read:refused")) == 1
    problem(stranger.post(f"{BASE}/{case_id}/verification", {"evidence": "x"}), 403, "forbidden")
    problem(sign_in(app, "sam").get(f"{BASE}/no-such-case"), 404, "not-found")
    owner = sign_in(app, "olga")
    # A report is never undone: there is nothing to delete, cancel or reopen it with.
    headers = {"X-CSRF-Token": owner.csrf}
    assert owner.client.delete(url_of(case_id), headers=headers).status_code == 405
    problem(owner.post(f"{url_of(case_id)}/temporary"), 403, "forbidden")
    problem(sign_in(app, "sam").post(f"{url_of(case_id)}/temporary"), 409, "conflict")
    assert case_of(services, case_id).status == "deauthorized"


def url_of(case_id: str) -> str:
    return f"{BASE}/{case_id}"


@pytest.mark.req("LOSS-1")
@pytest.mark.req("LOSS-2")
def test_the_commands(cli: Cli, services: Services, team: Team) -> None:
    add_token(services, team.owner)
    result = cli(
        "tokens",
        "loss",
        "report",
        "olga",
        "--by",
        "mona",
        "--credential",
        "token",
        "--kind",
        "lost",
    )
    assert result.exit_code == 0, result.output
    case_id = result.stdout.split()[2].rstrip(":")
    refused = cli("tokens", "loss", "verify", case_id, "--officer", "mona", "--evidence", "badge")
    assert refused.exit_code == 1
    assert refused.stderr.startswith("idgov: error: ")
    ok = cli("tokens", "loss", "verify", case_id, "--officer", "sam", "--evidence", "badge")
    assert ok.exit_code == 0, ok.output
    issued = cli("tokens", "loss", "temporary", case_id, "--officer", "tess")
    assert "shown once" in issued.stdout
    assert "at most 3 uses" in issued.stdout
    shown = cli("tokens", "report")
    assert "open loss cases: 1" in shown.stdout
    assert "olga" in shown.stdout
    exported = json.loads(cli("tokens", "loss", "case", case_id, "--format", "json").stdout)
    assert [step["step"] for step in exported["timeline"]][-1] == "case:temporary-issued"
    text = cli("tokens", "loss", "case", case_id).stdout
    assert "report to deauthorization: 0.0 s" in text
    commands = cli("tokens", "loss", "--help").stdout
    assert not any(word in commands for word in ("undo", "cancel", "delete", "reopen"))
