"""Shared benchmark plumbing: scratch databases and printed figures with ratios to bounds."""

from __future__ import annotations

import os
import resource
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from idgov.app import create_app
from idgov.config import (
    DatabaseSettings,
    KeySettings,
    LoggingSettings,
    ServerSettings,
    Settings,
    ThrottlingSettings,
)
from idgov.db import make_engine, parse_database_url, transaction, upgrade_database
from idgov.identity.creation import NewIdentity
from idgov.wiring import Services, build_services
from tests.functional.people import PASSWORD, fast_hashing, login

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


def bench_services(url: str, pool_size: int = 8, **settings: Any) -> Services:
    """Services on `url`; `settings`: more sections of Settings (e.g. directories)."""
    return build_services(
        Settings(
            server=ServerSettings(secret_key="bench-secret-key-" + "x" * 32),
            database=DatabaseSettings(url=url, pool_size=pool_size),
            keys=KeySettings(passphrase="bench-passphrase"),
            logging=LoggingSettings(level="WARNING"),
            # The benches measure the work behind each request, many from one client: the
            # throttles (tested in tests/functional/test_throttling.py) would refuse them.
            throttling=ThrottlingSettings(enabled=False),
            **settings,
        )
    )


def signed_in(services: Services, username: str, role: str) -> FlaskClient:
    """A test client of the app, signed in as a new person holding `role` (cheap hashing)."""
    fast_hashing(services)
    with transaction(services.sessions) as session:
        identity = services.identities.create(
            session,
            NewIdentity(
                username=username,
                printed_name=username.replace("-", " ").title(),
                email=f"{username}@example.com",
                roles=(role,),
            ),
        )
        services.passwords.set_initial(session, identity, PASSWORD)
    client = create_app(services=services).test_client()
    assert login(client, username).status_code in (302, 303)
    return client


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1]


# Checks the warm-up answer of a view (its URL and page text): a fast page must be the
# right page, not an empty one.
ViewCheck = Callable[[str, str], None]


def time_view(
    client: FlaskClient, url: str, repeats: int, check: ViewCheck | None = None
) -> list[float]:
    """Milliseconds of each of `repeats` GETs of `url` through the app (after one warm-up:
    plan cache, pages in memory, and the `check` of its page); every answer must be a 200."""
    warm = client.get(url)
    if check is not None:
        check(url, warm.get_data(as_text=True))
    samples = []
    for _ in range(repeats):
        began = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return samples


def time_views(
    client: FlaskClient, views: dict[str, str], repeats: int, check: ViewCheck | None = None
) -> list[float]:
    """Time each named view, print its p50 and p95; the samples of the slowest (by p95)."""
    worst: list[float] = [0.0, 0.0]
    for name, view in views.items():
        samples = time_view(client, view, repeats, check)
        print(
            f"  {name}: p50 {statistics.median(samples):.1f} ms, p95 {p95(samples):.1f} ms   {view}"
        )
        worst = max(worst, samples, key=p95)
    return worst


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


PAGE_BOUND_MS = 100.0  # issue 15: console pages p95 under 100 ms server time


def page_bench(
    label: str,
    database_url: str,
    prepare: Callable[[Services], tuple[FlaskClient, dict[str, str]]],
    repeats: int,
    check: ViewCheck | None = None,
    **settings: Any,
) -> int:
    """A console page's bench on a scratch PostgreSQL database: `prepare` seeds it and answers
    a signed-in client with the views to time; prints each view and the worst p95's ratio to
    the bound. Exit status 0 when met. `check` is given each view's page once."""
    with scratch_database("postgresql", database_url) as url:
        services = bench_services(url, **settings)
        try:
            client, views = prepare(services)
            worst = time_views(client, views, repeats, check)
            met = report(f"{label} p95, worst view", p95(worst), "ms", PAGE_BOUND_MS, False)
        finally:
            services.close()
    return 0 if met else 1
