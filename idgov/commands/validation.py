"""`idgov validation-report` and `idgov validation-report-verify` (VAL-1, 11.10(a))."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from flask import Flask

from idgov.commands.context import command_services
from idgov.db import reading
from idgov.keys.jws import PublicKey
from idgov.validation.oq import OqSelection
from idgov.validation.report import ReportRequest
from idgov.validation.sealing import jwks_keys, read_jwks, verify_package


class AppProbe:
    """GETs on the application in-process (Flask's test client): /readyz and the JWKS."""

    def __init__(self, app: Flask) -> None:
        self._client = app.test_client()

    def get(self, path: str) -> tuple[int, dict[str, Any]]:
        response = self._client.get(path)
        body = response.get_json(silent=True)
        return response.status_code, body if isinstance(body, dict) else {}


@click.command("validation-report")
@click.option(
    "--output",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="A new or empty directory for the package.",
)
@click.option("--database-url", help="The database to qualify (default: database.url).")
@click.option(
    "--compare",
    "previous",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A previous report's evidence.json: list what changed since.",
)
@click.option(
    "--requirement", "requirements", multiple=True, help="Only the tests of this ID (repeat)."
)
@click.option("-k", "keyword", help="Only the tagged tests pytest's -k expression selects.")
@click.option("--partial-ok", is_flag=True, help="Exit 0 when a selected (partial) run has no gap.")
@click.option(
    "--tests",
    "tests_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    hidden=True,
    help="Run this folder as tests/ instead of idgov's (to test the report itself).",
)
def validation_report(
    output: Path,
    database_url: str | None,
    previous: Path | None,
    requirements: tuple[str, ...],
    keyword: str | None,
    partial_ok: bool,
    tests_dir: Path | None,
) -> None:
    """IQ, OQ and the traceability matrix into a sealed package (exit codes:
    docs/validation/report.md)."""
    from idgov.app import create_app

    services = command_services({"database.url": database_url} if database_url else None)
    services.validation.check_output(output)  # before any work
    earlier = _previous(previous)
    request = ReportRequest(
        output, OqSelection(requirements, keyword, tests_dir), earlier, partial_ok
    )
    click.echo(f"validation report: running IQ and OQ into {output} ...")
    conclusion = services.validation.generate(request, AppProbe(create_app(services=services)))
    click.echo(conclusion.text)
    click.echo(f"package written and sealed: {output} (exit code {conclusion.exit_code})")
    sys.exit(conclusion.exit_code)


def _previous(path: Path | None) -> dict[str, Any] | None:
    if path is None:
        return None
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint="--compare") from None
    if not isinstance(document, dict) or "matrix" not in document:
        raise click.BadParameter("not a validation report's evidence.json", param_hint="--compare")
    return document


@click.command("validation-report-verify")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--jwks",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Check the signature against this JWK Set (default: this installation's keys).",
)
def validation_report_verify(directory: Path, jwks: Path | None) -> None:
    """Check a package's SHA256SUMS and its detached JWS; exit 1 naming each problem."""
    if jwks is not None:
        try:
            problems = verify_package(directory, jwks_keys(read_jwks(jwks)))
        except (ValueError, UnicodeDecodeError) as exc:
            raise click.BadParameter(f"not a JWK Set: {exc}", param_hint="--jwks") from None
    else:
        services = command_services()
        with reading(services.sessions) as session:

            def installation_key(kid: str) -> PublicKey | None:
                return services.keys.public_key(session, kid, purpose="audit")

            problems = verify_package(directory, installation_key)
    if problems:
        for problem in problems:
            click.echo(f"package REJECTED: {problem}", err=True)
        sys.exit(1)
    click.echo(
        f"package OK: every file matches SHA256SUMS and its signature verifies ({directory})"
    )
