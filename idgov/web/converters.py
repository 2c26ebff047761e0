"""URL converters for idgov ids: a malformed id is a 404 from routing, never a handler's input.

As flaskr's `<int:id>`: `<id:campaign_id>` takes a UUID-like id, `<rowid:remediation_id>` an
integer primary key within the INTEGER range (as int). Anything else (a NUL, which PostgreSQL
refuses in text; "²", a digit to str.isdigit; a number that overflows) matches no route.
"""

from __future__ import annotations

from flask import Flask
from werkzeug.routing import BaseConverter, ValidationError

from idgov.ids import UUID_LIKE, row_id


class IdConverter(BaseConverter):
    """`<id:name>`: identities, campaigns, definitions, tokens, cases, signatures, alerts."""

    regex = UUID_LIKE.pattern


class RowIdConverter(BaseConverter):
    """`<rowid:name>`: an integer row id, passed to the handler as int."""

    regex = r"[0-9]{1,10}"

    def to_python(self, value: str) -> int:
        number = row_id(value)
        if number is None:
            raise ValidationError()
        return number

    def to_url(self, value: object) -> str:
        return str(value)


def register_converters(app: Flask) -> None:
    """Before any blueprint: their rules name these converters."""
    app.url_map.converters["id"] = IdConverter
    app.url_map.converters["rowid"] = RowIdConverter
