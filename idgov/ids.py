"""What an id from a URL or form may look like before it is looked up (no 500s, no NULs)."""

from __future__ import annotations

import re

UUID_LIKE = re.compile(r"[0-9A-Za-z-]{1,36}")  # identities, campaigns, definitions: UUIDs
MAX_ROW_ID = 2**31 - 1  # integer primary keys are INTEGER columns


def plausible_id(value: str) -> bool:
    """A UUID-like id; anything else is found nowhere and never reaches the database (which
    may refuse it: PostgreSQL takes no NUL in text)."""
    return UUID_LIKE.fullmatch(value) is not None


def row_id(value: str) -> int | None:
    """An integer primary key from text: ASCII digits within the INTEGER range, else None
    ("²" is a digit to str.isdigit but not to int; a bigger number overflows PostgreSQL)."""
    if not (value.isascii() and value.isdigit()) or len(value) > 10:
        return None
    number = int(value)
    return number if number <= MAX_ROW_ID else None
