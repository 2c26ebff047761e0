"""`idgov validation-report` and `validation-report-verify` on a real database (VAL-1).

The OQ runs small selections here: two files of real AUD-3 tests, or a folder of tests written
in tmp_path (the hidden --tests option, for testing the report itself), so each run is short."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from click.testing import Result
from joserfc import jws
from joserfc.errors import SecurityWarning
from joserfc.jwk import KeySet

from idgov.app import create_app
from idgov.validation import oq, report
from idgov.validation.conclusion import EXIT_NOT_QUALIFIED, EXIT_OQ_NOT_RUN, EXIT_PARTIAL
from idgov.wiring import Services
from tests.functional import test_cli
from tests.functional.people import events

Cli = test_cli.Cli
cli = test_cli.cli
__all__ = ["cli"]  # the fixture

# Read before the cli fixture clears IDGOV_* variables: where the e2e tests put screenshots,
# the rendered PDF pages go too, for a reviewer to look at.
SCREENSHOTS = os.environ.get("IDGOV_SCREENSHOTS")
PACKAGE = {"SHA256SUMS", "SHA256SUMS.jws", "evidence.json", "jwks.json", "oq-pytest.log"}
PACKAGE |= {"report.html", "report.pdf"}
PASSING = 'import pytest\n\n@pytest.mark.req("{rid}")\ndef test_{name}():\n    assert 1 + 1 == 2\n'
FAILING = 'import pytest\n\n@pytest.mark.req("{rid}")\ndef test_{name}():\n    assert 1 + 1 == 3\n'


def run_report(cli: Cli, output: str, *args: str) -> tuple[Result, dict]:
    if not Path("instance", "keys.passphrase").exists():
        assert cli("init").exit_code == 0
    result = cli("validation-report", "--output", output, *args)
    evidence = json.loads(Path(output, "evidence.json").read_text(encoding="utf-8"))
    return result, evidence


def suite_folder(root: Path, **tests: tuple[str, str]) -> Path:
    """A folder of req-tagged tests: name -> (requirement ID, PASSING or FAILING)."""
    root.mkdir()
    for name, (rid, body) in tests.items():
        (root / f"test_{name}.py").write_text(body.format(rid=rid, name=name), encoding="utf-8")
    return root


def published_jwks(services: Services, path: Path) -> Path:
    """The installation's keys, as an inspector saves them from /.well-known/jwks.json."""
    answer = create_app(services=services).test_client().get("/.well-known/jwks.json")
    path.write_text(answer.get_data(as_text=True), encoding="utf-8")
    return path


def status_of(evidence: dict) -> dict[str, str]:
    return {row["id"]: row["status"] for row in evidence["matrix"]}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.req("VAL-1")
def test_the_report_qualifies_this_installation_on_its_database_engine(
    cli: Cli, services: Services, is_postgres: bool
) -> None:
    selection = ["--requirement", "AUD-3", "-k", "test_canonical or test_audit_batch_append"]
    result, evidence = run_report(cli, "out", *selection, "--partial-ok")
    assert result.exit_code == 0, result.output
    assert {p.name for p in Path("out").iterdir()} == PACKAGE
    failed = [c for c in evidence["installation"]["checks"] if not c["passed"]]
    assert failed == []
    checks = {c["id"] for c in evidence["installation"]["checks"]}
    assert {"IQ-PACKAGES", "IQ-SCHEMA", "IQ-TRIGGERS-REFUSE", "IQ-CHAIN", "IQ-READYZ"} <= checks
    assert evidence["target"]["engine"] == ("postgresql" if is_postgres else "sqlite")
    # The OQ ran on a scratch database of the same engine, never on the target.
    assert evidence["oq"]["scratch_database"].startswith("PostgreSQL" if is_postgres else "SQLite")
    tested = {t["nodeid"].split("::")[0] for t in evidence["oq"]["tests"]}
    assert tested == {"tests/unit/test_canonical.py", "tests/functional/test_audit_batch_append.py"}
    assert all(
        t["outcome"] == "passed" and "AUD-3" in t["requirements"] for t in evidence["oq"]["tests"]
    )
    statuses = status_of(evidence)
    assert statuses.pop("AUD-3") == "proven"
    assert set(statuses.values()) == {"not in scope"}
    assert evidence["conclusion"]["outcome"] == "partial"
    # The package's hashes are in the target's audit trail.
    (event,) = events(services, "validation:report:generated")
    recorded = json.loads(event.new_values)
    assert recorded["report_pdf_sha256"] == sha256(Path("out/report.pdf"))
    assert recorded["evidence_json_sha256"] == sha256(Path("out/evidence.json"))
    assert (recorded["outcome"], recorded["gaps"]) == ("partial", 0)
    verified = cli("validation-report-verify", "out")
    assert verified.exit_code == 0, verified.output


