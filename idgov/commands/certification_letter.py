"""`idgov certification-letter`: the 21 CFR 11.100(c) letter as text and PDF (CERT-1)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import click

from idgov.commands.context import command_services
from idgov.db import transaction
from idgov.validation.letter import (
    CertificationLetter,
    compose_letter,
    record_generated,
    uses_1997_recipient,
)
from idgov.validation.letter_pdf import letter_pdf

FORMATS = ("text", "pdf", "both")
TEXT_FILE, PDF_FILE = "letter.txt", "letter.pdf"


@click.command("certification-letter")
@click.option(
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Directory to write letter.txt and letter.pdf into (created if missing).",
)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="both", show_default=True)
def certification_letter(output: Path, fmt: str) -> None:
    """Write the letter certifying to FDA that the organisation's electronic signatures are
    the legally binding equivalent of handwritten ones (21 CFR 11.100(c)); print and sign it
    by hand, then send it on paper (docs/validation/certification-letter.md)."""
    services = command_services()
    organisation = services.settings.organisation
    now = services.clock.now()
    # Refused here, before anything is written, when a required setting is missing.
    letter = compose_letter(organisation, now.date())
    text = letter.text()
    files: dict[str, bytes] = {}
    if fmt in ("text", "both"):
        files[TEXT_FILE] = text.encode("utf-8")
    if fmt in ("pdf", "both"):
        files[PDF_FILE] = letter_pdf(letter, organisation.paper, now)
    click.echo(text, nl=False)
    _write(output, files, lambda: _record(files, letter))
    for name in files:
        click.echo(f"written: {output / name}", err=True)
    if uses_1997_recipient(organisation):
        click.echo(
            "note: the letter is addressed as 21 CFR 11.100(c)(1) was published in 1997; FDA "
            "changed the address on 2 March 2023 (88 FR 13018). Check the current text of "
            "11.100(c)(1) at ecfr.gov and set organisation.recipient.",
            err=True,
        )


def _record(files: dict[str, bytes], letter: CertificationLetter) -> None:
    services = command_services()
    with transaction(services.sessions) as session:
        record_generated(session, services.trail, letter, files)


def _write(output: Path, files: dict[str, bytes], record: Callable[[], None]) -> None:
    """Write each file beside its final name, record the audit event, then put the files in
    place: a refused write or a failed audit record leaves no letter behind."""
    try:
        output.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise click.ClickException(f"--output {output}: {exc.strerror or exc}") from None
    pending: list[tuple[Path, Path]] = []
    try:
        for name, content in files.items():
            partial = output / f".{name}.partial"
            partial.write_bytes(content)
            pending.append((partial, output / name))
        record()
        for partial, final in pending:
            os.replace(partial, final)
    except OSError as exc:
        raise click.ClickException(f"--output {output}: {exc.strerror or exc}") from None
    finally:
        for partial, _final in pending:
            partial.unlink(missing_ok=True)
