"""`idgov clients`: register host systems, list them, rotate their secrets, disable them."""

from __future__ import annotations

import click

from idgov.clients.grants import TOKEN_LIFETIME_SECONDS
from idgov.clients.models import HostClient
from idgov.clients.return_urls import registered
from idgov.clients.rules import SCOPES
from idgov.clock import iso_utc
from idgov.commands.context import command_services
from idgov.counted import counted
from idgov.db import transaction

SHOWN_ONCE = (
    "Store the secret now in the host's secret store: it is shown only this once and cannot "
    "be recovered (`idgov clients rotate-secret` issues a new one)."
)


RETURN_URL = click.option(
    "--return-url",
    "return_urls",
    multiple=True,
    metavar="URL",
    help="Where the signing ceremony may send people back (exact match; https, or http to "
    "a loopback address); repeatable.",
)


@click.group()
def clients() -> None:
    """Host systems that call idgov with OAuth 2.0 client credentials (DEV-1)."""


@clients.command()
@click.argument("name")
@click.option(
    "--scope",
    "scopes",
    type=click.Choice(sorted(SCOPES)),
    multiple=True,
    required=True,
    help="What the host may do; repeat for more than one.",
)
@click.option(
    "--allow-from",
    "networks",
    multiple=True,
    metavar="CIDR",
    help="Serve this host only from this IPv4/IPv6 network or address; repeatable. "
    "Without it, any address.",
)
@RETURN_URL
@click.option("--reason", help="Why the host is registered (audited).")
def add(
    name: str,
    scopes: tuple[str, ...],
    networks: tuple[str, ...],
    return_urls: tuple[str, ...],
    reason: str | None,
) -> None:
    """Register a host system NAME and print its client secret, once."""
    services = command_services()
    with transaction(services.sessions) as session:
        client, secret = services.clients.add(
            session, name, scopes, networks, return_urls=return_urls, reason=_reason(reason)
        )
    click.echo(f"registered host client {client.name}: {_describe(client)}")
    _print_credentials(client, secret)


@clients.command("list")
def list_clients() -> None:
    """Every host client ever registered, oldest first (disabled ones stay listed)."""
    services = command_services()
    with services.sessions() as session:
        found = services.clients.list(session)
    if not found:
        click.echo("no host clients registered (idgov clients add NAME --scope ...)")
    for client in found:
        status = f"disabled {iso_utc(client.disabled_at)}" if client.disabled_at else "active"
        click.echo(
            f"{client.client_id}  {client.name}  {status}  {_describe(client)}  "
            f"secret rotated {iso_utc(client.secret_rotated_at)}"
        )
        for url in registered(client):
            click.echo(f"    return URL {url}")


@clients.command("set-return-urls")
@click.argument("name")
@RETURN_URL
@click.option("--reason", required=True, help="Why the return URLs change (audited).")
def set_return_urls(name: str, return_urls: tuple[str, ...], reason: str) -> None:
    """Replace host client NAME's return URLs for the signing ceremony (none: remove all)."""
    services = command_services()
    with transaction(services.sessions) as session:
        client = services.clients.find(session, name, lock=True)
        urls = services.return_urls.replace(session, client, return_urls, reason=reason)
    click.echo(f"host client {client.name} returns people to {counted(len(urls), 'URL')}:")
    for url in urls:
        click.echo(f"  {url}")


@clients.command("rotate-secret")
@click.argument("name")
@click.option("--reason", help="Why the secret is rotated (audited).")
def rotate_secret(name: str, reason: str | None) -> None:
    """Give host client NAME (or client id) a new secret; the old one and its tokens stop
    working at once."""
    services = command_services()
    with transaction(services.sessions) as session:
        client, secret = services.clients.rotate_secret(session, name, reason=_reason(reason))
    click.echo(f"new secret for host client {client.name}; the old secret no longer works")
    _print_credentials(client, secret)


@clients.command()
@click.argument("name")
@click.option("--reason", required=True, help="Why the host is disabled (audited).")
def disable(name: str, reason: str) -> None:
    """Disable host client NAME (or client id): no more tokens, live tokens stop working.
    It stays on record, with the signatures it requested."""
    if not reason.strip():
        raise click.BadParameter("a reason is required", param_hint="--reason")
    services = command_services()
    with transaction(services.sessions) as session:
        client = services.clients.disable(session, name, reason=reason.strip())
    click.echo(f"disabled host client {client.name} ({client.client_id})")


def _print_credentials(client: HostClient, secret: str) -> None:
    click.echo(f"client_id:     {client.client_id}")
    click.echo(f"client_secret: {secret}")
    click.echo(SHOWN_ONCE)
    click.echo(f"Tokens from POST /oauth/token last {TOKEN_LIFETIME_SECONDS} seconds.")


def _describe(client: HostClient) -> str:
    networks = client.allowed_cidrs.replace(",", " ") or "any address"
    returns = counted(len(registered(client)), "return URL")
    return f"scopes {client.scopes}, from {networks}, {returns}"


def _reason(reason: str | None) -> str | None:
    return reason.strip() or None if reason else None
