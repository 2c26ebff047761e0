"""PDF copy of an audit export: landscape A4, wrapped table, "Page X of Y", Unicode-safe text."""

from __future__ import annotations

import logging
import shutil
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import TTFFont

if TYPE_CHECKING:
    from idgov.audit.export import ReportHeader, ReportRow

LOG = logging.getLogger(__name__)

# Where distributions put DejaVu Sans (Debian/Ubuntu fonts-dejavu-core, Fedora, Arch, Alpine);
# fc-match is asked when none of these exists.
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
)
UNICODE_FAMILY = "idgovsans"
CORE_FAMILY = "helvetica"
FONT_SIZE = 7
LINE_HEIGHT = 3.4
PAD_X, PAD_Y = 1.0, 0.6
BOTTOM_MARGIN = 14
# A row taller than what is left of a page starts on the next one, unless it would not fit
# there either: then it fills the page from here if at least this many lines have room.
MIN_SPLIT_LINES = 3
HEADINGS = ("Seq", "Time (UTC)", "Actor", "Action", "Target", "Old → new values", "Reason", "Hash")
# In mm on landscape A4 (scaled to the page width): a time fits on two lines, an action on
# one, a hash prefix on one.
COLUMN_WIDTHS = (12, 26, 38, 30, 30, 81, 36, 24)
BREAK_AFTER = frozenset(" ,:;/")
# Common typography outside Latin-1, by code point (the characters look like ASCII ones).
CORE_REPLACEMENTS = {
    "\u2192": "->",
    "\u2026": "...",
    "\u2014": "-",
    "\u2013": "-",
    "\u201c": '"',
    "\u201d": '"',
    "\u2018": "'",
    "\u2019": "'",
}


def find_unicode_font() -> tuple[Path, Path | None] | None:
    """DejaVu Sans (regular, bold if present) on this machine, or None to use a core font."""
    for candidate in FONT_CANDIDATES:
        path = Path(candidate)
        if path.is_file():
            return path, _bold_of(path)
    found = _fc_match("DejaVu Sans")
    return None if found is None else (found, _bold_of(found))


