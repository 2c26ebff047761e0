"""Username normalization: one canonical form, so 'JDoe' and 'jdoe ' are the same name (UNQ-1)."""

from __future__ import annotations

import re
import unicodedata

from idgov.errors import InvalidRequest

MAX_USERNAME = 64
USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,63}$")


def normalize_username(raw: object) -> str:
    """NFKC, case-folded, trimmed; refuses anything outside [a-z0-9._@-] (field: username)."""
    if not isinstance(raw, str):
        raise InvalidRequest("username must be a string", field="username")
    value = unicodedata.normalize("NFKC", raw).strip().casefold()
    if not USERNAME_PATTERN.match(value):
        raise InvalidRequest(
            "username must be 1 to 64 characters: letters, digits and . _ @ -, "
            "starting with a letter or digit",
            field="username",
        )
    return value
