"""Printed or signed text: one rule refusing control, bidi and invisible characters (11.50(a)).

A manifestation is printed with the record (MAN-1, MAN-2). A line break, a tab, a bidi
override (U+202E) or an invisible format character in a name, reason, title or meaning lets a
host print a forged second line ("Electronically signed by ...") or make text read other than
it is stored. Unicode TR #9 (the bidirectional algorithm: explicit embeddings, overrides and
isolates) and TR #36 sec. 2 (visual spoofing, bidi and invisible characters) describe the
attacks; the rule is: refuse, name the field, change nothing.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator

# Unicode TR #9 sec. 2: explicit directional formatting characters and the implicit marks.
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def unprintable(value: str) -> str | None:
    """What is wrong with `value` as printed text, or None when it may be printed/signed.

    Refused: C0 and C1 controls (incl. CR, LF, TAB; category Cc), bidi controls (TR #9),
    other format characters (category Cf: zero-width space/joiners, U+FEFF, U+2060; TR #36),
    lone surrogates (Cs), unassigned code points (Cn) and line/paragraph separators (Zl, Zp).
    The one exception is a joiner between two letters (see JOINERS).
    """
    for index, char in enumerate(value):
        category = unicodedata.category(char)
        if char in JOINERS and _joins_letters(value, index):
            continue
        if char in BIDI_CONTROLS:
            return f"must not contain bidirectional control characters (U+{ord(char):04X})"
        if category == "Cc":
            return f"must not contain control characters (U+{ord(char):04X})"
        if category in ("Cf", "Cs", "Cn", "Zl", "Zp"):
            return f"must not contain invisible or format characters (U+{ord(char):04X})"
    return None


# Zero-width non-joiner and joiner: Persian and several Indic scripts need them inside words to
# spell names correctly (Unicode TR #31 sec. 2.3 allows them there). Between two letters or
# combining marks of those scripts they cannot start, end or break a line, so they are allowed
# only there; never after Latin, Greek or Cyrillic, where they would only make two names that
# look the same differ (TR #36 sec. 2).
JOINERS = frozenset("\u200c\u200d")
JOINING_SCRIPTS_START = 0x0590  # Hebrew onwards: Arabic, Syriac, Indic and later blocks


def _joins_letters(value: str, index: int) -> bool:
    if index == 0 or index == len(value) - 1:
        return False
    before, after = value[index - 1], value[index + 1]
    return ord(before) >= JOINING_SCRIPTS_START and all(
        unicodedata.category(c)[0] in ("L", "M") for c in (before, after)
    )


def printable_text(value: str) -> str:
    """`value` when it may be printed or signed; else ValueError saying why (11.50(a))."""
    problem = unprintable(value)
    if problem is not None:
        raise ValueError(problem)
    return value


def audited_text(value: str) -> str:
    """An audited note (an administrative reason): as printable_text, but line breaks and tabs
    are allowed, because it is shown as a block and never printed with a signature."""
    printable_text(value.translate(_LINE_BREAKS))
    return value


_LINE_BREAKS = str.maketrans("\r\n\t", "   ")

# The pydantic forms: API and policy schemas annotate their text fields with them.
PrintableText = Annotated[str, AfterValidator(printable_text)]
AuditedText = Annotated[str, AfterValidator(audited_text)]
