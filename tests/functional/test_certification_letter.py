"""`idgov certification-letter` end to end: settings, files, PDF read back, audit (CERT-1)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from click.testing import Result
from PIL import ImageStat
from sqlalchemy import select

from idgov.audit.models import AuditEvent
from idgov.config import load_settings
from idgov.wiring import build_services
from tests.functional import test_cli

Cli = test_cli.Cli
cli = test_cli.cli  # the fixture: `idgov` on this test's migrated database
GENERATED = "validation:certification-letter:generated"
# Read before the cli fixture clears IDGOV_* variables: where the e2e tests put screenshots,
# the rendered letter goes too, for a reviewer to look at.
SCREENSHOTS = os.environ.get("IDGOV_SCREENSHOTS")
SETTINGS = {
    "name": "Acme Pharma Inc.",
    "address": ["100 Main Street", "Springfield, NJ 07081", "USA"],
    "signatory_name": "Zoë Ångström",
    "signatory_title": "Vice President, Quality Assurance",
    "contact_email": "qa@acme.example",
}
VALUES = [
    "Acme Pharma Inc.",
    "100 Main Street",
    "Springfield, NJ 07081",
    "Zoë Ångström",
    "Vice President, Quality Assurance",
    "qa@acme.example",
    "Office of Regional Operations (HFC-100)",
    "5600 Fishers Lane",
    "Rockville, MD 20857",
    "March 2, 2026",  # the test clock's day
]


def configure(cli: Cli, **changes: object) -> dict[str, str]:
    """A configuration file with an [organisation] block; the env that points idgov at it."""
    block = {**SETTINGS, **changes}
    lines = ["[organisation]"]
    lines += [f"{key} = {json.dumps(value)}" for key, value in block.items() if value is not None]
    path = cli.workdir / "organisation.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {"IDGOV_CONFIG": str(path)}


def generated_events(cli: Cli) -> list[AuditEvent]:
    services = build_services(load_settings())
    try:
        with services.sessions() as session:
            return list(session.scalars(select(AuditEvent).where(AuditEvent.action == GENERATED)))
    finally:
        services.close()


def flat(text: str) -> str:
    return " ".join(text.split())


def ok(result: Result) -> Result:
    assert result.exit_code == 0, result.output
    return result


@pytest.mark.req("CERT-1")
def test_the_letter_is_printed_and_written_with_every_configured_value(cli: Cli) -> None:
    result = ok(cli("certification-letter", "--output", "letter", env=configure(cli)))
    text = (cli.workdir / "letter" / "letter.txt").read_text(encoding="utf-8")
    assert result.stdout == text
    for value in VALUES:
        assert value in text, value
    assert "legally binding equivalent of traditional handwritten signatures" in flat(text)
    assert "written: letter/letter.pdf" in result.stderr
    # Until the recipient is set, the command says the 1997 address has been amended.
    assert "88 FR 13018" in result.stderr


@pytest.mark.req("CERT-1")
def test_the_pdf_renders_and_its_text_reads_back(cli: Cli) -> None:
    ok(cli("certification-letter", "--output", "out", "--format", "pdf", env=configure(cli)))
    assert not (cli.workdir / "out" / "letter.txt").exists()
    document = pdfium.PdfDocument((cli.workdir / "out" / "letter.pdf").read_bytes())
    try:
        assert len(document) == 1
        page = document[0]
        width, height = page.get_size()
        assert (round(width), round(height)) == (612, 792)  # US Letter, in points
        image = page.render(scale=1).to_pil().convert("L")
        if SCREENSHOTS:
            image.save(Path(SCREENSHOTS) / "certification-letter-pdf.png")
        # Something is printed on the page: its darkest pixels are text, not all white.
        assert ImageStat.Stat(image).extrema[0][0] < 64
        text = flat(page.get_textpage().get_text_range())
    finally:
        document.close()
    for value in VALUES:
        assert value in text, value
    assert "legally binding equivalent of traditional handwritten signatures" in text
    assert "21 CFR 11.100(c)(2)" in text


@pytest.mark.req("CERT-1")
def test_a4_paper_and_a_configured_recipient(cli: Cli) -> None:
    env = configure(cli, paper="a4", recipient=["FDA", "10903 New Hampshire Avenue"])
    result = ok(cli("certification-letter", "--output", "out", env=env))
    assert "FDA\n10903 New Hampshire Avenue\n" in result.stdout
    assert "88 FR 13018" not in result.stderr
    document = pdfium.PdfDocument((cli.workdir / "out" / "letter.pdf").read_bytes())
    try:
        width, height = document[0].get_size()
    finally:
        document.close()
    assert (round(width), round(height)) == (595, 842)  # A4, in points


@pytest.mark.req("CERT-1")
def test_the_audit_trail_records_the_letter_and_the_hash_of_each_file(cli: Cli) -> None:
    env = configure(cli)
    ok(cli("certification-letter", "--output", "out", env=env))
    [event] = generated_events(cli)
    written = {
        name: "sha256:" + hashlib.sha256((cli.workdir / "out" / name).read_bytes()).hexdigest()
        for name in ("letter.pdf", "letter.txt")
    }
    new = json.loads(event.new_values or "null")
    assert new["files"] == written
    assert new["organisation"] == "Acme Pharma Inc."
    assert new["signatory"] == "Zoë Ångström"
    assert new["dated"] == "March 2, 2026"
    assert (event.target_type, event.target_id) == ("certification-letter", "Acme Pharma Inc.")
    assert event.actor_type == "cli"
    ok(cli("audit", "verify"))


@pytest.mark.req("CERT-1")
@pytest.mark.parametrize("missing", ["name", "address", "signatory_name", "signatory_title"])
def test_a_missing_setting_is_refused_by_name_and_nothing_is_written(
    cli: Cli, missing: str
) -> None:
    result = cli("certification-letter", "--output", "out", env=configure(cli, **{missing: None}))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert f"organisation.{missing}" in result.stderr
    assert not (cli.workdir / "out").exists()
    assert generated_events(cli) == []


@pytest.mark.req("CERT-1")
def test_a_bidi_override_in_a_name_is_refused_and_nothing_is_written(cli: Cli) -> None:
    # Every unprintable value is refused the same way (tests/unit/test_certification_letter_text).
    result = cli("certification-letter", "--output", "out", env=configure(cli, name="Acme\u202e"))
    assert result.exit_code == 1
    assert "key 'organisation.name'" in result.stderr
    assert "bidirectional control characters (U+202E)" in result.stderr
    assert not (cli.workdir / "out").exists()
    assert generated_events(cli) == []


@pytest.mark.req("CERT-1")
def test_an_unwritable_output_is_refused_without_an_audit_record(cli: Cli) -> None:
    (cli.workdir / "taken").write_text("a file, not a directory", encoding="utf-8")
    result = cli("certification-letter", "--output", "taken/out", env=configure(cli))
    assert result.exit_code != 0
    assert "--output taken/out" in result.stderr
    assert generated_events(cli) == []


def test_a_refused_audit_record_leaves_no_letter_behind(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("the audit trail refused the event")

    monkeypatch.setattr("idgov.commands.certification_letter.record_generated", refuse)
    with pytest.raises(RuntimeError):
        cli("certification-letter", "--output", "out", env=configure(cli))
    assert list((cli.workdir / "out").iterdir()) == []
