"""`idgov providers`: list directories, sync them, test the connection, remove a group member."""

from __future__ import annotations

import json
from typing import Any

import click

from idgov.clock import iso_utc
from idgov.commands.context import command_services
from idgov.errors import NotFound
from idgov.providers.directory.attributes import DirectoryUser, EntryProblem
from idgov.providers.directory.entry_view import entry_lines, lookup_dict
from idgov.providers.directory.sync import SyncResult, result_dict


@click.group()
def providers() -> None:
    """LDAP / Active Directory sources ([directories.NAME] in the configuration)."""


@providers.command("list")
def list_providers() -> None:
    """Each configured directory with its last sync."""
    services = command_services()
    if not services.directories:
        click.echo("no directories configured (see [directories.NAME] in docs/directories.md)")
        return
    with services.sessions() as session:
        for name, directory in services.directories.items():
            runs = services.directory_sync.runs(session, name, limit=1)
            last = (
                f"last sync {runs[0].kind} {runs[0].status} at {iso_utc(runs[0].finished_at)}"
                if runs
                else "never synced"
            )
            urls = ", ".join(directory.settings.urls)
            click.echo(f"{name}  {directory.settings.preset}  {urls}  {last}")


@providers.command("sync")
@click.argument("name")
@click.option("--full", is_flag=True, help="Read everything and find accounts that are gone.")
@click.option(
    "--allow-mass-deactivation",
    is_flag=True,
    help="Deactivate even when more than max_deactivation_percent are gone.",
)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def sync(name: str, full: bool, allow_mass_deactivation: bool, fmt: str) -> None:
    """Sync the directory NAME now (incremental unless --full or never synced)."""
    services = command_services()
    result = services.directory_sync.run(
        name, full=full, allow_mass_deactivation=allow_mass_deactivation
    )
    if fmt == "json":
        click.echo(json.dumps(result_dict(result), indent=2))
        return
    click.echo(_summary(result))
    for problem in result.problems[:50]:
        click.echo(f"  problem: {problem['dn']}: {problem['problem']}")
    if len(result.problems) > 50:
        click.echo(f"  ... and {len(result.problems) - 50} more (--format json lists them)")


def _summary(result: SyncResult) -> str:
    counts = ", ".join(f"{key} {value}" for key, value in result.counts.items())
    rate = result.counts.get("users_read", 0) / result.seconds if result.seconds else 0.0
    return (
        f"{result.provider}: {result.kind} sync {result.status} in {result.seconds:.1f} s "
        f"({rate:.0f} users/s), run {result.run_id}\n  {counts}"
    )


@providers.command("runs")
@click.argument("name", required=False)
@click.option("--limit", type=click.IntRange(1, 500), default=20, show_default=True)
def runs(name: str | None, limit: int) -> None:
    """Recent syncs, newest first, with what they changed or why they failed."""
    services = command_services()
    with services.sessions() as session:
        found = services.directory_sync.runs(session, name, limit)
        for run in found:
            detail = run.error or run.counts
            click.echo(
                f"{run.id}  {run.provider}  {run.kind:<11} {run.status:<9} "
                f"{iso_utc(run.started_at)}  {detail}"
            )
    if not found:
        click.echo("no syncs yet")


@providers.command("test")
@click.argument("name")
@click.option("--username", help="Also look this username up and show its entry.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def test(name: str, username: str | None, fmt: str) -> None:
    """Connect as the service account (TLS and certificate checks as configured) and search."""
    services = command_services()
    directory = services.directories.get(name)
    if directory is None:
        raise NotFound(f"no directory named {name!r}")
    found = directory.find_user(username or "idgov-connection-test")
    if fmt == "json":
        report: dict[str, Any] = {"provider": name, "server": directory.server}
        if username:
            report["lookup"] = lookup_dict(username, found)
        click.echo(json.dumps(report, indent=2))
        return
    click.echo(f"{name}: connected to {directory.server} and searched as the service account")
    if not username:
        return
    if isinstance(found, DirectoryUser):
        click.echo(f"  {username}: found")
        for line in entry_lines(found):
            click.echo(f"    {line}")
    elif isinstance(found, EntryProblem):
        click.echo(f"  {username}: cannot be used: {found.dn}: {found.problem}")
    else:
        click.echo(f"  {username}: not found")


@providers.command("remove-member")
@click.argument("grant_id", type=int)
@click.option("--reason", required=True, help="Why (audited), e.g. the review decision.")
def remove_member(grant_id: int, reason: str) -> None:
    """Remove the holder of membership GRANT_ID from its directory group and read it back."""
    if not reason.strip():
        raise click.BadParameter("a reason is required", param_hint="--reason")
    services = command_services()
    removal = services.group_write_back.remove(grant_id, reason.strip())
    click.echo(
        f"removed {removal.member_dn} from {removal.group_dn}; verified by reading the group "
        f"back at {iso_utc(removal.verified_at)}"
    )
