"""`idgov check`: configuration that silently defeats a rule, each gap with its fix."""

from __future__ import annotations

import json
import logging
import sys

import click

from idgov.commands.context import command_services
from idgov.db import reading
from idgov.demo import is_demo
from idgov.health.gaps import Gap, log_gaps
from idgov.wiring import Services

log = logging.getLogger("idgov.check")


def current_gaps(services: Services) -> list[Gap]:
    """Every gap of this installation now (idgov check, start-up logs)."""
    demo = is_demo(services)
    with reading(services.sessions) as session:
        return services.gaps.find(session, demo=demo)


def warn_at_start(services: Services) -> None:
    """A WARNING per gap when a process starts (`idgov serve`, `idgov worker`)."""
    log_gaps(current_gaps(services), log)


@click.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Plain lines, or one JSON document.",
)
def check(fmt: str) -> None:
    """Name every configuration gap that silently defeats a rule, with its fix; exit 1 when
    any is serious (run it before production and after every configuration change)."""
    gaps = current_gaps(command_services())
    serious = sum(gap.serious for gap in gaps)
    if fmt == "json":
        document = {"gaps": [gap.as_dict() for gap in gaps], "serious": serious}
        click.echo(json.dumps(document, indent=2))
    elif not gaps:
        click.echo("no configuration gaps found")
    else:
        for gap in gaps:
            level = "SERIOUS" if gap.serious else "warning"
            click.echo(f"{level}: {gap.code} ({gap.requirement}): {gap.problem}")
            click.echo(f"  fix: {gap.fix}")
        click.echo(f"{len(gaps)} gap(s), {serious} serious")
    if serious:
        sys.exit(1)
