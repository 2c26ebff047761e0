"""`idgov campaigns`: define, start, follow and report access-review campaigns."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from idgov.audit.context import current_audit_context
from idgov.clock import iso_utc
from idgov.commands.context import command_services
from idgov.commands.identities import find
from idgov.counted import counted, plural
from idgov.db import transaction
from idgov.errors import InvalidRequest, NotFound
from idgov.reviews.campaigns.definition import DAYS, NewDefinition
from idgov.reviews.campaigns.schedule import QUARTERLY
from idgov.reviews.evidence.services import FORMATS
from idgov.reviews.models import CampaignDefinition, CampaignState, ReviewerRule

SCOPE_HELP = (
    'JSON: {"all": true}, or any of {"systems": [NAME...], "directories": [NAME...], '
    '"groups": ["DIRECTORY/GROUP"...]}'
)


def _me() -> str:
    """Who runs the command, as recorded on definitions and campaigns."""
    actor = current_audit_context.get().actor
    return f"{actor.type}:{actor.id}"


def _when(moment: Any) -> str:
    return "-" if moment is None else iso_utc(moment)


@click.group()
def campaigns() -> None:
    """Access-review campaigns (REV-1..6)."""


@campaigns.command()
@click.argument("name")
@click.option("--scope", "scope_json", required=True, help=SCOPE_HELP)
@click.option("--rule", type=click.Choice([r.value for r in ReviewerRule]), required=True)
@click.option("--fallback", required=True, help="Username of the fallback reviewer (REV-2).")
@click.option("--duration-days", type=int, default=DAYS["duration_days"].default, show_default=True)
@click.option("--reminder-days", type=int, default=DAYS["reminder_days"].default, show_default=True)
@click.option(
    "--escalation-days", type=int, default=DAYS["escalation_days"].default, show_default=True
)
@click.option("--dormant-days", type=int, default=DAYS["dormant_days"].default, show_default=True)
@click.option("--schedule", help=f"Five-field cron, UTC (default quarterly: {QUARTERLY}).")
@click.option("--on-demand", is_flag=True, help="No schedule: started by hand only.")
@click.option("--certify-justification", is_flag=True, help="Certifications need one too.")
def define(
    name: str,
    scope_json: str,
    rule: str,
    fallback: str,
    duration_days: int,
    reminder_days: int,
    escalation_days: int,
    dormant_days: int,
    schedule: str | None,
    on_demand: bool,
    certify_justification: bool,
) -> None:
    """Define a campaign NAME: what is reviewed, by whom, and when (REV-1, REV-2)."""
    if schedule is not None and on_demand:
        raise InvalidRequest("give --schedule or --on-demand, not both", field="schedule")
    try:
        scope = json.loads(scope_json)
    except json.JSONDecodeError as exc:
        raise InvalidRequest(f"--scope is not JSON: {exc.msg}", field="scope") from None
    services = command_services()
    with transaction(services.sessions) as session:
        new = NewDefinition(
            name=name,
            scope=scope,
            reviewer_rule=rule,
            fallback_reviewer_id=find(services, session, fallback).id,
            duration_days=duration_days,
            reminder_days=reminder_days,
            escalation_days=escalation_days,
            dormant_days=dormant_days,
            schedule=None if on_demand else (schedule or QUARTERLY),
            certify_justification=certify_justification,
        )
        definition = services.campaigns.define(session, new, _me())
        click.echo(f"defined {definition.name} ({definition.id})")
        click.echo(f"  schedule: {definition.schedule or 'on demand'}; reviewer rule {rule}")


@campaigns.command("definitions")
def list_definitions() -> None:
    """Every campaign definition with its schedule and last start."""
    services = command_services()
    with services.sessions() as session:
        found = services.review_reader.definitions(session)
        for d, _fallback in found:
            click.echo(
                f"{d.id}  {d.name}  {d.reviewer_rule}  {d.schedule or 'on demand'}  "
                f"last started {_when(d.last_started_at)}"
            )
    if not found:
        click.echo("no campaign definitions (idgov campaigns define ...)")


@campaigns.command()
@click.argument("definition")
def start(definition: str) -> None:
    """Start a campaign of DEFINITION (its id or name) now: the population is frozen (REV-1)."""
    services = command_services()
    with transaction(services.sessions) as session:
        found = _definition(session, definition)
        campaign = services.campaigns.launch(session, found.id, _me())
        completeness = json.loads(campaign.completeness)
        click.echo(
            f"started campaign {campaign.id} ({campaign.name}), due {_when(campaign.due_at)}"
        )
        click.echo(f"  items: {campaign.item_count}")
        click.echo(f"  population hash: {campaign.population_hash}")
        snapshots = completeness.get("snapshots", {})
        for source, counts in completeness.get("sources", {}).items():
            click.echo(
                f"  {source}: {counted(counts['grants'], 'grant')} over "
                f"{counted(counts['entitlements'], 'entitlement')}; "
                f"last snapshot {snapshots.get(source) or 'none'}"
            )
        flagged = completeness.get("flagged", {})
        click.echo("  flagged: " + ", ".join(f"{k} {v}" for k, v in flagged.items()))


def _definition(session: Session, wanted: str) -> CampaignDefinition:
    found = (
        session.get(CampaignDefinition, wanted)
        or session.scalars(
            select(CampaignDefinition).where(CampaignDefinition.name == wanted.strip())
        ).first()
    )
    if found is None:
        raise NotFound(f"no campaign definition with id or name {wanted!r}", field="definition")
    return found


@campaigns.command("list")
@click.option("--state", type=click.Choice([s.value for s in CampaignState]))
def list_campaigns(state: str | None) -> None:
    """Campaigns, newest first."""
    services = command_services()
    with services.sessions() as session:
        found = services.review_reader.campaigns(session, state)
        for c in found:
            click.echo(
                f"{c.id}  {c.state:<8} {c.item_count:>8} {plural(c.item_count, 'item'):<5}  "
                f"started {_when(c.started_at)}  "
                f"due {_when(c.due_at)}  {c.name}"
            )
    if not found:
        click.echo("no campaigns" + (f" in state {state}" if state else ""))


@campaigns.command()
@click.argument("campaign_id")
def show(campaign_id: str) -> None:
    """A campaign's state and each reviewer's progress: decided, signed, overdue (REV-5)."""
    services = command_services()
    with services.sessions() as session:
        campaign = services.campaigns.get(session, campaign_id)
        found = services.review_reader.progress(session, campaign.id, services.clock.now())
        click.echo(f"campaign {campaign.id} ({campaign.name}): {campaign.state}")
        click.echo(f"  started {_when(campaign.started_at)} by {campaign.started_by}")
        click.echo(f"  due {_when(campaign.due_at)}; closing {_when(campaign.closing_at)}")
        click.echo(f"  closed {_when(campaign.closed_at)}")
        click.echo(
            f"  items {found.total('items')}: decided {found.total('decided')}, signed "
            f"{found.total('signed_off')}, overdue {found.total('overdue')}"
        )
        for row in found.reviewers:
            who = f"{row.printed_name} ({row.username})" if row.username else "unassigned"
            click.echo(
                f"  {who}: decided {row.decided}/{row.items}, signed {row.signed_off}, "
                f"overdue {row.overdue}"
            )


@campaigns.command()
@click.argument("campaign_id")
@click.option("--reason", required=True, help="Why it closes now (audited).")
@click.option(
    "--with-exceptions",
    is_flag=True,
    help="Close although remediation is unverified; the evidence lists it as exceptions.",
)
def close(campaign_id: str, reason: str, with_exceptions: bool) -> None:
    """Close a campaign (SEQ-1): active to closing, then closed once remediation is verified."""
    services = command_services()
    actor = current_audit_context.get().actor
    outcome = services.closer.close(
        campaign_id, actor.name, reason, with_exceptions=with_exceptions
    )
    click.echo(f"campaign {campaign_id}: {' -> '.join(outcome.moved)}; now {outcome.state}")
    if outcome.not_signed:
        click.echo(
            f"  {counted(outcome.not_signed, 'item')} not signed off: exceptions, never certified"
        )
    if not outcome.closed:
        click.echo(
            f"  {counted(outcome.unverified, 'remediation')} "
            f"{plural(outcome.unverified, 'is', 'are')} not verified yet: close again once "
            "they are, or with --with-exceptions"
        )
        return
    if outcome.unverified:
        click.echo(
            f"  closed with exceptions: {counted(outcome.unverified, 'remediation')} not verified"
        )
    for fmt, digest in outcome.evidence.items():
        click.echo(f"  evidence {fmt}: {digest}")


@campaigns.command()
@click.argument("campaign_id")
@click.option("--format", "fmt", type=click.Choice(FORMATS), required=True)
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
def report(campaign_id: str, fmt: str, output: Path) -> None:
    """Write a campaign's evidence pack again (REV-5, EXP-1); audited with its SHA-256."""
    services = command_services()
    try:
        with output.open("wb") as handle:
            written = services.evidence.export(campaign_id, fmt, handle, occasion="report")
    except OSError as exc:
        output.unlink(missing_ok=True)
        raise click.ClickException(f"cannot write {output}: {exc.strerror or exc}") from None
    except BaseException:
        output.unlink(missing_ok=True)  # no copy without its audit event
        raise
    click.echo(
        f"evidence ({fmt}) of campaign {campaign_id} written to {output}: "
        f"{counted(written.items, 'item')}, {counted(written.size, 'byte')}, {written.sha256}"
    )
    if written.sealed is None:
        click.echo("  no SHA-256 was sealed for it: the campaign has not closed")
    elif written.matches_sealed:
        click.echo("  identical to the pack sealed when the campaign closed")
    else:
        click.echo(
            f"  DIFFERS from the pack sealed at closing ({written.sealed}): records of the "
            "campaign changed since (the audit trail says which)"
        )


@campaigns.command("retry-remediation")
@click.argument("remediation_id", type=int)
@click.option("--reason", required=True, help="What was fixed (audited).")
def retry_remediation(remediation_id: int, reason: str) -> None:
    """A failed revocation (nested membership, write-back off, refused) is tried again on the
    worker's next run, once its cause is fixed (REV-4)."""
    services = command_services()
    with transaction(services.sessions) as session:
        services.remediation.retry(session, remediation_id, reason)
    click.echo(f"remediation {remediation_id} is open again: the worker tries it next")


@campaigns.command("pause")
@click.argument("definition_id")
@click.option("--reason", required=True, help="Why (audited).")
@click.option("--resume", is_flag=True, help="Resume the scheduled starts instead.")
def pause(definition_id: str, reason: str, resume: bool) -> None:
    """Stop a definition's scheduled starts (or resume them with --resume); campaigns already
    running go on, and it can still be started on demand."""
    services = command_services()
    with transaction(services.sessions) as session:
        services.campaigns.pause(session, definition_id, reason, paused=not resume)
    click.echo(f"definition {definition_id}: scheduled starts {'resumed' if resume else 'paused'}")
