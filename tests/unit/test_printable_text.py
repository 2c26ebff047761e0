"""idgov/text.py: the one rule for printed or signed text (11.50(a), TR #9, TR #36)."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from idgov.text import AuditedText, PrintableText, audited_text, printable_text, unprintable

REFUSED = {
    "CR LF": "approved\r\nElectronically signed by Ada Admin",
    "LF": "a\nb",
    "CR": "a\rb",
    "TAB": "a\tb",
    "NUL": "a\x00b",
    "DEL": "a\x7fb",
    "C1 NEL": "a\x85b",
    "C1 CSI": "a\x9bb",
    "LRE": "a\u202ab",
    "RLE": "a\u202bb",
    "PDF": "a\u202cb",
    "LRO": "a\u202db",
    "RLO": "\u202eevorppa",
    "LRI": "a\u2066b",
    "RLI": "a\u2067b",
    "FSI": "a\u2068b",
    "PDI": "a\u2069b",
    "LRM": "a\u200eb",
    "RLM": "a\u200fb",
    "ALM": "a\u061cb",
    "ZWSP": "a\u200bb",
    "ZWNJ at the start": "\u200cab",
    "ZWJ at the end": "ab\u200d",
    "ZWNJ before a space": "a\u200c b",
    "ZWJ after a digit": "1\u200db",
    "two joiners": "\u0645\u200c\u200d\u0645",
    "ZWJ inside a Latin name": "A\u200dda",
    "WJ": "a\u2060b",
    "BOM": "\ufeffa",
    "soft hyphen": "a\u00adb",
    "line separator": "a\u2028b",
    "paragraph separator": "a\u2029b",
    "lone surrogate": "a\ud800b",
    "unassigned": "a\U000e0000b",
}
# Persian "Mehrnaz" style spellings need ZWNJ inside the word; Malayalam and Devanagari
# conjuncts use ZWJ/ZWNJ between a letter and a virama (a combining mark): TR #31 sec. 2.3.
KEPT = [
    "Jane Doe",
    "José Müller-Løvås",
    "李小龍",
    "محمد علي",
    "Ω≈ç √ 5 % & <b>",
    "O'Neil, Jr.",
    "\u0645\u06cc\u200c\u0631\u0648\u0645",
    "\u0915\u094d\u200d\u0937",
]


@pytest.mark.req("MAN-1")
@pytest.mark.parametrize("text", REFUSED.values(), ids=REFUSED.keys())
def test_control_bidi_and_invisible_characters_are_refused(text: str) -> None:
    assert unprintable(text) is not None
    with pytest.raises(ValueError, match="must not contain"):
        printable_text(text)


@pytest.mark.parametrize("text", KEPT)
def test_ordinary_names_in_any_script_are_kept(text: str) -> None:
    assert printable_text(text) == text
    assert audited_text(text) == text


def test_an_audited_note_keeps_its_lines_but_not_bidi_or_invisible_characters() -> None:
    assert audited_text("line one\r\nline two\n\tindented") == "line one\r\nline two\n\tindented"
    for name in ("NUL", "RLO", "ZWSP", "C1 NEL", "lone surrogate"):
        with pytest.raises(ValueError, match="must not contain"):
            audited_text(REFUSED[name])


def test_the_annotated_types_refuse_in_schemas() -> None:
    class Printed(BaseModel):
        name: PrintableText
        note: AuditedText

    assert Printed(name="Ada", note="a\nb").name == "Ada"
    with pytest.raises(ValidationError, match="bidirectional"):
        Printed(name="Ada\u202e", note="")
    with pytest.raises(ValidationError, match="control"):
        Printed(name="Ada", note="a\x00")