@pytest.mark.req("VAL-1")
def test_a_failing_tagged_test_is_a_gap_and_the_exit_is_non_zero(cli: Cli, tmp_path: Path) -> None:
    folder = suite_folder(tmp_path / "suite", chain=("AUD-1", PASSING), broken=("AUD-3", FAILING))
    result, evidence = run_report(cli, "out", "--tests", str(folder))
    assert result.exit_code == EXIT_NOT_QUALIFIED, result.output
    statuses = status_of(evidence)
    assert (statuses["AUD-1"], statuses["AUD-3"]) == ("proven", "gap")
    assert evidence["conclusion"]["gaps"] == ["AUD-3"]
    assert "NOT qualified" in result.output
    assert "AUD-3" in result.output
    html = Path("out/report.html").read_text(encoding="utf-8")
    assert "tests/test_broken.py::test_broken" in html
    assert "<script" not in html


@pytest.mark.req("VAL-1")
def test_a_tampered_package_fails_its_sums_and_its_signature(
    cli: Cli, services: Services, tmp_path: Path
) -> None:
    folder = suite_folder(tmp_path / "suite", chain=("AUD-1", PASSING))
    run_report(cli, "out", "--tests", str(folder))
    published = published_jwks(services, tmp_path / "jwks.json")
    # RFC 7515 appendix F: a JOSE library idgov does not use checks the detached JWS over the
    # bytes of SHA256SUMS with the published audit key.
    audit_keys = [
        key
        for key in json.loads(published.read_text(encoding="utf-8"))["keys"]
        if key["idgov_purpose"] == "audit"
    ]
    token = Path("out/SHA256SUMS.jws").read_text(encoding="utf-8").strip()
    # RFC 9864 deprecates the name "EdDSA"; joserfc warns and verifies when it is allowed.
    with pytest.warns(SecurityWarning, match="EdDSA is deprecated"):
        checked = jws.deserialize_compact(
            token,
            KeySet.import_key_set({"keys": audit_keys}),
            algorithms=["EdDSA"],
            payload=Path("out/SHA256SUMS").read_bytes(),
        )
    assert checked.headers()["typ"] == "idgov-validation-report+jws"
    html = Path("out/report.html")
    html.write_text(html.read_text(encoding="utf-8").replace("proven", "PROVEN"), "utf-8")
    refused = cli("validation-report-verify", "out")
    assert refused.exit_code == 1
    assert "report.html: SHA-256 differs from SHA256SUMS" in refused.stderr
    # Recomputing SHA256SUMS to match does not help: its signature no longer verifies.
    sums = Path("out/SHA256SUMS")
    lines = [
        f"{sha256(html)} *report.html" if line.endswith("*report.html") else line
        for line in sums.read_text(encoding="utf-8").splitlines()
    ]
    sums.write_text("\n".join(lines) + "\n", encoding="utf-8")
    for extra in ([], ["--jwks", str(published)]):
        refused = cli("validation-report-verify", "out", *extra)
        assert refused.exit_code == 1
        assert "SHA256SUMS.jws: signature does not verify" in refused.stderr
        assert "SHA-256 differs" not in refused.stderr
    Path("out/extra.txt").write_text("added later", encoding="utf-8")
    assert "extra.txt: not listed in SHA256SUMS" in cli("validation-report-verify", "out").stderr


