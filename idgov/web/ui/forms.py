"""Reading a page's form or query fields: plain text, bounded, refused with the field named."""

from __future__ import annotations

import re
from collections.abc import Mapping

from idgov.errors import InvalidRequest

# Control characters (tab and line breaks included): never part of a name, id or filter.
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
REASON_MAX = 1000


def plain_field(values: Mapping[str, str], field: str, limit: int) -> str | None:
    """The field's text, trimmed; None when empty. InvalidRequest naming `field` when it is
    longer than `limit` or holds control characters (PostgreSQL refuses a NUL in text)."""
    text = values.get(field, "").strip()
    if not text:
        return None
    if len(text) > limit or CONTROL.search(text):
        raise InvalidRequest(f"{field}: at most {limit} characters of plain text", field=field)
    return text


def required_reason(form: Mapping[str, str]) -> str:
    """Every change says why; the reason lands in the audit event (AUD-1)."""
    reason = plain_field(form, "reason", REASON_MAX)
    if reason is None:
        raise InvalidRequest("reason: say why (it is kept in the audit trail)", field="reason")
    return reason
