"""An admin points idgov at a directory with a config block and runs `idgov providers ...`."""

from __future__ import annotations

import contextvars
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from ldap3 import MODIFY_ADD
from sqlalchemy import select

from idgov import wiring
from idgov.cli import main
from idgov.config import Settings
from idgov.entitlements.models import Entitlement, EntitlementGrant
from idgov.identity.models import Identity
from idgov.wiring import Services, build_services
from tests.harness.slapd import SlapdServer

pytestmark = pytest.mark.integration


@pytest.fixture
def idgov(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str, own_slapd: SlapdServer
) -> Iterator[tuple[CliRunner, list[Services]]]:
    """`idgov` run in a directory holding config/idgov.toml with a [directories.corp] block,
    the service password in an environment variable (a secret reference)."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("IDGOV_") and not name.startswith("IDGOV_TEST_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("IDGOV_DATABASE__URL", database_url)
    monkeypatch.setenv("IDGOV_CORP_LDAP_PASSWORD", own_slapd.admin_password)
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "idgov.toml").write_text(
        f"""
[directories.corp]
preset = "openldap"
urls = ["ldap://127.0.0.1:1", "{own_slapd.url}"]
tls = "none"
bind_dn = "{own_slapd.admin_dn}"
bind_password = "env://IDGOV_CORP_LDAP_PASSWORD"
user_base = "{own_slapd.people_dn}"
group_base = "{own_slapd.groups_dn}"
group_write_back = true
""",
        encoding="utf-8",
    )
    built: list[Services] = []

    def build(settings: Settings) -> Services:
        services = build_services(settings)
        built.append(services)
        return services

    monkeypatch.setattr(wiring, "build_services", build)
    yield CliRunner(), built
    for services in built:
        services.close()


def run(idgov: tuple[CliRunner, list[Services]], *args: str) -> Result:
    runner, _ = idgov
    result = contextvars.copy_context().run(
        runner.invoke, main, list(args), catch_exceptions=False, prog_name="idgov"
    )
    assert "Traceback" not in result.output
    return result


def test_configure_test_sync_and_list(idgov: tuple[CliRunner, list[Services]]) -> None:
    tested = run(idgov, "providers", "test", "corp", "--username", "bob")
    assert tested.exit_code == 0, tested.output
    assert "connected to ldap://127.0.0.1:" in tested.output  # the second URL: failover
    synced = run(idgov, "providers", "sync", "corp", "--format", "json")
    assert synced.exit_code == 0, synced.output
    report = json.loads(synced.output)
    assert (report["kind"], report["status"], report["counts"]["created"]) == (
        "full",
        "succeeded",
        6,
    )
    again = run(idgov, "providers", "sync", "corp")
    assert "incremental sync succeeded" in again.output
    assert "users/s" in again.output
    listed = run(idgov, "providers", "list")
    assert "corp  openldap" in listed.output
    assert "last sync incremental succeeded" in listed.output
    assert len(run(idgov, "providers", "runs", "corp").output.splitlines()) == 2


def test_test_prints_the_entry_as_attribute_lines(
    idgov: tuple[CliRunner, list[Services]], own_slapd: SlapdServer
) -> None:
    result = run(idgov, "providers", "test", "corp", "--username", "bob")
    assert result.exit_code == 0, result.output
    assert "DirectoryUser(" not in result.output
    lines = [line.strip() for line in result.output.splitlines()]
    assert lines[1] == "bob: found"
    fields = {
        label: value.strip() for label, _, value in (line.partition(":") for line in lines[2:])
    }
    bob = own_slapd.people["bob"]
    assert fields["dn"] == bob.dn
    assert fields["username"] == "bob"
    assert fields["printed name"] == "Bob Berg"
    assert fields["manager"] == own_slapd.people["alice"].dn
    assert fields["locked"] == "no"
    assert fields["disabled"] == "no"
    assert fields["e-mail"] == "bob@idgov.test"
    assert fields["password changed"] == "-"
    missing = run(idgov, "providers", "test", "corp", "--username", "nobody")
    assert missing.output.splitlines()[-1] == "  nobody: not found"


def test_test_prints_json(idgov: tuple[CliRunner, list[Services]], own_slapd: SlapdServer) -> None:
    result = run(idgov, "providers", "test", "corp", "--username", "bob", "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["provider"] == "corp"
    assert report["server"].startswith("ldap://127.0.0.1:")
    assert report["lookup"]["result"] == "found"
    entry = report["lookup"]["entry"]
    assert (entry["dn"], entry["username"], entry["printed_name"]) == (
        own_slapd.people["bob"].dn,
        "bob",
        "Bob Berg",
    )
    assert entry["manager_dn"] == own_slapd.people["alice"].dn
    assert (entry["locked"], entry["disabled"], entry["must_change"]) == (False, False, False)
    assert entry["key"]  # entryUUID
    missing = run(idgov, "providers", "test", "corp", "--username", "nobody", "--format", "json")
    assert json.loads(missing.output)["lookup"] == {"username": "nobody", "result": "not-found"}
    bare = json.loads(run(idgov, "providers", "test", "corp", "--format", "json").output)
    assert "lookup" not in bare


def test_unknown_directory_is_a_clear_error(idgov: tuple[CliRunner, list[Services]]) -> None:
    result = run(idgov, "providers", "sync", "hr")
    assert result.exit_code != 0
    assert "no directory named 'hr' (corp)" in result.output


def grant_of(services: Services, group: str, username: str) -> EntitlementGrant:
    with services.sessions() as session:
        return session.scalars(
            select(EntitlementGrant)
            .join(Entitlement)
            .join(Identity, Identity.id == EntitlementGrant.identity_id)
            .where(Entitlement.name == group, Identity.username == username)
        ).one()


def test_remove_member_from_the_command_line(
    idgov: tuple[CliRunner, list[Services]], own_slapd: SlapdServer
) -> None:
    run(idgov, "providers", "sync", "corp")
    services = idgov[1][-1]
    grant = grant_of(services, "qa-approvers", "bob")
    try:
        result = run(idgov, "providers", "remove-member", str(grant.id), "--reason", "review")
        assert result.exit_code == 0, result.output
        assert "verified by reading the group back" in result.output
        again = run(idgov, "providers", "remove-member", str(grant.id), "--reason", "again")
        assert again.exit_code != 0
        assert "already ended (write-back)" in again.output
    finally:
        with own_slapd.admin_connection() as conn:
            conn.modify(
                own_slapd.groups["qa-approvers"].dn,
                {"member": [(MODIFY_ADD, [own_slapd.people["bob"].dn])]},
            )


def test_a_refused_removal_is_reported_and_stays_open(
    idgov: tuple[CliRunner, list[Services]], own_slapd: SlapdServer
) -> None:
    """groupOfNames needs a member: the directory refuses to remove the last one."""
    run(idgov, "providers", "sync", "corp")
    services = idgov[1][-1]
    grant = grant_of(services, "security", "sec.officer")
    result = run(idgov, "providers", "remove-member", str(grant.id), "--reason", "review")
    assert result.exit_code != 0
    assert "requires attribute 'member'" in result.output
    assert grant_of(services, "security", "sec.officer").removed_at is None
