"""Database plumbing: declarative Base, UTC timestamps, engines, sessions and Alembic glue."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib.util import find_spec
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import DateTime, Dialect, MetaData, create_engine, event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from idgov.config import DatabaseSettings
from idgov.db_role import warn_on_superuser
from idgov.errors import ConfigurationError, IdgovError, ServiceUnavailable

T = TypeVar("T")
IN_LIST_SIZE = 500  # values per IN list

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on SQLite (naive UTC) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where UTC time is required")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def parse_database_url(raw: str) -> URL:
    """Parse a database URL; psycopg 3 is the PostgreSQL driver whatever the URL says."""
    try:
        url = make_url(raw)
    except ArgumentError:
        raise ConfigurationError(f"database.url: not a database URL: {raw!r}") from None
    if url.get_backend_name() == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
        if find_spec("psycopg") is None:
            # The driver is an extra: the embedded SQLite default needs no database client.
            raise ConfigurationError(
                "database.url: PostgreSQL needs the driver psycopg 3, installed with the "
                "'postgres' extra: pip install 'idgov[postgres]'"
            )
    elif url.get_backend_name() != "sqlite":
        raise ConfigurationError(
            f"database.url: unsupported database {url.get_backend_name()!r} "
            "(use sqlite:/// or postgresql://)"
        )
    return url


def make_engine(settings: DatabaseSettings) -> Engine:
    """Create the engine; nothing connects until first use."""
    url = parse_database_url(settings.url)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url, settings)
    engine = create_engine(
        url,
        echo=settings.echo,
        pool_size=settings.pool_size,
        pool_pre_ping=True,
        connect_args=_postgres_connect_args(settings),
    )
    warn_on_superuser(engine)  # AUD-2: said by every process, on its first connection
    return engine


def _postgres_connect_args(settings: DatabaseSettings) -> dict[str, Any]:
    """libpq parameters: the connect timeout, and TCP keepalives on both ends of the connection
    so that a vanished peer's transaction and its locks end within about two minutes
    (libpq `keepalives*` for our side, the server's `tcp_keepalives_*` through `options`)."""
    args: dict[str, Any] = {"connect_timeout": settings.connect_timeout_seconds}
    idle = settings.tcp_keepalives_idle_seconds
    if idle:
        interval, count = 10, 6
        args |= {
            "keepalives": 1,
            "keepalives_idle": idle,
            "keepalives_interval": interval,
            "keepalives_count": count,
            "options": f"-c tcp_keepalives_idle={idle} -c tcp_keepalives_interval={interval}"
            f" -c tcp_keepalives_count={count}",
        }
    return args


def _sqlite_engine(url: URL, settings: DatabaseSettings) -> Engine:
    if url.database and url.database != ":memory:":
        try:
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
            _owner_only(Path(url.database))
        except OSError as exc:
            raise ServiceUnavailable(
                f"database unreachable: cannot create the directory of {url.database}: "
                f"{exc.strerror or exc}"
            ) from None
    engine = create_engine(
        url, echo=settings.echo, connect_args={"timeout": settings.connect_timeout_seconds}
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take over transaction control from pysqlite so that BEGIN is ours (see below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={settings.connect_timeout_seconds * 1000}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # BEGIN IMMEDIATE takes the write lock up front, so a transaction that reads and then
        # writes (a lockout counter, the audit chain head) cannot fail half-way with SQLITE_BUSY.
        # Read-only work (audit verify, exports) asks for a deferred BEGIN instead.
        readonly = conn.get_execution_options().get("readonly", False)
        conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")

    return engine


def _owner_only(path: Path) -> None:
    """The database file is readable by its owner only (0600): it holds password hashes, TOTP
    seeds and the audit trail (11.10(d), 11.300). SQLite gives the -wal and -shm files the main
    file's mode, so creating the file 0600 before SQLite opens it covers them too; a file left
    group- or world-readable by an older version is tightened."""
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)
    for suffix in ("-wal", "-shm", "-journal"):
        companion = path.with_name(path.name + suffix)
        if companion.exists() and companion.stat().st_mode & 0o077:
            companion.chmod(0o600)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose work commits together, or rolls back together on any error.

    A recorded refusal (IdgovError.recorded) is the exception: the service recorded the
    refused attempt (audit event, failure count, alert) and changed nothing else, so that
    record is committed before the refusal goes on up.
    """
    with factory() as session:
        session.begin()
        try:
            yield session
        except IdgovError as refused:
            if refused.recorded:
                session.commit()
            else:
                session.rollback()
            raise
        except BaseException:
            session.rollback()
            raise
        session.commit()


@contextmanager
def reading(factory: sessionmaker[Session], *, snapshot: bool = False) -> Iterator[Session]:
    """A session for read-only work, never committed: on SQLite a deferred BEGIN, so reading
    takes no write lock. `snapshot`: one consistent view for the whole block (on PostgreSQL
    REPEATABLE READ; SQLite's deferred read transaction is one already)."""
    with factory() as session:
        options: dict[str, Any] = {"readonly": True}
        if snapshot and session.get_bind().dialect.name == "postgresql":
            options["isolation_level"] = "REPEATABLE READ"
        session.connection(execution_options=options)
        yield session


def alembic_config(connection: Connection) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", "idgov:migrations")
    config.attributes["connection"] = connection
    return config


def upgrade_database(engine: Engine, revision: str = "head") -> None:
    """Apply Alembic migrations up to `revision` in one transaction."""
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), revision)


def head_revision() -> str | None:
    """The newest migration this version of idgov ships."""
    from alembic.script import ScriptDirectory

    config = AlembicConfig()
    config.set_main_option("script_location", "idgov:migrations")
    return ScriptDirectory.from_config(config).get_current_head()


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect().execution_options(readonly=True) as connection:
        return MigrationContext.configure(connection).get_current_revision()


def chunked(values: Sequence[T], size: int = IN_LIST_SIZE) -> Iterator[Sequence[T]]:
    """`values` in slices short enough for an IN list (bind-parameter limits of SQLite and
    of statements PostgreSQL plans well)."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def dialect_insert(session: Session, model: type[Base]) -> Any:
    """INSERT for `model` with this database's ON CONFLICT clauses (PostgreSQL and SQLite
    share the syntax): an upsert is one atomic statement on both, never read-then-write."""
    postgres = session.get_bind().dialect.name == "postgresql"
    return (pg_insert if postgres else sqlite_insert)(model)
