"""Hosts' return URLs on the command line: registered, listed, changed with a reason (DEV-1)."""

from __future__ import annotations

import json

import pytest

from idgov.clients.models import HostClient
from idgov.wiring import Services
from tests.functional import test_cli
from tests.functional.hosts import audit_events, values

Cli = test_cli.Cli
cli = test_cli.cli  # the fixture: `idgov` on this test's migrated database
LIMS = "https://lims.example.com/esig/return"
LOCAL = "http://127.0.0.1:5001/return"


def return_urls(services: Services, name: str) -> str:
    with services.sessions() as session:
        found = services.clients.find(session, name)
        assert isinstance(found, HostClient)
        return found.return_urls


@pytest.mark.req("DEV-1")
def test_a_host_registers_lists_and_changes_its_return_urls(cli: Cli, services: Services) -> None:
    added = cli(
        "clients", "add", "lims", "--scope", "signatures", "--return-url", LIMS,
        "--return-url", LOCAL,
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert return_urls(services, "lims") == f"{LIMS}\n{LOCAL}"
    [registered] = audit_events(services, "client:host:registered")
    assert values(registered)["return_urls"] == [LIMS, LOCAL]

    listed = cli("clients", "list").stdout
    assert f"return URL {LIMS}" in listed
    assert f"return URL {LOCAL}" in listed

    changed = cli(
        "clients", "set-return-urls", "lims", "--return-url", LIMS, "--reason", "local test over"
    )
    assert changed.exit_code == 0, changed.output
    assert return_urls(services, "lims") == LIMS
    [event] = audit_events(services, "client:return-urls:changed")
    assert json.loads(event.old_values) == {"return_urls": [LIMS, LOCAL]}
    assert values(event) == {"return_urls": [LIMS]}
    assert event.reason == "local test over"


@pytest.mark.parametrize(
    "url", ["http://lims.example.com/return", "https://lims.example.com/r#x", "lims/return"]
)
def test_a_bad_return_url_is_refused_and_nothing_changes(
    cli: Cli, services: Services, url: str
) -> None:
    assert cli("clients", "add", "lims", "--scope", "signatures").exit_code == 0
    result = cli("clients", "set-return-urls", "lims", "--return-url", url, "--reason", "x")
    assert result.exit_code == 1
    assert result.stderr.startswith("idgov: error: return_urls:")
    assert return_urls(services, "lims") == ""
    assert audit_events(services, "client:return-urls:changed") == []


def test_changing_return_urls_needs_a_reason(cli: Cli) -> None:
    assert cli("clients", "add", "lims", "--scope", "signatures").exit_code == 0
    assert cli("clients", "set-return-urls", "lims", "--return-url", LIMS).exit_code == 2
    blank = cli("clients", "set-return-urls", "lims", "--return-url", LIMS, "--reason", " ")
    assert blank.exit_code == 1
    assert "reason" in blank.stderr
