"""PDF copies of an export: landscape A4, a heading block, a wrapped table, "Page X of Y"."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Protocol

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import TTFFont

from idgov.exports.fonts import cmap_cleaner, find_unicode_font, latin1_cleaner

LOG = logging.getLogger(__name__)

UNICODE_FAMILY = "idgovsans"
CORE_FAMILY = "helvetica"
FONT_SIZE = 7
LINE_HEIGHT = 3.4
PAD_X, PAD_Y = 1.0, 0.6
BOTTOM_MARGIN = 14
# A row taller than what is left of a page starts on the next one, unless it would not fit
# there either: then it fills the page from here if at least this many lines have room.
MIN_SPLIT_LINES = 3
TOTAL_PAGES = "{total-pages}"
BREAK_AFTER = frozenset(" ,:;/")


class ReportPDF(FPDF):
    def __init__(self, footer_text: str, orientation: str = "landscape", paper: str = "A4") -> None:
        super().__init__(orientation=orientation, unit="mm", format=paper)
        self.footer_text = footer_text
        self.family_name = CORE_FAMILY
        self.has_bold = True
        self.clean: Callable[[str], str] = latin1_cleaner
        # fpdf2 writes the page total over this placeholder; its width bounds the digits, and
        # "{nb}" would warn (an error under the test suite) beyond 999 pages.
        self.alias_nb_pages(TOTAL_PAGES)

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
            self.clean = cmap_cleaner(frozenset(font.cmap))

    def style(self, bold: bool = False, size: float = FONT_SIZE) -> None:
        self.set_font(self.family_name, "B" if bold and self.has_bold else "", size)

    def footer(self) -> None:
        self.set_y(-10)
        self.style(size=6.5)
        self.cell(0, 4, self.clean(self.footer_text), align="L")
        self.set_x(self.l_margin)
        self.cell(0, 4, f"Page {self.page_no()} of {TOTAL_PAGES}", align="R")


class Heading(Protocol):
    """What heads every human-readable export."""

    @property
    def title(self) -> str: ...
    @property
    def issuer(self) -> str: ...
    @property
    def generated_at(self) -> str: ...
    @property
    def generated(self) -> datetime: ...
    @property
    def filter_lines(self) -> list[tuple[str, str]]: ...


def start_report(
    heading: Heading, lines: Sequence[tuple[str, str]], alarm: frozenset[str] = frozenset()
) -> ReportPDF:
    """A document with its metadata and its heading block: the title, issuer, time and filter,
    then `lines`; the values of the labels in `alarm` print in red."""
    title, issuer = heading.title, heading.issuer
    pdf = ReportPDF(f"{title} · {issuer} · generated {heading.generated_at} (UTC)")
    pdf.use_unicode_font()
    pdf.footer_text = pdf.clean(pdf.footer_text)
    pdf.set_title(pdf.clean(f"{title} - {issuer}"))
    pdf.set_author(pdf.clean(issuer))
    pdf.set_creator("idgov")
    pdf.set_creation_date(heading.generated)
    pdf.set_auto_page_break(auto=True, margin=BOTTOM_MARGIN)
    pdf.set_margins(10, 10, 10)
    pdf.add_page()
    pdf.style(bold=True, size=14)
    pdf.cell(0, 8, pdf.clean(title), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    generated = ("Generated", f"{heading.generated_at} (UTC)")
    for label, value in [("Issuer", issuer), generated, *heading.filter_lines, *lines]:
        pdf.style(bold=True, size=8)
        pdf.cell(32, 4.2, pdf.clean(label))
        pdf.style(size=8)
        if label in alarm:
            pdf.set_text_color(180, 0, 0)
        pdf.multi_cell(0, 4.2, pdf.clean(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_text_color(0, 0, 0)
    pdf.ln(3)
    return pdf


class Table:
    """Column layout, wrapping and page breaks for a table of rows.

    Drawn by hand rather than with FPDF.table(): that one measures every cell through the
    full text layout engine (about 10 ms a row, minutes at the cap) and cannot split a row
    taller than a page. Here wrapping is a width lookup per character and rows may split.
    """

    def __init__(self, pdf: ReportPDF, headings: Sequence[str], widths: Sequence[float]) -> None:
        pdf.set_auto_page_break(auto=False)
        self.pdf = pdf
        self.titles = headings
        scale = pdf.epw / sum(widths)
        self.widths = [width * scale for width in widths]
        self.lefts = [pdf.l_margin + sum(self.widths[:i]) for i in range(len(self.widths))]
        self.bottom = pdf.h - BOTTOM_MARGIN
        self.char_widths: dict[tuple[str, str], float] = {}
        self.heading_height = 0.0
        self.headings()

    def headings(self) -> None:
        self.pdf.style(bold=True)
        self.pdf.set_fill_color(225, 225, 225)
        lines = [self._wrap(self.pdf.clean(text), i) for i, text in enumerate(self.titles)]
        self._draw(lines, True)
        self.pdf.style()

    def row(self, key: str, cells: list[str]) -> None:
        """One row; a part continued on the next page has `key (cont.)` in the first column."""
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
            self._new_page()
            lines[0] = self._wrap(self.pdf.clean(f"{key} (cont.)"), 0)

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
