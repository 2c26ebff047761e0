"""A database that cannot be reached answers 503 with Retry-After, never a 500: sign-in, the
published keys (DESIGN.md: fail closed; no 500 for any input)."""

from __future__ import annotations

import logging

import pytest
from flask import Flask
from sqlalchemy.exc import OperationalError

from idgov.app import create_app
from idgov.config import DatabaseSettings, Settings

CLOSED_PORT_URL = "postgresql://postgres@127.0.0.1:1/idgov"  # nothing listens on port 1


@pytest.fixture
def cut_off(settings: Settings) -> Flask:
    """The app with a database that refuses every connection (the pool connects lazily)."""
    database = DatabaseSettings(url=CLOSED_PORT_URL, connect_timeout_seconds=2)
    return create_app(settings.model_copy(update={"database": database}))


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/v1/session", {"username": "jdoe", "password": "Correct-Horse-1"}),
        ("GET", "/.well-known/jwks.json", None),
    ],
)
def test_an_unreachable_database_is_a_503_to_retry(
    cut_off: Flask, caplog: pytest.LogCaptureFixture, method: str, path: str, body: object
) -> None:
    with caplog.at_level(logging.ERROR, logger="idgov.web"):
        answer = cut_off.test_client().open(path, method=method, json=body)
    assert answer.status_code == 503, answer.get_data(as_text=True)
    assert answer.mimetype == "application/problem+json"
    assert answer.headers["Retry-After"] == "5"
    problem = answer.get_json()
    assert problem["type"].endswith(":service-unavailable")
    assert "database" in problem["detail"]
    logged = " ".join(record.getMessage() for record in caplog.records)
    assert "database unavailable: OperationalError" in logged
    assert "Correct-Horse-1" not in logged  # no parameters in the log


class DeadlockDetected(Exception):
    """What a driver raises for SQLSTATE 40P01 (psycopg.errors.DeadlockDetected)."""

    sqlstate = "40P01"


def test_a_rolled_back_transaction_is_a_503_saying_so_not_an_outage(
    settings: Settings, capfd: pytest.CaptureFixture[str]
) -> None:
    app = create_app(settings)

    @app.get("/test-deadlock")
    def _deadlock() -> str:
        raise OperationalError("UPDATE audit_head", {}, DeadlockDetected())

    answer = app.test_client().get("/test-deadlock")
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "1"
    assert "concurrent request conflicted" in answer.get_json()["detail"]
    assert "database conflict: DeadlockDetected" in capfd.readouterr().err  # the JSON log
