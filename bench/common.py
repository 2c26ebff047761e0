"""Shared benchmark plumbing: scratch databases and printed figures with ratios to bounds."""

from __future__ import annotations

import os
import resource
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy import create_engine, text

from idgov.config import (
    DatabaseSettings,
    KeySettings,
    LoggingSettings,
    ServerSettings,
    Settings,
    ThrottlingSettings,
)
from idgov.db import make_engine, parse_database_url, upgrade_database
from idgov.wiring import Services, build_services

POSTGRES_SERVER = os.environ.get(
    "IDGOV_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


@contextmanager
def scratch_database(kind: str, server_url: str = POSTGRES_SERVER) -> Iterator[str]:
    """A migrated, empty database ("sqlite" or "postgresql" on `server_url`), dropped
    afterwards."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite:///{Path(folder) / 'bench.db'}"
            _migrate(url)
            yield url
        return
    server = parse_database_url(server_url)
    name = f"idgov_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = server.set(database=name).render_as_string(hide_password=False)
    try:
        _migrate(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _migrate(url: str) -> None:
    engine = make_engine(DatabaseSettings(url=url))
    upgrade_database(engine)
    engine.dispose()


def bench_services(url: str, pool_size: int = 8) -> Services:
    return build_services(
        Settings(
            server=ServerSettings(secret_key="bench-secret-key-" + "x" * 32),
            database=DatabaseSettings(url=url, pool_size=pool_size),
            keys=KeySettings(passphrase="bench-passphrase"),
            logging=LoggingSettings(level="WARNING"),
            # The benches measure the work behind each request, many from one client: the
            # throttles (tested in tests/functional/test_throttling.py) would refuse them.
            throttling=ThrottlingSettings(enabled=False),
        )
    )


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def report(name: str, value: float, unit: str, bound: float, higher_is_better: bool = True) -> bool:
    """Print one figure and its ratio to the bound (>= 1.0 means the bound is met)."""
    ratio = value / bound if higher_is_better else bound / value
    verdict = "meets" if ratio >= 1 else "MISSES"
    relation = ">=" if higher_is_better else "<="
    shown, limit = (
        (f"{value:,.2f}", f"{bound:,.2f}") if bound < 10 else (f"{value:,.1f}", f"{bound:,.0f}")
    )
    print(f"{name}: {shown} {unit} (bound {relation} {limit} {unit}; ratio {ratio:.2f}, {verdict})")
    return ratio >= 1


class HashTimer:
    """Wraps PasswordHasher.verify to add up the seconds spent hashing."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._original: Callable[..., Any] = PasswordHasher.verify

    def __enter__(self) -> HashTimer:
        original, timer = self._original, self

        def timed(hasher: PasswordHasher, *args: Any, **kwargs: Any) -> Any:
            began = time.perf_counter()
            try:
                return original(hasher, *args, **kwargs)
            finally:
                timer.seconds += time.perf_counter() - began

        PasswordHasher.verify = timed  # type: ignore[method-assign]
        return self

    def __exit__(self, *_exc: object) -> None:
        PasswordHasher.verify = self._original  # type: ignore[method-assign]
