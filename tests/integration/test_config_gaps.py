"""Configuration that silently defeats a rule (issue 17 finding 9): `idgov check`, the
start-up logs and the administrator's home page name every gap with its fix; /readyz stays
200. A real SMTP server answers for a reachable relay; a closed loopback port for one down."""

from __future__ import annotations

import contextvars
import json
import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from flask import Flask

from idgov import wiring
from idgov.app import create_app
from idgov.cli import main
from idgov.clock import FrozenClock
from idgov.config import DirectorySettings, Settings, SmtpSettings
from idgov.db import reading, transaction
from idgov.health.gaps import Gap
from idgov.wiring import Services, build_services
from tests.functional.api_client import json_login
from tests.functional.people import fast_hashing, person
from tests.harness.ports import free_port
from tests.harness.smtp import CapturingSmtpServer

SECURITY = ["security@example.com"]


def gap_codes(services: Services, *, demo: bool = False) -> dict[str, Gap]:
    with reading(services.sessions) as session:
        return {gap.code: gap for gap in services.gaps.find(session, demo=demo)}


def set_alerting(services: Services, **changes: object) -> None:
    with transaction(services.sessions) as session:
        services.policies.change(session, "alerting", changes, "test", "test")


@pytest.fixture
def relay(smtp_server: CapturingSmtpServer, settings: Settings) -> Settings:
    """Settings whose mail relay answers."""
    smtp = SmtpSettings(host=smtp_server.host, port=smtp_server.port, timeout_seconds=5)
    return settings.model_copy(update={"smtp": smtp})


@pytest.fixture
def served(relay: Settings, clock: FrozenClock) -> Iterator[Services]:
    built = build_services(relay, clock)
    yield built
    built.close()


@pytest.mark.req("ALERT-1")
def test_no_alert_recipients_is_a_serious_gap_with_its_fix(served: Services) -> None:
    found = gap_codes(served)
    gap = found["no-alert-recipients"]
    assert gap.serious
    assert gap.requirement == "ALERT-1"
    assert "security_emails" in gap.fix
    set_alerting(served, security_emails=SECURITY)
    assert "no-alert-recipients" not in gap_codes(served)
    assert "mail-relay-unreachable" not in gap_codes(served)  # the real relay answered


@pytest.mark.req("ALERT-1")
def test_an_unreachable_mail_relay_is_a_serious_gap(settings: Settings, clock: FrozenClock) -> None:
    closed = SmtpSettings(host="127.0.0.1", port=free_port(), timeout_seconds=1)
    built = build_services(settings.model_copy(update={"smtp": closed}), clock)
    try:
        set_alerting(built, security_emails=SECURITY)
        gap = gap_codes(built)["mail-relay-unreachable"]
        assert gap.serious
        assert f"127.0.0.1:{closed.port}" in gap.problem
    finally:
        built.close()


@pytest.mark.req("PWD-1")
def test_a_directory_over_plain_ldap_is_named(relay: Settings, clock: FrozenClock) -> None:
    def directory(url: str) -> DirectorySettings:
        return DirectorySettings.model_validate(
            {
                "urls": [url],
                "tls": "none",
                "user_base": "ou=people,dc=corp,dc=example",
                "bind_dn": "cn=idgov,dc=corp,dc=example",
                "bind_password": "env://IDGOV_TEST_UNUSED",
            }
        )

    directories = {
        "corp": directory("ldap://ldap.corp.example"),
        "lab": directory("ldap://127.0.0.1:1389"),
    }
    built = build_services(relay.model_copy(update={"directories": directories}), clock)
    try:
        with reading(built.sessions) as session:
            plain = [g for g in built.gaps.find(session, demo=False) if "plain LDAP" in g.problem]
        assert [(("corp" in g.problem), g.serious) for g in plain] == [(True, True), (False, False)]
    finally:
        built.close()


@pytest.mark.req("AUD-4")
@pytest.mark.req("LNK-2")
def test_an_old_key_and_an_unexported_checkpoint_are_named(
    served: Services, clock: FrozenClock
) -> None:
    with transaction(served.sessions) as session:
        served.keys.create(session, "signature", reason="test")
    assert "signing-key-old" not in gap_codes(served)
    assert "checkpoint-not-exported" in gap_codes(served)  # none ever
    clock.advance(timedelta(days=366))
    old = gap_codes(served)["signing-key-old"]
    assert "idgov keys rotate --purpose signature" in old.fix
    assert not old.serious


