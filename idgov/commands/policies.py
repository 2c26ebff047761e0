"""`idgov policy`: show the policy in force (now or at a past time), change it with a reason."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import click
from sqlalchemy import select

from idgov.audit.context import cli_actor
from idgov.clock import iso_utc
from idgov.commands.context import command_services
from idgov.db import transaction
from idgov.policies.documents import POLICY_MODELS
from idgov.policies.models import PolicyVersion

KINDS = click.Choice(sorted(POLICY_MODELS))


@click.group()
def policy() -> None:
    """Password, lockout, alerting and session policy (CHG-1: versioned, with reasons)."""


@policy.command()
@click.argument("kind", type=KINDS)
@click.option("--at", "at", type=click.DateTime(), help="Show the policy in force then (UTC).")
def show(kind: str, at: datetime | None) -> None:
    """Print the policy in force as JSON."""
    services = command_services()
    moment = at.replace(tzinfo=UTC) if at and at.tzinfo is None else at
    with services.sessions() as session:
        document = services.policies.at(session, POLICY_MODELS[kind], moment)
    click.echo(json.dumps(document.model_dump(mode="json"), indent=2))


@policy.command()
@click.argument("kind", type=KINDS)
def history(kind: str) -> None:
    """Every version of a policy: when, by whom, why."""
    services = command_services()
    with services.sessions() as session:
        versions = session.scalars(
            select(PolicyVersion).where(PolicyVersion.kind == kind).order_by(PolicyVersion.version)
        ).all()
        if not versions:
            click.echo(f"{kind}: the {services.settings.policy.profile} baseline, never changed")
        for version in versions:
            click.echo(
                f"v{version.version}  {iso_utc(version.effective_at)}  {version.changed_by}: "
                f"{version.reason}"
            )


@policy.command("set")
@click.argument("kind", type=KINDS)
@click.argument("assignments", nargs=-1, required=True)
@click.option("--reason", required=True, help="Why the policy changes (audited).")
def set_values(kind: str, assignments: tuple[str, ...], reason: str) -> None:
    """Change values: KEY=VALUE ... (VALUE is JSON: 14, true, null, [14, 7], "text")."""
    changes = dict(_parse(item) for item in assignments)
    services = command_services()
    with transaction(services.sessions) as session:
        after = services.policies.change(session, kind, changes, reason, cli_actor().name)
        version = services.policies.version(session, kind)
    click.echo(f"{kind} policy is now version {version}")
    click.echo(json.dumps(after.model_dump(mode="json"), indent=2))


def _parse(assignment: str) -> tuple[str, Any]:
    key, separator, raw = assignment.partition("=")
    if not separator or not key:
        raise click.BadParameter(f"{assignment!r} is not KEY=VALUE", param_hint="ASSIGNMENTS")
    try:
        return key, json.loads(raw)
    except json.JSONDecodeError:
        return key, raw  # a bare word is a string
