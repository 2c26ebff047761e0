"""What every `idgov ... export` command shares: its options and writing to a file or stdout."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

import click

from idgov.counted import counted
from idgov.exports.streams import FORMATS

F = TypeVar("F", bound=Callable[..., Any])


def export_options(command: F) -> F:
    """--format, --output, --since and --until."""
    for option in reversed(
        [
            click.option("--format", "fmt", type=click.Choice(FORMATS), required=True),
            click.option(
                "--output",
                type=click.Path(dir_okay=False, path_type=Path),
                required=True,
                help="File to write, or - for standard output.",
            ),
            click.option("--since", type=click.DateTime(), help="From this time (UTC), inclusive."),
            click.option(
                "--until", type=click.DateTime(), help="Up to this time (UTC), exclusive."
            ),
        ]
    ):
        command = option(command)
    return command


def as_utc(value: datetime | None) -> datetime | None:
    """A time typed on the command line is UTC unless it names its own zone."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def write_export(output: Path, write: Callable[[BinaryIO], int], noun: str) -> None:
    """Run `write` on the file (or stdout for -); a refusal leaves no partial file behind.
    `noun` is singular ("event"): the summary counts it."""
    try:
        if str(output) == "-":
            write(sys.stdout.buffer)
            return
        with output.open("wb") as handle:
            count = write(handle)
    except ValueError as exc:
        if str(output) != "-":
            output.unlink(missing_ok=True)
        raise click.ClickException(str(exc)) from None
    click.echo(f"{counted(count, noun)} written to {output}", err=True)
