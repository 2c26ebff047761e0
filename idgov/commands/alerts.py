"""`idgov alerts`: security officers list alerts and acknowledge them (ALERT-1)."""

from __future__ import annotations

import click

from idgov.alerts.services import AlertListing, AlertStatus
from idgov.clock import iso_utc
from idgov.commands.context import command_services
from idgov.db import transaction
from idgov.errors import NotFound
from idgov.identity.usernames import normalize_username


@click.group()
def alerts() -> None:
    """Lockout and attack alerts (ALERT-1): list and acknowledge."""


@alerts.command("list")
@click.option("--all", "show_all", is_flag=True, help="Acknowledged alerts too.")
@click.option("--acknowledged", "only_acknowledged", is_flag=True, help="Only acknowledged alerts.")
@click.option("--limit", type=click.IntRange(1, 1000), default=100, show_default=True)
def list_alerts(show_all: bool, only_acknowledged: bool, limit: int) -> None:
    """Newest first; without options, the open (unacknowledged) alerts."""
    status: AlertStatus = "all" if show_all else "acknowledged" if only_acknowledged else "open"
    services = command_services()
    with services.sessions() as session:
        listings = services.alert_service.list(session, status, limit)
        for listing in listings:
            click.echo(_line(listing))
    if not listings:
        click.echo(f"no {'' if status == 'all' else status + ' '}alerts")


def _line(listing: AlertListing) -> str:
    alert = listing.alert
    state = (
        f"acknowledged by {listing.acknowledged_by} at {iso_utc(alert.acknowledged_at)}"
        if alert.acknowledged_at
        else "OPEN"
    )
    about = listing.username or alert.source_address or "-"
    return (
        f"{alert.id}  {iso_utc(alert.raised_at)}  {alert.severity:<6} {alert.kind:<16} "
        f"{about:<20} {state}; deliveries {listing.delivered} done, {listing.pending} pending; "
        f"notification {alert.notify_round}\n    {alert.summary}"
    )


@alerts.command("ack")
@click.argument("alert_id")
@click.option("--officer", required=True, help="Username of the acknowledging security officer.")
@click.option("--note", required=True, help="What was done about it (audited).")
def ack(alert_id: str, officer: str, note: str) -> None:
    """Acknowledge an alert: stops its re-notification (security officers only)."""
    if not note.strip():
        raise click.BadParameter("a note is required", param_hint="--note")
    services = command_services()
    with transaction(services.sessions) as session:
        person = services.identities.by_username(session, normalize_username(officer))
        if person is None:
            raise NotFound(f"no identity with username {officer!r}")
        alert = services.alert_service.acknowledge(session, alert_id, person, note.strip())
    click.echo(f"alert {alert.id} acknowledged by {person.username}")
