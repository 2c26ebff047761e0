"""A PostgreSQL connection asks the server to probe a silent peer (TCP keepalive), so a web host
that vanishes mid-transaction releases its locks on the audit chain within minutes (AUD-1)."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from idgov.config import DatabaseSettings
from idgov.db import make_engine
from tests.harness.database import PostgresDatabases

pytestmark = pytest.mark.req("AUD-1")


@pytest.fixture
def server_url(postgres_databases: PostgresDatabases | None) -> str:
    if postgres_databases is None:
        pytest.skip("TCP keepalives are a PostgreSQL connection setting")
    return postgres_databases.server.render_as_string(hide_password=False)


def _server_setting(url: str, idle: int, name: str) -> str:
    engine = make_engine(DatabaseSettings(url=url, tcp_keepalives_idle_seconds=idle))
    try:
        with engine.connect() as conn:
            return str(conn.execute(text(f"SHOW {name}")).scalar_one())
    finally:
        engine.dispose()


def test_the_server_probes_a_silent_connection_after_the_configured_idle_time(
    server_url: str,
) -> None:
    assert _server_setting(server_url, 45, "tcp_keepalives_idle") == "45"
    assert _server_setting(server_url, 45, "tcp_keepalives_count") == "6"


def test_zero_leaves_the_servers_own_keepalive_settings(server_url: str) -> None:
    plain = create_engine(server_url)
    try:
        with plain.connect() as conn:
            servers_own = str(conn.execute(text("SHOW tcp_keepalives_idle")).scalar_one())
    finally:
        plain.dispose()
    assert _server_setting(server_url, 0, "tcp_keepalives_idle") == servers_own
    assert _server_setting(server_url, 60, "tcp_keepalives_idle") == "60" != servers_own
