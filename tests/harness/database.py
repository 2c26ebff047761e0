"""Database fixtures: a fresh, migrated database per test on SQLite, or on PostgreSQL when
IDGOV_TEST_DATABASE_URL names a server (the run creates and drops databases of its own)."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError

from idgov.app import create_app
from idgov.audit.context import SYSTEM_ACTOR, AuditContext, current_audit_context
from idgov.clock import FrozenClock
from idgov.config import DatabaseSettings, KeySettings, LoggingSettings, ServerSettings, Settings
from idgov.db import make_engine, parse_database_url, upgrade_database
from idgov.wiring import Services, build_services

TEST_DB_ENV = "IDGOV_TEST_DATABASE_URL"
POSTGRES_HINT = (
    "start PostgreSQL (pg_ctlcluster <version> main start) or install it with "
    "apt-get install -y postgresql"
)


class PostgresDatabases:
    """Creates per-test databases from a migrated template on the server in the URL."""

    def __init__(self, server_url: str) -> None:
        self.server: URL = parse_database_url(server_url)
        self.prefix = f"idgov_test_{uuid.uuid4().hex[:8]}"
        self.template = f"{self.prefix}_tpl"
        self.admin = create_engine(self.server, isolation_level="AUTOCOMMIT")
        self._created: list[str] = []

    def prepare(self) -> None:
        try:
            with self.admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{self.template}"'))
        except OperationalError as exc:
            pytest.fail(
                f"PostgreSQL at {self.server.render_as_string()} is unreachable ({exc.orig}); "
                f"{POSTGRES_HINT}",
                pytrace=False,
            )
        self._created.append(self.template)
        engine = make_engine(DatabaseSettings(url=self.url_for(self.template)))
        upgrade_database(engine)
        engine.dispose()

    def url_for(self, name: str) -> str:
        return self.server.set(database=name).render_as_string(hide_password=False)

    def create(self, *, migrated: bool = True) -> str:
        """A new database: a copy of the migrated template, or an empty one."""
        name = f"{self.prefix}_{uuid.uuid4().hex[:8]}"
        template = f' TEMPLATE "{self.template}"' if migrated else ""
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"{template}'))
        self._created.append(name)
        return self.url_for(name)

    def drop(self, url: str) -> None:
        name = make_url(url).database
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self._created.remove(str(name))

    def drop_all(self) -> None:
        with self.admin.connect() as conn:
            for name in reversed(self._created):
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self._created.clear()
        self.admin.dispose()


@pytest.fixture(scope="session")
def postgres_databases() -> Iterator[PostgresDatabases | None]:
    server_url = os.environ.get(TEST_DB_ENV)
    if not server_url:
        yield None
        return
    databases = PostgresDatabases(server_url)
    databases.prepare()
    yield databases
    databases.drop_all()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    engine = make_engine(DatabaseSettings(url=f"sqlite:///{path}"))
    upgrade_database(engine)
    engine.dispose()
    return path


@pytest.fixture
def database_url(
    postgres_databases: PostgresDatabases | None, sqlite_template: Path, tmp_path: Path
) -> Iterator[str]:
    """A migrated, empty database of this test's own."""
    if postgres_databases is not None:
        url = postgres_databases.create()
        yield url
        postgres_databases.drop(url)
        return
    path = tmp_path / "idgov.db"
    shutil.copyfile(sqlite_template, path)
    yield f"sqlite:///{path}"


@pytest.fixture
def is_postgres(postgres_databases: PostgresDatabases | None) -> bool:
    return postgres_databases is not None


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        server=ServerSettings(secret_key="test-secret-key-" + "x" * 32),
        database=DatabaseSettings(url=database_url),
        keys=KeySettings(passphrase="test-key-passphrase"),
        logging=LoggingSettings(level="WARNING", format="json"),
    )


@pytest.fixture(autouse=True)
def system_audit_context() -> None:
    """Each test starts as the system actor: a command run by an earlier test sets the audit
    context (a ContextVar) and would otherwise leave its actor to the next test."""
    current_audit_context.set(AuditContext(SYSTEM_ACTOR))


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 3, 2, 9, 30, tzinfo=UTC))


@pytest.fixture
def services(settings: Settings, clock: FrozenClock) -> Iterator[Services]:
    built = build_services(settings, clock)
    yield built
    built.close()


@pytest.fixture
def app(services: Services) -> Flask:
    return create_app(services=services)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
