"""Streamed electronic copies (CSV, JSON) and rendered human-readable ones (HTML), EXP-1."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any, BinaryIO, Literal

from jinja2 import Environment, PackageLoader, StrictUndefined

from idgov.counted import JINJA_FILTERS

ExportFormat = Literal["csv", "json", "html", "pdf"]
FORMATS: tuple[ExportFormat, ...] = ("csv", "json", "html", "pdf")
STREAM_BATCH = 2000
FLUSH_BYTES = 64 * 1024
# HTML and PDF hold every row they render; past this, the caller must narrow or stream.
RENDER_CAP = 50_000
# Spreadsheets run a cell that starts with one of these as a formula (CSV injection), so
# free-text cells get a leading apostrophe (a reader strips it; the JSON export is verbatim).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def check_request(fmt: str, count: int, noun: str, narrow: str) -> None:
    """Refuse an unknown format, or a human-readable copy of more rows than RENDER_CAP."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r} (use csv, json, html or pdf)")
    if fmt in ("html", "pdf") and count > RENDER_CAP:
        raise ValueError(
            f"{count} {noun} match this filter, but {fmt.upper()} exports hold at most "
            f"{RENDER_CAP}: narrow the filter ({narrow}) or export as CSV or JSON, which "
            f"stream any number of {noun}"
        )


class TextSink:
    """Buffers text and writes it to the binary stream as UTF-8 in large pieces."""

    def __init__(self, out: BinaryIO) -> None:
        self._out = out
        self.buffer = io.StringIO()

    def write(self, text: str) -> None:
        self.buffer.write(text)
        if self.buffer.tell() >= FLUSH_BYTES:
            self.flush()

    def flush(self) -> None:
        self._out.write(self.buffer.getvalue().encode("utf-8"))
        self.buffer = io.StringIO()


def guard_cell(value: object) -> str:
    """A CSV cell that a spreadsheet shows as text, never runs as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def write_csv(
    out: BinaryIO,
    columns: Sequence[str],
    rows: Iterable[dict[str, object]],
    exact: frozenset[str],
) -> int:
    """Header row, then one line per row; columns in `exact` are written unguarded (values
    that never start with a trigger and must stay verbatim, such as hashes)."""
    sink = TextSink(out)
    writer = csv.writer(sink, lineterminator="\r\n")
    writer.writerow(columns)
    written = 0
    for row in rows:
        writer.writerow(
            [
                ("" if row[c] is None else str(row[c])) if c in exact else guard_cell(row[c])
                for c in columns
            ]
        )
        written += 1
    sink.flush()
    return written


def write_json(
    out: BinaryIO, meta: dict[str, Any], key: str, documents: Iterable[dict[str, Any]]
) -> int:
    """`{"export": meta, key: [documents...]}`, one document a line, streamed."""
    sink = TextSink(out)
    sink.write('{"export":' + json.dumps(meta, ensure_ascii=False) + f',\n"{key}":[')
    written = 0
    for document in documents:
        sink.write(("\n" if written == 0 else ",\n") + json.dumps(document, ensure_ascii=False))
        written += 1
    sink.write("\n]}\n")
    sink.flush()
    return written


@cache
def _templates() -> Environment:
    # Autoescape always: names, reasons and values are user-controlled text.
    environment = Environment(
        loader=PackageLoader("idgov", "templates"), autoescape=True, undefined=StrictUndefined
    )
    environment.filters.update(JINJA_FILTERS)
    return environment


def write_html(template: str, out: BinaryIO, **context: Any) -> None:
    sink = TextSink(out)
    for chunk in _templates().get_template(template).generate(**context):
        sink.write(chunk)
    sink.flush()