def _fc_match(pattern: str) -> Path | None:
    executable = shutil.which("fc-match")
    if executable is None:
        return None
    try:
        # A fixed argument list, no shell: nothing here comes from the user.
        done = subprocess.run(  # noqa: S603
            [executable, "--format=%{file}", pattern],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    path = Path(done.stdout.strip())
    # fc-match always answers with some font; only a TrueType file fpdf2 can embed will do.
    usable = done.returncode == 0 and path.suffix.lower() == ".ttf" and path.is_file()
    return path if usable else None


def _bold_of(regular: Path) -> Path | None:
    bold = regular.with_name(f"{regular.stem}-Bold{regular.suffix}")
    return bold if bold.is_file() else None


class _AuditPDF(FPDF):
    def __init__(self, footer_text: str) -> None:
        super().__init__(orientation="landscape", unit="mm", format="A4")
        self.footer_text = footer_text
        self.family_name = CORE_FAMILY
        self.has_bold = True
        self.clean: Callable[[str], str] = _latin1_cleaner

    def use_unicode_font(self) -> None:
        found = find_unicode_font()
        if found is None:
            LOG.warning("no Unicode TrueType font found; PDF text outside Latin-1 shows as '?'")
            return
        regular, bold = found
        try:
            self.add_font(UNICODE_FAMILY, "", regular)
            if bold is not None:
                self.add_font(UNICODE_FAMILY, "B", bold)
        except Exception:  # any unreadable font file: fall back rather than fail the export
            LOG.warning("cannot load font %s; using a Latin-1 core font", regular, exc_info=True)
            return
        self.family_name, self.has_bold = UNICODE_FAMILY, bold is not None
        font = self.fonts[UNICODE_FAMILY]
        if isinstance(font, TTFFont):
            self.clean = _cmap_cleaner(frozenset(font.cmap))

    def style(self, bold: bool = False, size: float = FONT_SIZE) -> None:
        self.set_font(self.family_name, "B" if bold and self.has_bold else "", size)

    def footer(self) -> None:
        self.set_y(-10)
        self.style(size=6.5)
        self.cell(0, 4, self.clean(self.footer_text), align="L")
        self.set_x(self.l_margin)
        self.cell(0, 4, f"Page {self.page_no()} of {{nb}}", align="R")


def _latin1_cleaner(text: str) -> str:
    # Core fonts encode Latin-1 only; anything else would make fpdf2 raise mid-export.
    for wide, narrow in CORE_REPLACEMENTS.items():
        text = text.replace(wide, narrow)
    return _clean(text, lambda code: code < 256)


def _cmap_cleaner(cmap: frozenset[int]) -> Callable[[str], str]:
    # Characters the font has no glyph for would print as empty boxes; '?' says so plainly.
    return lambda text: _clean(text, cmap.__contains__)


def _clean(text: str, has_glyph: Callable[[int], bool]) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    if text.isascii() and text.replace("\n", "").isprintable():
        return text
    return "".join(
        ch if ch == "\n" or (ch.isprintable() and has_glyph(ord(ch))) else "?" for ch in text
    )


def render_pdf(header: ReportHeader, rows: Sequence[ReportRow], out: BinaryIO) -> None:
    """Write the header block and the event table as a PDF document."""
    pdf = _AuditPDF(f"{header.title} · {header.issuer} · generated {header.generated_at} (UTC)")
    pdf.use_unicode_font()
    pdf.footer_text = pdf.clean(pdf.footer_text)
    pdf.set_title(pdf.clean(f"{header.title} - {header.issuer}"))
    pdf.set_author(pdf.clean(header.issuer))
    pdf.set_creator("idgov")
    pdf.set_creation_date(header.generated)
    pdf.set_auto_page_break(auto=True, margin=BOTTOM_MARGIN)
    pdf.set_margins(10, 10, 10)
    pdf.add_page()
    _header_block(pdf, header)
    _table(pdf, rows)
    out.write(bytes(pdf.output()))


def _header_block(pdf: _AuditPDF, header: ReportHeader) -> None:
    pdf.style(bold=True, size=14)
    pdf.cell(0, 8, pdf.clean(header.title), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    lines = [
        ("Issuer", header.issuer),
        ("Generated", f"{header.generated_at} (UTC)"),
        *header.filter_lines,
        ("Events", str(header.event_count)),
        ("Chain", header.chain_statement),
        ("Hashes", header.hash_algorithm),
    ]
    for label, value in lines:
        pdf.style(bold=True, size=8)
        pdf.cell(32, 4.2, pdf.clean(label))
        pdf.style(size=8)
        if label == "Chain" and header.chain_ok is False:
            pdf.set_text_color(180, 0, 0)
        pdf.multi_cell(0, 4.2, pdf.clean(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_text_color(0, 0, 0)
    pdf.ln(3)


def _table(pdf: _AuditPDF, rows: Sequence[ReportRow]) -> None:
    # Drawn by hand rather than with FPDF.table(): that one measures every cell through the
    # full text layout engine (about 10 ms a row, minutes at the cap) and cannot split a row
    # taller than a page. Here wrapping is a width lookup per character and rows may split.
    pdf.set_auto_page_break(auto=False)
    table = _Table(pdf)
    table.headings()
    for event in rows:
        cells = [
            str(event.seq),
            event.occurred_at.replace("T", "\n", 1),  # date above time: fits a narrow column
            event.actor,
            event.action,
            event.target,
            f"{event.old} → {event.new}",
            event.reason,
            event.hash_prefix,
        ]
        table.row(str(event.seq), cells)


class _Table:
    """Column layout, wrapping and page breaks for the event table."""

    def __init__(self, pdf: _AuditPDF) -> None:
        self.pdf = pdf
        scale = pdf.epw / sum(COLUMN_WIDTHS)
        self.widths = [width * scale for width in COLUMN_WIDTHS]
        self.lefts = [pdf.l_margin + sum(self.widths[:i]) for i in range(len(self.widths))]
        self.bottom = pdf.h - BOTTOM_MARGIN
        self.char_widths: dict[tuple[str, str], float] = {}
        self.heading_height = 0.0

    def headings(self) -> None:
        self.pdf.style(bold=True)
        self.pdf.set_fill_color(225, 225, 225)
        self._draw([self._wrap(self.pdf.clean(text), i) for i, text in enumerate(HEADINGS)], True)
        self.pdf.style()

    def row(self, seq: str, cells: list[str]) -> None:
        lines = [self._wrap(self.pdf.clean(text), i) for i, text in enumerate(cells)]
        needed = max(len(column) for column in lines)
        fits_on_a_page = needed <= self._room(self.pdf.t_margin + self.heading_height)
        if self._room(self.pdf.get_y()) < (needed if fits_on_a_page else MIN_SPLIT_LINES):
            self._new_page()
        while True:
            room = self._room(self.pdf.get_y())
            self._draw([column[:room] for column in lines], False)
            lines = [column[room:] for column in lines]
            if not any(lines):
                return
            # The rest continues on the next page, its sequence number marked as continued.
            self._new_page()
            lines[0] = self._wrap(f"{seq} (cont.)", 0)

    def _room(self, top: float) -> int:
        return max(0, int((self.bottom - top - 2 * PAD_Y) // LINE_HEIGHT))

    def _new_page(self) -> None:
        self.pdf.add_page()
        self.headings()

    def _draw(self, lines: list[list[str]], fill: bool) -> None:
        pdf, top = self.pdf, self.pdf.get_y()
        height = max(1, *(len(column) for column in lines)) * LINE_HEIGHT + 2 * PAD_Y
        baseline = top + PAD_Y + (LINE_HEIGHT + pdf.font_size * 0.7) / 2
        for left, width, column in zip(self.lefts, self.widths, lines, strict=True):
            pdf.rect(left, top, width, height, style="DF" if fill else "D")
            for n, line in enumerate(column):
                pdf.text(left + PAD_X, baseline + n * LINE_HEIGHT, line)
        pdf.set_y(top + height)
        if fill:
            self.heading_height = height

    def _wrap(self, text: str, column: int) -> list[str]:
        """Greedy wrap: break after a space or punctuation where possible, else mid-word."""
        limit = self.widths[column] - 2 * PAD_X
        lines: list[str] = []
        for para in text.split("\n"):
            start, used, brk, i = 0, 0.0, 0, 0
            while i < len(para):
                width = self._char_width(para[i])
                if used + width > limit and i > start:
                    cut = brk if brk > start else i
                    lines.append(para[start:cut].rstrip(" "))
                    start = cut
                    while start < len(para) and para[start] == " ":
                        start += 1
                    i = max(i, start)
                    used = sum(self._char_width(ch) for ch in para[start:i])
                    continue
                used += width
                i += 1
                if para[i - 1] in BREAK_AFTER:
                    brk = i
            lines.append(para[start:])
        return lines

    def _char_width(self, ch: str) -> float:
        key = (self.pdf.font_style, ch)  # headings are bold: wider
        width = self.char_widths.get(key)
        if width is None:
            width = self.char_widths[key] = self.pdf.get_string_width(ch)
        return width
