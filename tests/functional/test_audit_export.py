"""Audit trail exports on a real, migrated SQLite database: formats, filters, integrity (EXP-1)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import re
import zlib
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from idgov.audit import export
from idgov.audit.context import Actor, AuditContext, Target
from idgov.audit.export import AuditExporter, ExportFilter
from idgov.audit.trail import AuditTrail
from idgov.audit.verify import ChainReport, ChainVerifier
from idgov.clock import FrozenClock, iso_utc
from idgov.config import DatabaseSettings
from idgov.db import make_engine, make_session_factory, transaction, upgrade_database
from idgov.exports import fonts, pdf, streams

START = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
ALICE = Actor(type="identity", id="alice", name="Alice Admin")
BOB = Actor(type="identity", id="bob", name="Bob Reviewer")
ISSUER = "Acme Pharma QA"
UNICODE = "Zoë Ω 東京"
DEFAULT_TARGET = Target("identity", "42")


class Recorder:
    """Appends events through the real AuditTrail, one minute apart, each in its own transaction."""

    def __init__(self, engine: Engine) -> None:
        self.clock = FrozenClock(START)
        self.factory = make_session_factory(engine)
        self.actor = ALICE
        self.times: list[datetime] = []

    def record(
        self,
        action: str = "identity:user:updated",
        target: Target = DEFAULT_TARGET,
        *,
        actor: Actor | None = None,
        old: Mapping[str, Any] | None = None,
        new: Mapping[str, Any] | None = None,
        reason: str | None = "routine change",
    ) -> int:
        self.clock.advance(timedelta(minutes=1))
        who = actor or self.actor
        trail = AuditTrail(
            self.clock, lambda: AuditContext(who, f"req-{len(self.times) + 1}", "192.0.2.10")
        )
        with transaction(self.factory) as session:
            fields = trail.record(session, action, target, old=old, new=new, reason=reason)
        self.times.append(self.clock.now())
        return fields.seq


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(DatabaseSettings(url=f"sqlite:///{tmp_path}/t.db"))
    upgrade_database(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def recorder(engine: Engine) -> Recorder:
    return Recorder(engine)


@pytest.fixture
def exporter(engine: Engine, recorder: Recorder) -> AuditExporter:
    return AuditExporter(engine, recorder.clock, ISSUER)


def run(
    exporter: AuditExporter,
    fmt: export.ExportFormat,
    flt: ExportFilter | None = None,
    **kwargs: Any,
) -> tuple[int, bytes]:
    out = io.BytesIO()
    written = exporter.write(fmt, flt or ExportFilter(), out, **kwargs)
    return written, out.getvalue()


def csv_rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))


def csv_seqs(exporter: AuditExporter, flt: ExportFilter) -> list[int]:
    return [int(row["seq"]) for row in csv_rows(run(exporter, "csv", flt)[1])]


def json_seqs(exporter: AuditExporter, flt: ExportFilter) -> list[int]:
    return [event["seq"] for event in json.loads(run(exporter, "json", flt)[1])["events"]]


def html_seqs(exporter: AuditExporter, flt: ExportFilter) -> list[int]:
    page = run(exporter, "html", flt)[1].decode()
    return [int(seq) for seq in re.findall(r'<tr id="seq-(\d+)">', page)]


def pdf_pages(data: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page\b", data))


def pdf_text(data: bytes) -> bytes:
    """Every content stream, inflated (readable text only with a core font)."""
    parts = []
    # fpdf2 writes "stream\n...\nendstream"; a compressed stream may itself end in a CR byte,
    # so the pattern must not treat one as part of the line break.
    for stream in re.findall(rb"stream\n(.*?)\nendstream", data, re.S):
        try:
            parts.append(zlib.decompress(stream))
        except zlib.error:
            parts.append(stream)
    return b"\n".join(parts)


def populate(recorder: Recorder) -> None:
    """Six events: two actors, a shared target id under two types, a third target."""
    recorder.record("identity:user:created", Target("identity", "42"), new={"name": "Carol"})
    recorder.record(
        "identity:user:updated",
        Target("identity", "42"),
        actor=BOB,
        old={"name": "Carol"},
        new={"name": "Caroline"},
    )
    recorder.record(
        "policy:password:changed",
        Target("policy", "42"),
        old={"min": 8},
        new={"min": 12},
        reason="annual review",
    )
    recorder.record(
        "identity:user:updated", Target("identity", "7"), actor=BOB, new={"email": "d@example.org"}
    )
    recorder.record("identity:user:locked", Target("identity", "42"), reason="5 failures")
    recorder.record("identity:user:unlocked", Target("identity", "7:x"), actor=BOB)


@pytest.mark.req("EXP-1")
@pytest.mark.parametrize("fmt", ["csv", "json", "html", "pdf"])
def test_each_format_writes_all_events(
    recorder: Recorder, exporter: AuditExporter, fmt: str
) -> None:
    populate(recorder)
    written, data = run(exporter, fmt)  # type: ignore[arg-type]
    assert written == 6
    if fmt == "csv":
        assert [int(r["seq"]) for r in csv_rows(data)] == [1, 2, 3, 4, 5, 6]
    elif fmt == "json":
        assert [e["seq"] for e in json.loads(data)["events"]] == [1, 2, 3, 4, 5, 6]
    elif fmt == "html":
        assert re.findall(r'<tr id="seq-(\d+)">', data.decode()) == ["1", "2", "3", "4", "5", "6"]
    else:
        assert data.startswith(b"%PDF-")
        assert data.rstrip().endswith(b"%%EOF")


@pytest.mark.req("EXP-1")
def test_streams_in_small_batches(
    recorder: Recorder, exporter: AuditExporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    populate(recorder)
    monkeypatch.setattr(streams, "STREAM_BATCH", 2)
    monkeypatch.setattr(streams, "FLUSH_BYTES", 10)
    assert csv_seqs(exporter, ExportFilter()) == [1, 2, 3, 4, 5, 6]
    assert json_seqs(exporter, ExportFilter()) == [1, 2, 3, 4, 5, 6]


@pytest.mark.req("EXP-1")
@pytest.mark.parametrize(
    ("make_filter", "expected"),
    [
        pytest.param(lambda t: ExportFilter(since=t[2]), [3, 4, 5, 6], id="since-inclusive"),
        pytest.param(lambda t: ExportFilter(until=t[2]), [1, 2], id="until-exclusive"),
        pytest.param(lambda t: ExportFilter(since=t[1], until=t[4]), [2, 3, 4], id="window"),
        pytest.param(lambda t: ExportFilter(actor="bob"), [2, 4, 6], id="actor"),
        pytest.param(lambda t: ExportFilter(actor="Bob Reviewer"), [], id="actor-is-id-not-name"),
        pytest.param(lambda t: ExportFilter(target="identity:42"), [1, 2, 5], id="type-and-id"),
        pytest.param(lambda t: ExportFilter(target="policy:42"), [3], id="other-type-same-id"),
        pytest.param(lambda t: ExportFilter(target="42"), [1, 2, 3, 5], id="bare-id"),
        pytest.param(lambda t: ExportFilter(target="7"), [4], id="bare-id-exact"),
        pytest.param(lambda t: ExportFilter(target="identity:7:x"), [6], id="id-with-colon"),
        pytest.param(lambda t: ExportFilter(actor="bob", target="identity:42"), [2], id="and"),
        pytest.param(
            lambda t: ExportFilter(since=t[5] + timedelta(seconds=1)), [], id="nothing-matches"
        ),
    ],
)
def test_filters_select_exactly_the_right_events(
    recorder: Recorder, exporter: AuditExporter, make_filter: Any, expected: list[int]
) -> None:
    populate(recorder)
    flt = make_filter(recorder.times)
    assert csv_seqs(exporter, flt) == expected
    assert json_seqs(exporter, flt) == expected
    assert html_seqs(exporter, flt) == expected
    document = json.loads(run(exporter, "json", flt)[1])
    assert document["export"]["event_count"] == len(expected)
    assert document["export"]["filter"] == flt.describe()


def test_filter_rejects_naive_times_and_empty_windows() -> None:
    with pytest.raises(ValueError, match="aware"):
        ExportFilter(since=datetime(2024, 1, 1))
    with pytest.raises(ValueError, match="later than"):
        ExportFilter(since=START, until=START)


@pytest.mark.req("EXP-1")
def test_csv_columns_and_formula_injection_guard(
    recorder: Recorder, exporter: AuditExporter
) -> None:
    recorder.record(
        "identity:user:updated",
        Target("identity", "-1"),
        actor=Actor("identity", "@evil", "+cmd|' /C calc'!A0"),
        new={"note": "=1+1"},
        reason='=HYPERLINK("http://x.example","click")',
    )
    recorder.record("identity:user:updated", Target("identity", "\tx"), reason="\rhidden")
    recorder.record("identity:user:updated", Target("identity", "ok"), reason="plain - text = fine")
    _, data = run(exporter, "csv")
    assert data.decode().splitlines()[0] == (
        "seq,event_id,occurred_at,actor_type,actor_id,actor_name,action,target_type,target_id,"
        "old_values,new_values,reason,request_id,source_address,prev_hash,hash"
    )
    first, second, third = csv_rows(data)
    assert first["reason"] == '\'=HYPERLINK("http://x.example","click")'
    assert first["actor_name"] == "'+cmd|' /C calc'!A0"
    assert first["actor_id"] == "'@evil"
    assert first["target_id"] == "'-1"
    assert first["new_values"] == '{"note":"=1+1"}'  # canonical JSON, exactly as hashed
    assert first["old_values"] == "null"
    assert first["occurred_at"] == iso_utc(recorder.times[0])
    assert first["occurred_at"].endswith("Z")
    assert second["target_id"] == "'\tx"
    assert second["reason"] == "'\rhidden"
    assert third["reason"] == "plain - text = fine"
    assert second["prev_hash"] == first["hash"]
    assert re.fullmatch(r"[0-9a-f]{64}", first["hash"])
    assert re.fullmatch(r"0{64}", first["prev_hash"])


@pytest.mark.req("EXP-1")
def test_json_hashes_are_reproducible_from_the_export_alone(
    recorder: Recorder, exporter: AuditExporter, engine: Engine
) -> None:
    populate(recorder)
    recorder.record(
        "identity:user:renamed",
        Target("identity", "42"),
        old={"name": "Caroline", "tags": ["a", "b"], "n": 1.5},
        new={"name": UNICODE, "nested": {"z": None, "a": [1, {"ü": True}]}, "password": "hunter2"},
        reason=f'name <corrected> "{UNICODE}"\nsecond line',
    )
    report = ChainVerifier(engine).verify()
    written, data = run(exporter, "json", chain=report)
    document = json.loads(data.decode("utf-8"))

    meta = document["export"]
    assert meta["issuer"] == ISSUER
    assert meta["event_count"] == written == 7
    assert meta["generated_at"] == iso_utc(recorder.clock.now())
    assert meta["filter"] == {
        "since": None,
        "until": None,
        "actor": None,
        "target": None,
        "action": None,
    }
    assert meta["chain"] == {
        "ok": True,
        "events_checked": 7,
        "head_seq": 7,
        "head_hash": report.head_hash,
        "first_bad_seq": None,
        "problem": None,
    }
    assert "sha256" in meta["hash_algorithm"]
    assert "docs/audit-trail.md" in meta["hash_algorithm"]

    # What an inspector does, with nothing but the exported file and a JSON library.
    previous = "0" * 64
    for event in document["events"]:
        body = {key: value for key, value in event.items() if key != "hash"}
        text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert hashlib.sha256(text.encode("utf-8")).hexdigest() == event["hash"]
        assert event["prev_hash"] == previous
        previous = event["hash"]
    assert previous == report.head_hash
    last = document["events"][-1]
    assert last["new"]["name"] == UNICODE
    assert last["new"]["password"] == "<redacted>"
    assert UNICODE.encode("utf-8") in data  # written as UTF-8, not \u-escaped
    assert last["actor"] == {"id": "alice", "name": "Alice Admin", "type": "identity"}


def test_json_without_chain_report_says_null(recorder: Recorder, exporter: AuditExporter) -> None:
    recorder.record()
    assert json.loads(run(exporter, "json")[1])["export"]["chain"] is None


def test_empty_trail_exports_valid_documents(exporter: AuditExporter) -> None:
    assert json.loads(run(exporter, "json")[1])["events"] == []
    assert csv_rows(run(exporter, "csv")[1]) == []
    assert "No events match" in run(exporter, "html")[1].decode()
    assert run(exporter, "pdf")[1].startswith(b"%PDF-")


@pytest.mark.req("EXP-1")
def test_html_escapes_user_text_and_shows_unicode(
    recorder: Recorder, exporter: AuditExporter, engine: Engine
) -> None:
    recorder.record(
        "identity:user:updated",
        Target("identity", "<b>42</b>"),
        actor=Actor("identity", "zoe", UNICODE),
        old={"name": "<img src=x onerror=alert(1)>"},
        new={"name": UNICODE},
        reason="<script>alert('x')</script>",
    )
    written, data = run(exporter, "html", chain=ChainVerifier(engine).verify())
    page = data.decode("utf-8")
    assert written == 1
    assert "<script" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    assert "<img" not in page
    assert "<b>42" not in page
    assert f"{UNICODE} (identity:zoe)" in page
    assert UNICODE in page
    assert '<meta charset="utf-8">' in page
    assert ISSUER in page
    assert f"{iso_utc(recorder.clock.now())}</time> (UTC)" in page
    assert "was verified" in page
    # Printable and self-contained: print styles, repeating headings, nothing fetched.
    assert "@media print" in page
    assert "table-header-group" in page
    assert "landscape" in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)


def test_html_states_an_unverified_chain(recorder: Recorder, exporter: AuditExporter) -> None:
    recorder.record()
    assert "was not verified" in run(exporter, "html")[1].decode()


@pytest.mark.req("EXP-1")
def test_every_format_states_a_broken_chain(
    recorder: Recorder, exporter: AuditExporter, core_font: None
) -> None:
    populate(recorder)
    broken = ChainReport(2, 2, "a" * 64, first_bad_seq=3, problem="event 3 was altered")
    document = json.loads(run(exporter, "json", chain=broken)[1])
    assert document["export"]["chain"]["ok"] is False
    assert document["export"]["chain"]["first_bad_seq"] == 3
    assert "CHAIN VERIFICATION FAILED at event 3: event 3 was altered" in (
        run(exporter, "html", chain=broken)[1].decode()
    )
    assert b"CHAIN VERIFICATION FAILED at event 3" in pdf_text(
        run(exporter, "pdf", chain=broken)[1]
    )


@pytest.fixture
def core_font(monkeypatch: pytest.MonkeyPatch) -> None:
    """Force the Latin-1 core font: its text stays readable in the inflated PDF streams."""
    monkeypatch.setattr(pdf, "find_unicode_font", lambda: None)


@pytest.mark.req("EXP-1")
def test_pdf_page_numbers_match_page_count(
    recorder: Recorder, exporter: AuditExporter, core_font: None
) -> None:
    for n in range(200):
        recorder.record(reason=f"change number {n}", new={"n": n})
    written, data = run(exporter, "pdf")
    assert written == 200
    pages = pdf_pages(data)
    assert pages > 3  # ~200 rows do not fit a few landscape pages
    assert re.search(rb"/Count %d\b" % pages, data)
    text = pdf_text(data)
    # fpdf2 writes the total (its "{nb}" alias) as a text fragment of its own.
    footers = re.findall(rb"Page (\d+) of (?:\) Tj \()?(\d+)", text)
    numbers = [(int(x), int(y)) for x, y in footers]
    assert numbers == [(i, pages) for i in range(1, pages + 1)]
    assert text.count(b"generated " + iso_utc(recorder.clock.now()).encode()) == pages
    assert b"change number 199" in text


@pytest.mark.req("EXP-1")
def test_pdf_with_unicode_font_survives_non_latin_text(
    recorder: Recorder, exporter: AuditExporter, caplog: pytest.LogCaptureFixture
) -> None:
    texts = [UNICODE, "مرحبا", "Привет", "😀 emoji", "ctrl\x00\x07\ttab\r\nline", "→ … “q”"]
    for n, text in enumerate(texts):
        recorder.record(actor=Actor("identity", f"u{n}", text), new={"v": text}, reason=text)
    for n in range(200):
        recorder.record(reason=f"change number {n}")
    with caplog.at_level(logging.WARNING, logger="fpdf"):
        written, data = run(exporter, "pdf")
    assert written == len(texts) + 200
    assert data.startswith(b"%PDF-")
    pages = pdf_pages(data)
    assert pages > 3
    assert re.search(rb"/Count %d\b" % pages, data)
    assert not [r for r in caplog.records if "missing the following glyphs" in r.getMessage()]
    if fonts.find_unicode_font() is not None:
        assert b"DejaVu" in data  # the TrueType font is embedded


@pytest.mark.req("EXP-1")
def test_pdf_core_font_fallback_survives_non_latin_text(
    recorder: Recorder, exporter: AuditExporter, core_font: None
) -> None:
    recorder.record(
        actor=Actor("identity", "zoe", UNICODE), new={"name": "東京 → Ω"}, reason=f"{UNICODE} 😀"
    )
    _, data = run(exporter, "pdf")
    text = pdf_text(data)
    assert b"Zo\xeb ? ??" in text  # Latin-1 kept, the rest shown as '?'
    assert b"->" in text


def test_pdf_splits_values_taller_than_a_page(recorder: Recorder, exporter: AuditExporter) -> None:
    huge = {"blob": "x" * 20000, "lines": "\n".join(f"line {i}" for i in range(300))}
    recorder.record(new=huge, reason="\n".join(["many", "lines"] * 100))
    recorder.record(reason="after the big one")
    written, data = run(exporter, "pdf")
    assert written == 2
    assert pdf_pages(data) > 1


@pytest.mark.req("EXP-1")
@pytest.mark.parametrize("fmt", ["html", "pdf"])
def test_rendered_formats_refuse_more_than_the_cap(
    recorder: Recorder, exporter: AuditExporter, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    populate(recorder)
    monkeypatch.setattr(streams, "RENDER_CAP", 3)
    out = io.BytesIO()
    with pytest.raises(ValueError, match=r"6 events match.*narrow the filter.*CSV or JSON"):
        exporter.write(fmt, ExportFilter(), out)  # type: ignore[arg-type]
    assert out.getvalue() == b""  # refused before writing anything
    assert exporter.write(fmt, ExportFilter(actor="bob"), io.BytesIO()) == 3  # type: ignore[arg-type]
    # The streamed formats have no cap.
    assert run(exporter, "csv")[0] == 6
    assert run(exporter, "json")[0] == 6


def test_unknown_format_is_refused(exporter: AuditExporter) -> None:
    with pytest.raises(ValueError, match="unknown export format"):
        exporter.write("xml", ExportFilter(), io.BytesIO())  # type: ignore[arg-type]
