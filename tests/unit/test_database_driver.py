"""A PostgreSQL URL without the `postgres` extra installed: a message naming the extra."""

from __future__ import annotations

import pytest

from idgov import db
from idgov.errors import ConfigurationError


def test_postgresql_without_its_driver_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(db, "find_spec", lambda name: None)
    with pytest.raises(ConfigurationError, match=r"pip install 'idgov\[postgres\]'"):
        db.parse_database_url("postgresql://idgov@127.0.0.1:5432/idgov")


def test_sqlite_needs_no_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(db, "find_spec", lambda name: None)
    assert db.parse_database_url("sqlite:///instance/idgov.db").get_backend_name() == "sqlite"


def test_postgresql_uses_psycopg_3_when_installed() -> None:
    url = db.parse_database_url("postgresql://idgov@127.0.0.1:5432/idgov")
    assert url.drivername == "postgresql+psycopg"
