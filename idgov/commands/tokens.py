"""`idgov tokens report` and `idgov tokens loss`: report, verify, temporary, case (LOSS-1/2)."""

from __future__ import annotations

import json

import click

from idgov.clock import iso_utc
from idgov.commands.context import command_services
from idgov.commands.identities import find
from idgov.counted import counted
from idgov.db import transaction
from idgov.tokens.loss.record import as_text, token_report
from idgov.tokens.loss.rules import CREDENTIALS, KINDS


@click.group()
def tokens() -> None:
    """Tokens (TOTP), their periodic tests, and loss management (11.300(c), (e))."""


@tokens.command("report")
def report() -> None:
    """Open loss cases with their age, tokens overdue for testing, suspended tokens."""
    services = command_services()
    now = services.clock.now()
    with services.sessions() as session:
        found = token_report(session, now)
        click.echo(f"open loss cases: {len(found.open_cases)}")
        for case, owner, age in found.open_cases:
            hours = age / 3600
            click.echo(
                f"  {case.id}  {owner:<24} {case.credential:<8} {case.kind:<11} "
                f"{case.status:<16} open {hours:.1f} h"
            )
        click.echo(f"tokens overdue for testing: {len(found.overdue)}")
        for token, owner in found.overdue:
            due = iso_utc(token.test_due_at) if token.test_due_at else "-"
            click.echo(f"  {token.id}  {owner:<24} {token.label:<20} due {due}")
        click.echo(f"suspended tokens: {len(found.suspended)}")
        for token, owner in found.suspended:
            click.echo(f"  {token.id}  {owner:<24} {token.label:<20} {token.status_reason or ''}")


@tokens.group()
def loss() -> None:
    """Loss cases: report, re-verify, temporary credential, case record (LOSS-1, LOSS-2)."""


@loss.command("report")
@click.argument("username")
@click.option("--by", "reporter", required=True, help="Owner, their manager or an officer.")
@click.option("--credential", type=click.Choice(CREDENTIALS), required=True)
@click.option("--kind", type=click.Choice(KINDS), required=True)
@click.option("--token-id", help="The token, when one of several is lost (default: all).")
@click.option("--description", help="What happened (audited).")
def report_loss(
    username: str,
    reporter: str,
    credential: str,
    kind: str,
    token_id: str | None,
    description: str | None,
) -> None:
    """Report a credential; it is deauthorized in the same transaction (LOSS-1)."""
    services = command_services()
    with transaction(services.sessions) as session:
        owner, by = find(services, session, username), find(services, session, reporter)
        case = services.loss.report(session, owner, by, credential, kind, token_id, description)
        click.echo(f"loss case {case.id}: {credential} of {owner.username} deauthorized")


@loss.command("verify")
@click.argument("case_id")
@click.option("--officer", required=True, help="A security officer, not the reporter or owner.")
@click.option("--evidence", required=True, help="What was checked, e.g. passport in person.")
def verify(case_id: str, officer: str, evidence: str) -> None:
    """Record re-verifying the owner's identity (a second person, LOSS-2)."""
    services = command_services()
    with transaction(services.sessions) as session:
        case = services.loss.verify_identity(
            session, case_id, find(services, session, officer), evidence
        )
        click.echo(f"loss case {case.id}: identity re-verified")


@loss.command("temporary")
@click.argument("case_id")
@click.option("--officer", required=True, help="The security officer issuing it.")
def temporary(case_id: str, officer: str) -> None:
    """Issue the temporary credential; the code is printed once (LOSS-2)."""
    services = command_services()
    with transaction(services.sessions) as session:
        code = services.loss.issue_temporary(session, case_id, find(services, session, officer))
        case = services.loss.get(session, case_id)
        expires = iso_utc(case.temporary_expires_at) if case.temporary_expires_at else "-"
        uses = counted(case.temporary_uses_left or 0, "use")
    click.echo(f"temporary code (shown once): {code}")
    click.echo(f"valid until {expires}, at most {uses}")


@loss.command("case")
@click.argument("case_id")
@click.option("--format", "form", type=click.Choice(["json", "text"]), default="text")
def case(case_id: str, form: str) -> None:
    """Export the case record: every step with time, actor and reason, and SLA figures."""
    services = command_services()
    with services.sessions() as session:
        record = services.loss.case_record(session, case_id)
    if form == "json":
        click.echo(json.dumps(record, indent=2, ensure_ascii=False))
    else:
        click.echo(as_text(record))