@pytest.mark.req("VAL-1")
def test_compare_lists_exactly_the_requirements_that_changed(cli: Cli, tmp_path: Path) -> None:
    first = suite_folder(
        tmp_path / "first",
        chain=("AUD-1", PASSING),
        trail=("AUD-3", PASSING),
        keys=("LNK-2", PASSING),
    )
    second = suite_folder(
        tmp_path / "second",
        chain=("AUD-1", PASSING),
        trail=("AUD-3", FAILING),
        keys=("LNK-2", PASSING),
        checkpoint=("AUD-4", PASSING),
    )
    run_report(cli, "before", "--tests", str(first))
    result, evidence = run_report(
        cli, "after", "--tests", str(second), "--compare", "before/evidence.json"
    )
    assert result.exit_code == EXIT_NOT_QUALIFIED, result.output
    comparison = evidence["comparison"]
    assert [r["id"] for r in comparison["requirements"]] == ["AUD-3", "AUD-4"]
    trail, checkpoint = comparison["requirements"]
    assert trail["outcomes_changed"] == [
        {"nodeid": "tests/test_trail.py::test_trail", "previous": "passed", "current": "failed"}
    ]
    assert checkpoint["tests_added"] == ["tests/test_checkpoint.py::test_checkpoint"]
    assert comparison["packages"] == {"added": [], "removed": [], "changed": []}
    assert comparison["version"]["changed"] is False
    bad = cli("validation-report", "--output", "third", "--compare", "before/report.html")
    assert bad.exit_code == 2
    assert "--compare" in bad.output


@pytest.mark.req("VAL-1")
def test_the_pdf_has_a_cover_contents_page_numbers_matrix_and_signature_block(
    cli: Cli, tmp_path: Path
) -> None:
    folder = suite_folder(tmp_path / "suite", chain=("AUD-1", PASSING))
    result, _ = run_report(cli, "out", "--tests", str(folder))
    # A selection that passes is still partial: its own exit code, unless --partial-ok.
    assert result.exit_code == EXIT_PARTIAL, result.output
    document = pdfium.PdfDocument("out/report.pdf")
    pages = len(document)
    texts = []
    for index in range(pages):
        page = document[index]
        image = page.render(scale=1).to_pil()
        assert image.width > 300
        assert image.getextrema() != ((255, 255),) * 3
        textpage = page.get_textpage()
        texts.append(textpage.get_text_range())
        if index == 1:  # the contents start at the left margin, where fpdf2 left the cursor
            left, *_ = textpage.get_charbox(texts[1].index("Table of contents"))
            assert left < page.get_width() / 10
        if SCREENSHOTS and (index < 3 or index == pages - 1):
            image.save(Path(SCREENSHOTS) / f"validation-report-pdf-page{index + 1}.png")
    document.close()
    assert "Validation report (IQ, OQ, traceability)" in texts[0]
    assert "Outcome" in texts[0]
    assert "partial" in texts[0]
    assert "Table of contents" in texts[1]
    for title in ("Installation qualification", "Traceability matrix", "Conclusion", "Approval"):
        assert title in texts[1]
    assert all(f"Page {n + 1} of {pages}" in text for n, text in enumerate(texts))
    everything = "\n".join(texts)
    assert "IQ-TRIGGERS-REFUSE" in everything
    assert "test_chain" in everything
    assert "passed" in everything
    matrix = everything[everything.index("3. Traceability matrix") :]
    for rid in ("ACC-1", "AUD-1", "LOCK-1", "REV-6"):
        assert rid in matrix
    approval = texts[-1]
    for label in ("Approval", "Name", "Meaning", "Date (UTC)", "Signature", "Review"):
        assert label in approval


@pytest.mark.req("VAL-1")
def test_without_pytest_the_oq_is_reported_not_run(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(oq, "pytest_available", lambda: False)
    monkeypatch.setattr(report, "pytest_available", lambda: False)
    result, evidence = run_report(cli, "out")
    assert result.exit_code == EXIT_OQ_NOT_RUN, result.output
    assert evidence["oq"]["status"] == "not-run"
    assert "pip install" in evidence["oq"]["reason"]
    assert set(status_of(evidence).values()) == {"not run"}
    assert cli("validation-report-verify", "out").exit_code == 0


def test_an_output_directory_with_files_is_refused(cli: Cli) -> None:
    Path("out").mkdir()
    Path("out/keep.txt").write_text("mine", encoding="utf-8")
    result = cli("validation-report", "--output", "out")
    assert result.exit_code == 1
    assert "--output" in result.stderr
    assert "new or empty" in result.stderr
    assert [p.name for p in Path("out").iterdir()] == ["keep.txt"]
