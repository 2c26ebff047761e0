"""`idgov audit`: verify the chain, issue checkpoints, export the trail."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

import click

from idgov.audit.chain_state import CHECKPOINT_EXPORTED
from idgov.audit.checkpoints import CheckpointClaim, compare_with_checkpoint
from idgov.audit.context import Target
from idgov.audit.export import AuditExporter, ExportFilter
from idgov.commands.context import command_services
from idgov.commands.exports import as_utc, export_options, write_export
from idgov.counted import counted
from idgov.db import transaction
from idgov.exports.streams import ExportFormat
from idgov.keys.jws import JwsError


@click.group()
def audit() -> None:
    """The hash-chained audit trail (21 CFR 11.10(e))."""


@audit.command()
@click.option(
    "--checkpoint",
    "checkpoint_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="An exported checkpoint the chain must extend (AUD-4).",
)
def verify(checkpoint_file: Path | None) -> None:
    """Walk the whole chain; exit 1 naming the first bad sequence number."""
    services = command_services()
    claim: CheckpointClaim | None = None
    if checkpoint_file is not None:
        with services.sessions() as session:
            try:
                claim = services.checkpoints.read_claim(
                    session, checkpoint_file.read_text(encoding="utf-8")
                )
            except (JwsError, UnicodeDecodeError) as exc:
                click.echo(f"checkpoint REJECTED: {exc}", err=True)
                sys.exit(1)
    report = services.verifier.verify(remember=frozenset({claim.size}) if claim else frozenset())
    if not report.ok:
        click.echo(
            f"audit chain BROKEN at event {report.first_bad_seq}: {report.problem}", err=True
        )
        sys.exit(1)
    click.echo(
        f"audit chain OK: {counted(report.events_checked, 'event')}, head {report.head_hash}"
    )
    if claim is not None:
        problem = compare_with_checkpoint(report, claim)
        if problem:
            click.echo(f"checkpoint MISMATCH: {problem}", err=True)
            sys.exit(1)
        click.echo(
            f"checkpoint OK: the chain extends the checkpoint of {claim.issued_at} "
            f"({counted(claim.size, 'event')}, key {claim.kid})"
        )


@audit.command()
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the checkpoint document to this file (keep it outside idgov).",
)
def checkpoint(output: Path | None) -> None:
    """Sign the current chain head now (also done on a schedule by the worker)."""
    services = command_services()
    with transaction(services.sessions) as session:
        issued = services.checkpoints.issue(session)
        document = services.checkpoints.export_document(session, issued)
        # AUD-4: `idgov check` names a trail with no checkpoint exported for too long.
        services.trail.record(
            session,
            CHECKPOINT_EXPORTED,
            Target("audit-checkpoint", str(issued.id)),
            new={"size": issued.size, "head_hash": issued.head_hash, "kid": issued.kid},
        )
    text = json.dumps(document, indent=2)
    if output is None:
        click.echo(text)
    else:
        output.write_text(text + "\n", encoding="utf-8")
        click.echo(f"checkpoint at event {issued.size} written to {output}")


@audit.command()
@export_options
@click.option("--actor", help="Only events by this actor id.")
@click.option("--target", help="Only events about this target: TYPE:ID or ID.")
@click.option("--action", help="Only events of this action (area:subject:action).")
@click.option("--no-verify", is_flag=True, help="Skip the chain verification statement.")
def export(
    fmt: ExportFormat,
    output: Path,
    since: datetime | None,
    until: datetime | None,
    actor: str | None,
    target: str | None,
    action: str | None,
    no_verify: bool,
) -> None:
    """Export the trail as CSV, JSON, HTML or PDF (EXP-1)."""
    services = command_services()
    chain = None if no_verify else services.verifier.verify()
    exporter = AuditExporter(services.engine, services.clock, services.settings.server.base_url)

    def write(out: BinaryIO) -> int:
        # Inside write_export: a bad filter is refused like a bad export, without a traceback.
        selection = ExportFilter(as_utc(since), as_utc(until), actor, target, action)
        return exporter.write(fmt, selection, out, chain)

    write_export(output, write, "event")
