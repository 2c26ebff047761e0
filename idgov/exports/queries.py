"""How exports select rows: one read snapshot, a UTC time window, a "type:id" reference."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import InstrumentedAttribute


@contextmanager
def read_snapshot(engine: Engine) -> Iterator[Connection]:
    """One read-only transaction that sees a single snapshot, so that the count announced
    in an export's heading is what its body holds (SQLite's deferred BEGIN does so already)."""
    options: dict[str, Any] = {"readonly": True}
    if engine.dialect.name == "postgresql":
        options["isolation_level"] = "REPEATABLE READ"
    with engine.connect().execution_options(**options) as conn, conn.begin():
        yield conn


def check_window(since: datetime | None, until: datetime | None) -> None:
    """A filter's time window: aware (UTC) times, and `until` after `since`."""
    for name, moment in (("since", since), ("until", until)):
        if moment is not None and moment.tzinfo is None:
            raise ValueError(f"export filter {name}: give an aware (UTC) time, not a naive one")
    if since is not None and until is not None and until <= since:
        raise ValueError("export filter: 'until' must be later than 'since'")


def window(
    column: InstrumentedAttribute[datetime], since: datetime | None, until: datetime | None
) -> list[ColumnElement[bool]]:
    """From `since` (inclusive) up to `until` (exclusive), where given."""
    conds: list[ColumnElement[bool]] = []
    if since is not None:
        conds.append(column >= since)
    if until is not None:
        conds.append(column < until)
    return conds


def type_and_id(
    reference: str, type_column: InstrumentedAttribute[str], id_column: InstrumentedAttribute[str]
) -> list[ColumnElement[bool]]:
    """ "type:id" matches both; a bare value matches the id. Split at the first colon: an id
    containing colons is given as type:id."""
    kind, colon, ident = reference.partition(":")
    if colon:
        return [type_column == kind, id_column == ident]
    return [id_column == reference]
