"""`idgov keys`: list and rotate the service signing keys."""

from __future__ import annotations

import click

from idgov.clock import iso_utc
from idgov.commands.context import command_services
from idgov.db import transaction
from idgov.keys.store import PURPOSES


@click.group()
def keys() -> None:
    """Service signing keys (published at /.well-known/jwks.json)."""


@keys.command("list")
def list_keys() -> None:
    """Every key ever used, newest last."""
    services = command_services()
    with services.sessions() as session:
        for entry in services.keys.jwks(session)["keys"]:
            until = entry.get("idgov_valid_until", "active")
            click.echo(
                f"{entry['kid']}  {entry['idgov_purpose']:<9} {entry['alg']:<5} "
                f"from {entry['idgov_valid_from']}  until {until}"
            )


@keys.command()
@click.option("--purpose", type=click.Choice(PURPOSES), required=True)
@click.option("--reason", required=True, help="Why the key is rotated (audited).")
def rotate(purpose: str, reason: str) -> None:
    """Create a new key; the old one is retired but stays published for verification."""
    if not reason.strip():
        raise click.BadParameter("a reason is required", param_hint="--reason")
    services = command_services()
    with transaction(services.sessions) as session:
        key = services.keys.create(session, purpose, reason=reason.strip())
    click.echo(f"new {purpose} key {key.kid} ({key.alg}) active from {iso_utc(key.created_at)}")
