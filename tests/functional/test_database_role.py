"""A PostgreSQL superuser can disable the audit triggers (AUD-2): idgov warns at start-up."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from idgov import db_role
from idgov.config import DatabaseSettings
from idgov.db import make_engine, upgrade_database
from idgov.db_role import superuser_warning
from idgov.logs import configure_logging
from tests.harness.database import PostgresDatabases

pytestmark = pytest.mark.req("AUD-2")


@pytest.fixture
def postgres(postgres_databases: PostgresDatabases | None) -> PostgresDatabases:
    if postgres_databases is None:
        pytest.skip("database roles exist only on PostgreSQL (set IDGOV_TEST_DATABASE_URL)")
    return postgres_databases


@pytest.fixture
def fresh_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """As in a new process: nothing warned yet, idgov logging to stderr as JSON."""
    monkeypatch.setattr(db_role, "_warned", set())
    configure_logging("INFO", "json")


@pytest.fixture
def own_role(postgres: PostgresDatabases) -> Iterator[str]:
    """A database URL for a new login role that is not a superuser and owns an empty database,
    as the README sets idgov up."""
    name = f"idgov_test_role_{uuid.uuid4().hex[:8]}"
    with postgres.admin.connect() as conn:
        conn.execute(text(f'CREATE ROLE "{name}" LOGIN NOSUPERUSER'))
        conn.execute(text(f'CREATE DATABASE "{name}" OWNER "{name}"'))
    try:
        url = postgres.server.set(username=name, password=None, database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        with postgres.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'DROP ROLE IF EXISTS "{name}"'))


def engine_for(url: str) -> Engine:
    return make_engine(DatabaseSettings(url=url))


def warnings_logged(stderr: str) -> list[dict[str, object]]:
    lines = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    return [line for line in lines if line["logger"] == "idgov.db"]


def test_superuser_is_warned_once_per_process(
    postgres: PostgresDatabases,
    fresh_process: None,
    database_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    first, second = engine_for(database_url), engine_for(database_url)
    try:
        warning = superuser_warning(first)
        assert warning is not None
        assert "'postgres' is a PostgreSQL superuser" in warning  # the test server's role
        assert "disable the triggers" in warning  # the risk
        assert "CREATE ROLE idgov LOGIN" in warning  # and the fix
        with second.connect():
            pass  # a second engine (the web and the worker in one process) says it no more
    finally:
        first.dispose()
        second.dispose()

    [logged] = warnings_logged(capsys.readouterr().err)
    assert (logged["level"], logged["msg"]) == ("WARNING", warning)
    assert logged["role"] == "postgres"


def test_a_role_of_its_own_migrates_and_is_not_warned(
    own_role: str, fresh_process: None, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = engine_for(own_role)
    try:
        upgrade_database(engine)  # the migrations need no superuser: the owner creates all
        assert superuser_warning(engine) is None
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT current_setting('is_superuser')")) == "off"
    finally:
        engine.dispose()
    assert warnings_logged(capsys.readouterr().err) == []


def test_sqlite_has_no_roles_to_warn_about(
    tmp_path: Path, fresh_process: None, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = engine_for(f"sqlite:///{tmp_path / 'idgov.db'}")
    try:
        assert superuser_warning(engine) is None
    finally:
        engine.dispose()
    assert warnings_logged(capsys.readouterr().err) == []
