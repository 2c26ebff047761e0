"""Counted nouns for people to read: "1 revocation", "2 revocations", one rule everywhere."""

from __future__ import annotations


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """`singular` for exactly one, else `plural_form` (default: `singular` + "s")."""
    if count == 1:
        return singular
    return plural_form if plural_form is not None else singular + "s"


def counted(count: int, singular: str, plural_form: str | None = None) -> str:
    """The count and its noun: `counted(1, "item")` is "1 item", `counted(0, "item")` "0 items".
    Thousands are not grouped: counts are also read by scripts and compared in tests."""
    return f"{count} {plural(count, singular, plural_form)}"


# Registered on every Jinja environment (pages and exports): {{ n | counted("item") }}.
JINJA_FILTERS = {"counted": counted, "plural": plural}
