"""One rule for counted nouns in pages, PDF evidence, e-mails and command output."""

from __future__ import annotations

import pytest

from idgov.counted import counted, plural


@pytest.mark.parametrize(
    ("count", "expected"),
    [(0, "0 revocations"), (1, "1 revocation"), (2, "2 revocations"), (-1, "-1 revocations")],
)
def test_counted_uses_the_singular_for_exactly_one(count: int, expected: str) -> None:
    assert counted(count, "revocation") == expected


def test_phrases_and_irregular_plurals() -> None:
    assert counted(1, "electronic signature") == "1 electronic signature"
    assert counted(3, "electronic signature") == "3 electronic signatures"
    assert counted(1, "entry", "entries") == "1 entry"
    assert counted(2, "entry", "entries") == "2 entries"
    assert plural(1, "is", "are") == "is"
    assert plural(5, "is", "are") == "are"
