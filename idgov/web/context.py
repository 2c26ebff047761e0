"""Per-request access to the services and a database session (closed at teardown)."""

from __future__ import annotations

from flask import current_app, g
from sqlalchemy.orm import Session

from idgov.wiring import Services


def services() -> Services:
    found: Services = current_app.extensions["idgov"]
    return found


def db_session() -> Session:
    if "db_session" not in g:
        g.db_session = services().sessions()
    session: Session = g.db_session
    return session


def close_session(_exc: BaseException | None = None) -> None:
    session: Session | None = g.pop("db_session", None)
    if session is not None:
        session.close()