@pytest.mark.req("REC-1")
@pytest.mark.req("AUD-2")
def test_the_database_gaps(served: Services) -> None:
    """SQLite is a gap unless it serves the demo on loopback; the test PostgreSQL server is
    reached as its superuser, which can switch off the append-only triggers."""
    if served.engine.dialect.name == "sqlite":
        assert gap_codes(served)["sqlite-in-production"].serious
        assert "sqlite-in-production" not in gap_codes(served, demo=True)
    else:
        gap = gap_codes(served, demo=True)["database-superuser"]
        assert gap.serious
        assert "superuser" in gap.problem


@pytest.mark.req("ALERT-1")
def test_readyz_stays_200_with_gaps(served: Services) -> None:
    assert any(gap.serious for gap in gap_codes(served).values())
    assert create_app(services=served).test_client().get("/readyz").status_code == 200


@pytest.mark.req("ALERT-1")
def test_the_admin_home_page_lists_the_gaps_and_others_do_not_see_them(
    served: Services,
) -> None:
    app: Flask = create_app(services=served)
    fast_hashing(served)
    person(served, "root", roles=("admin",))
    person(served, "sam", roles=("security_officer",))
    pages = {}
    for username in ("root", "sam"):
        client = app.test_client()
        assert json_login(client, username).status_code == 201
        pages[username] = client.get("/").get_data(as_text=True)
    assert 'data-gap="no-alert-recipients"' in pages["root"]
    assert "security_emails=" in pages["root"]
    assert "Configuration gaps" not in pages["sam"]


def run_cli(*args: str) -> Result:
    runner = CliRunner()
    return contextvars.copy_context().run(
        runner.invoke, main, list(args), catch_exceptions=False, prog_name="idgov"
    )


@pytest.fixture
def cli_env(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    clock: FrozenClock,
    database_url: str,
    smtp_server: CapturingSmtpServer,
) -> Iterator[list[Services]]:
    """`idgov` on this test's database, its relay the test's SMTP server."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("IDGOV_") and not name.startswith("IDGOV_TEST_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("IDGOV_DATABASE__URL", database_url)
    monkeypatch.setenv("IDGOV_SMTP__PORT", str(smtp_server.port))
    built: list[Services] = []

    def build_with_test_clock(settings: Settings) -> Services:
        services = build_services(settings, clock)
        built.append(services)
        return services

    monkeypatch.setattr(wiring, "build_services", build_with_test_clock)
    yield built
    for services in built:
        services.engine.dispose()


@pytest.mark.req("ALERT-1")
def test_idgov_check_prints_every_gap_with_its_fix_and_fails_on_a_serious_one(
    cli_env: list[Services],
) -> None:
    result = run_cli("check")
    assert result.exit_code == 1, result.output
    assert "SERIOUS: no-alert-recipients (ALERT-1)" in result.output
    assert "  fix: idgov policy set alerting 'security_emails=" in result.output
    as_json = run_cli("check", "--format", "json")
    assert as_json.exit_code == 1
    document = json.loads(as_json.output)
    codes = {gap["code"] for gap in document["gaps"]}
    assert "no-alert-recipients" in codes
    assert document["serious"] >= 1


@pytest.mark.req("AUD-4")
def test_exporting_a_checkpoint_closes_its_gap(cli_env: list[Services], tmp_path: Path) -> None:
    assert run_cli("init").exit_code == 0  # keys, and a checkpoint issued but not exported
    before = json.loads(run_cli("check", "--format", "json").output)
    assert "checkpoint-not-exported" in {gap["code"] for gap in before["gaps"]}
    exported = run_cli("audit", "checkpoint", "--output", str(tmp_path / "checkpoint.json"))
    assert exported.exit_code == 0, exported.output
    after = json.loads(run_cli("check", "--format", "json").output)
    assert "checkpoint-not-exported" not in {gap["code"] for gap in after["gaps"]}


@pytest.mark.req("ALERT-1")
def test_a_worker_starting_logs_a_warning_per_gap(cli_env: list[Services]) -> None:
    assert run_cli("init").exit_code == 0
    result = run_cli("worker", "--once")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    warned = [line for line in lines if line.get("logger") == "idgov.check"]
    assert any(line.get("gap") == "no-alert-recipients" for line in warned), result.stderr
    assert {line["level"] for line in warned} == {"WARNING"}
