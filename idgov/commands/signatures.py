"""`idgov verify TOKEN` and `idgov signatures export` (LNK-1, LNK-2, EXP-1, MAN-2)."""

from __future__ import annotations

import json
import re
import sys
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

import click

from idgov.commands.context import command_services
from idgov.commands.exports import as_utc, export_options, write_export
from idgov.exports.streams import ExportFormat
from idgov.signatures.export import SignatureExporter, SignatureFilter
from idgov.signatures.verification import (
    MAX_TOKEN_CHARS,
    RecordKey,
    VerificationResult,
    verify_with_jwks,
)

DIGEST = re.compile(r"sha256:[0-9a-fA-F]{64}")
UNBOUND = (
    "note: no --digest or --record given: the token's JWS is valid, but that it binds your "
    "record was not checked"
)


def _token(value: str) -> str:
    """TOKEN itself, @path for a file holding it, or - for standard input."""
    try:
        if value == "-":
            return sys.stdin.read(MAX_TOKEN_CHARS + 2).strip()
        if value.startswith("@"):
            with Path(value[1:]).open(encoding="utf-8") as handle:
                return handle.read(MAX_TOKEN_CHARS + 2).strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise click.BadParameter(f"cannot read the token: {exc}", param_hint="TOKEN") from None
    return value


def _digest(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value is not None and not DIGEST.fullmatch(value):
        raise click.BadParameter("give sha256: and 64 hex digits")
    return value


def _record(_ctx: click.Context, _param: click.Parameter, value: str | None) -> RecordKey | None:
    if value is None:
        return None
    # The type has no colon and the version none either; the id between them may.
    kind, _, rest = value.partition(":")
    ident, _, version = rest.rpartition(":")
    if not (kind and ident and version):
        raise click.BadParameter("give TYPE:ID:VERSION")
    return RecordKey(kind, ident, version)


@click.command()
@click.argument("token")
@click.option("--digest", callback=_digest, help="The record's content hash: sha256:<64 hex>.")
@click.option("--record", callback=_record, help="The record it must be bound to: TYPE:ID:VERSION.")
@click.option(
    "--jwks",
    "jwks_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Verify offline against this JWK Set (a saved /.well-known/jwks.json).",
)
def verify(
    token: str, digest: str | None, record: RecordKey | None, jwks_file: Path | None
) -> None:
    """Check a signature token (TOKEN, @FILE or - for stdin); exit 1 with the reasons if bad."""
    text = _token(token)
    if jwks_file is not None:
        try:
            jwks = json.loads(jwks_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise click.BadParameter(f"not a JWK Set: {exc}", param_hint="--jwks") from None
        result = verify_with_jwks(
            text, jwks if isinstance(jwks, dict) else {}, digest=digest, record=record
        )
    else:
        services = command_services()
        with services.sessions() as session:
            result = services.signature_verifier.verify(session, text, digest, record)
    _report(result)
    if digest is None and record is None:  # LNK-1: the API refuses this; here it is a read
        click.echo(UNBOUND, err=True)


def _report(result: VerificationResult) -> None:
    if not result.valid:
        click.echo(f"signature INVALID: {', '.join(result.reasons)}", err=True)
        sys.exit(1)
    document = result.document
    assert document is not None
    record = document.record
    click.echo(f"signature VALID: {document.id} (key {document.kid})")
    click.echo(document.manifestation.text())
    click.echo(f"record: {record.type} {record.id} version {record.version} ({record.digest})")


@click.group()
def signatures() -> None:
    """Electronic signatures issued to host applications (21 CFR 11.50, 11.70)."""


@signatures.command()
@export_options
@click.option("--identity", help="Only signatures by this username.")
@click.option("--record", help="Only signatures of this record: TYPE:ID or ID.")
def export(
    fmt: ExportFormat,
    output: Path,
    since: datetime | None,
    until: datetime | None,
    identity: str | None,
    record: str | None,
) -> None:
    """Export signatures with their manifestations as CSV, JSON, HTML or PDF (EXP-1, MAN-2)."""
    services = command_services()
    exporter = SignatureExporter(
        services.engine,
        services.clock,
        services.settings.server.base_url,
        services.signature_verifier,
    )

    def write(out: BinaryIO) -> int:
        selection = SignatureFilter(as_utc(since), as_utc(until), identity, record)
        return exporter.write(fmt, selection, out)

    write_export(output, write, "signature")
