"""The database role idgov connects as: a PostgreSQL superuser is warned about, once."""

from __future__ import annotations

import logging
import threading
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

log = logging.getLogger("idgov.db")

# is_superuser: a read-only setting, "on" when the session's role is a superuser.
ROLE_QUERY = "SELECT current_user, current_setting('is_superuser')"

_warned: set[str] = set()
_warned_lock = threading.Lock()


def superuser_warning(engine: Engine) -> str | None:
    """The warning for a PostgreSQL engine that connects as a superuser, else None (SQLite
    has no roles). Connects once; a later `idgov check` can print what it returns."""
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as connection:
        role = superuser_role(connection.connection.dbapi_connection)
    return _warning(role) if role is not None else None


def superuser_role(dbapi_connection: Any) -> str | None:
    """The name of the connection's role if it is a superuser, else None."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(ROLE_QUERY)
        role, flag = cursor.fetchone()
    finally:
        cursor.close()
    return str(role) if flag == "on" else None


def _warning(role: str) -> str:
    # AUD-2: the audit tables are append-only by triggers. A superuser can switch them off on
    # any table (ALTER TABLE ... DISABLE TRIGGER, session_replication_role = replica) and
    # rewrite history; the hash chain and checkpoints (AUD-3, AUD-4) would still show it.
    return (
        f"database role {role!r} is a PostgreSQL superuser: it can disable the triggers that "
        "keep the audit trail append-only (AUD-2). Connect as a role that owns the idgov "
        "database and is not a superuser (CREATE ROLE idgov LOGIN; CREATE DATABASE idgov "
        "OWNER idgov; see the README, PostgreSQL)"
    )


def warn_on_superuser(engine: Engine) -> None:
    """Log a WARNING when the engine's first connection is a superuser's, once per process
    and server, so that every process (web, worker, commands) says it at start-up."""

    @event.listens_for(engine, "first_connect")
    def _check(dbapi_connection: Any, _record: Any) -> None:
        role = superuser_role(dbapi_connection)
        dbapi_connection.rollback()  # the check leaves no transaction open behind it
        if role is None:
            return
        url = engine.url
        key = f"{role}@{url.host}:{url.port}"
        with _warned_lock:
            if key in _warned:
                return
            _warned.add(key)
        log.warning(_warning(role), extra={"role": role, "database": url.database})
