"""Host clients on the command line: `idgov clients add|list|rotate-secret|disable` (DEV-1)."""

from __future__ import annotations

import hashlib
import re

import pytest
from click.testing import Result
from flask import Flask
from flask.testing import FlaskClient

from idgov.clients.models import HostClient
from idgov.wiring import Services
from tests.functional import test_cli
from tests.functional.hosts import (
    HOST_ADDRESS,
    add_host_routes,
    all_audit_text,
    audit_events,
    bearer,
    register,
    request_token,
    token_error,
    token_for,
    values,
)

Cli = test_cli.Cli
cli = test_cli.cli  # the fixture: `idgov` on this test's migrated database
CREDENTIALS = re.compile(r"client_id:\s+(\S+)\nclient_secret: (\S+)\n")


def ok(result: Result) -> str:
    assert result.exit_code == 0, result.output
    return result.stdout


def credentials(out: str) -> tuple[str, str]:
    found = CREDENTIALS.search(out)
    assert found, out
    return found.group(1), found.group(2)


# --- the command line ---------------------------------------------------------------------


@pytest.mark.req("DEV-1")
def test_cli_add_prints_the_secret_once_and_stores_its_digest(
    cli: Cli, services: Services, client: FlaskClient
) -> None:
    out = ok(
        cli(
            "clients",
            "add",
            "LIMS-1",
            "--scope",
            "signatures",
            "--scope",
            "entitlements",
            "--allow-from",
            "192.0.2.0/24",
            "--allow-from",
            "2001:db8::/32",
        )
    )
    client_id, secret = credentials(out)
    assert client_id.startswith("cl_")
    assert "shown only this once" in out
    with services.sessions() as session:
        row = session.get(HostClient, client_id)
    assert row is not None
    assert row.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert (row.scopes, row.allowed_cidrs) == (
        "entitlements signatures",
        "192.0.2.0/24,2001:db8::/32",
    )
    listed = ok(cli("clients", "list"))
    assert client_id in listed
    assert (
        "LIMS-1  active  scopes entitlements signatures, from 192.0.2.0/24 2001:db8::/32" in listed
    )
    assert secret not in listed
    assert secret not in all_audit_text(services)
    [registered] = audit_events(services, "client:host:registered")
    assert registered.actor_type == "cli"
    assert values(registered)["allowed_cidrs"] == ["192.0.2.0/24", "2001:db8::/32"]
    assert request_token(client, client_id, secret).status_code == 200


def test_cli_list_without_clients(cli: Cli) -> None:
    assert "no host clients registered" in ok(cli("clients", "list"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("bad name", "--scope", "signatures"), "name: 1-100 characters"),
        (("x" * 101, "--scope", "signatures"), "name: 1-100 characters"),
        (("eqms", "--scope", "signatures", "--allow-from", "10.0.0.1/8"), "allowed_cidrs"),
        (("eqms", "--scope", "signatures", "--allow-from", "10.0.0.0/33"), "allowed_cidrs"),
        (("eqms", "--scope", "signatures", "--allow-from", "lims.local"), "allowed_cidrs"),
        (("EQMS", "--scope", "signatures"), "exists already"),
    ],
)
def test_cli_add_refuses_bad_input(
    cli: Cli, services: Services, args: tuple[str, ...], message: str
) -> None:
    register(services, "eqms")
    result = cli("clients", "add", *args)
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("idgov: error: ")
    assert message in result.stderr
    with services.sessions() as session:
        assert len(services.clients.list(session)) == 1


def test_cli_add_needs_a_known_scope(cli: Cli) -> None:
    assert cli("clients", "add", "eqms").exit_code == 2
    assert cli("clients", "add", "eqms", "--scope", "admin").exit_code == 2


def test_cli_rotate_secret_stops_the_old_secret_and_its_tokens(
    cli: Cli, services: Services, app: Flask
) -> None:
    client = add_host_routes(app).test_client()
    client_id, old = register(services, "eqms")
    token = token_for(client, client_id, old)
    out = ok(cli("clients", "rotate-secret", "eqms", "--reason", "suspected leak"))
    same_id, new = credentials(out)
    assert (same_id, new != old) == (client_id, True)
    token_error(request_token(client, client_id, old), 401, "invalid_client")
    assert request_token(client, client_id, new).status_code == 200
    called = client.post(
        "/api/v1/test-only/host/signatures",
        headers=bearer(token),
        environ_base={"REMOTE_ADDR": HOST_ADDRESS},
    )
    assert called.status_code == 401
    [rotated] = audit_events(services, "client:secret:rotated")
    assert (rotated.reason, values(rotated)["revoked_tokens"]) == ("suspected leak", 1)
    assert new not in all_audit_text(services)
    assert "no host client 'nope'" in cli("clients", "rotate-secret", "nope").stderr


def test_cli_disable_stops_tokens(cli: Cli, services: Services, app: Flask) -> None:
    client = add_host_routes(app).test_client()
    client_id, secret = register(services, "eqms")
    token = token_for(client, client_id, secret)
    assert cli("clients", "disable", "eqms").exit_code == 2  # --reason is required
    assert cli("clients", "disable", "eqms", "--reason", " ").exit_code == 2
    assert f"disabled host client eqms ({client_id})" in ok(
        cli("clients", "disable", client_id, "--reason", "system retired")
    )
    called = client.post(
        "/api/v1/test-only/host/signatures",
        headers=bearer(token),
        environ_base={"REMOTE_ADDR": HOST_ADDRESS},
    )
    assert called.status_code == 401
    assert called.headers["WWW-Authenticate"] == 'Bearer realm="idgov", error="invalid_token"'
    token_error(request_token(client, client_id, secret), 401, "invalid_client")
    assert "disabled 2026-03-02T09:30:00.000000Z" in ok(cli("clients", "list"))
    assert "is disabled" in cli("clients", "disable", "eqms", "--reason", "again").stderr
    assert "is disabled" in cli("clients", "rotate-secret", "eqms").stderr
    [disabled] = audit_events(services, "client:host:disabled")
    assert disabled.reason == "system retired"
    assert values(disabled)["revoked_tokens"] == 1
