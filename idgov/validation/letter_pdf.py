"""The certification letter as a PDF to print and sign by hand (21 CFR 11.100(c)(1), CERT-1)."""

from __future__ import annotations

from datetime import datetime

from fpdf.enums import XPos, YPos

from idgov.exports.pdf import ReportPDF
from idgov.validation.letter import TITLE, CertificationLetter

MARGIN = 25
BODY_SIZE = 11
LINE = 5.5
GAP = 5
SIGNATURE_SPACE = 18  # room above the line for the handwritten signature (11.100(c)(1))
SIGNATURE_WIDTH = 80


class LetterPDF(ReportPDF):
    """One portrait page (more if the address is long): no footer, nothing but the letter."""

    def footer(self) -> None:
        return None


def letter_pdf(letter: CertificationLetter, paper: str, created: datetime) -> bytes:
    """The letter laid out on `paper` ("letter" or "a4"): sender, date, recipient, subject,
    body, closing, then space for the signature over a line with the printed name and title."""
    pdf = LetterPDF("", orientation="portrait", paper=paper)
    pdf.use_unicode_font()
    pdf.set_title(pdf.clean(f"{TITLE} - {letter.organisation}"))
    pdf.set_author(pdf.clean(letter.organisation))
    pdf.set_creator("idgov")
    pdf.set_creation_date(created)
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(auto=True, margin=MARGIN)
    pdf.add_page()
    _lines(pdf, letter.sender[:1], bold=True)
    _lines(pdf, letter.sender[1:])
    pdf.ln(GAP)
    _lines(pdf, (letter.dated,))
    pdf.ln(GAP)
    _lines(pdf, letter.recipient)
    pdf.ln(GAP)
    _lines(pdf, (letter.subject,), bold=True)
    pdf.ln(GAP)
    _lines(pdf, (letter.salutation,))
    for paragraph in letter.paragraphs:
        pdf.ln(GAP / 2)
        _lines(pdf, (paragraph,))
    pdf.ln(GAP)
    _lines(pdf, (letter.closing,))
    if pdf.get_y() + SIGNATURE_SPACE + 3 * LINE > pdf.h - MARGIN:
        pdf.add_page()  # the signature block stays whole, on one page
    pdf.ln(SIGNATURE_SPACE)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + SIGNATURE_WIDTH, pdf.get_y())
    pdf.ln(1.5)
    _lines(pdf, letter.signatory[:1], bold=True)
    _lines(pdf, letter.signatory[1:])
    return bytes(pdf.output())


def _lines(pdf: LetterPDF, lines: tuple[str, ...], bold: bool = False) -> None:
    pdf.style(bold=bold, size=BODY_SIZE)
    for line in lines:
        pdf.multi_cell(0, LINE, pdf.clean(line), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
