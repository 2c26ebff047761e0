"""`kill -9` of the process running a directory sync (AUD-1, AUD-3, 11.10(e)).

`idgov serve --with-worker` syncs a real slapd holding a few hundred people, read through a
proxy that slows each answer a little; the process is killed with SIGKILL at several moments
of the sync: while it reads the directory, while it writes the registry, after. After each
crash: either the whole sync is there (its run, every identity with its creation event) or
none of it, every run has its audit event and every event its run, the chain verifies, and
the lease the dead process held ends within its timeout: a worker after the timeout takes it
and completes the sync with the right counts, one before it does not.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from idgov.clock import Clock, FrozenClock, SystemClock
from idgov.config import DatabaseSettings, Settings
from idgov.db import transaction
from idgov.identity.models import Identity
from idgov.jobs.models import JobLease
from idgov.providers.directory.models import DirectorySyncRun
from idgov.wiring import Services, build_services
from idgov.worker import Worker, scheduled_jobs
from tests.faults.crash_support import (
    assert_chain_verifies,
    assert_cli_verifies,
    audited_targets,
    audited_values,
    lease_overrun,
    postgres_only,
)
from tests.harness.database import PostgresDatabases
from tests.harness.idgov_process import START_TIMEOUT, IdgovProcess
from tests.harness.proxy import DroppingProxy, proxied
from tests.harness.slapd import SlapdServer
from tests.integration.directory_support import NAME, with_directory

pytestmark = [pytest.mark.integration, postgres_only]

BULK_PEOPLE = 300
JOB = f"directory-sync:{NAME}"
LEASE = timedelta(minutes=30)  # worker.py: the directory-sync job's lease
# Moments of the kill, as fractions of an uninterrupted sync's duration.
KILL_AT = (0.05, 0.3, 0.55, 0.8, 1.05)


@pytest.fixture
def clock() -> Clock:
    return SystemClock()


@pytest.fixture(scope="module")
def crowded_slapd(own_slapd: SlapdServer) -> SlapdServer:
    """The module's slapd with BULK_PEOPLE more people, so that a sync takes a while."""
    own_slapd.add_people("bulk", BULK_PEOPLE)
    return own_slapd


@pytest.fixture
def slow_directory(crowded_slapd: SlapdServer) -> Iterator[DroppingProxy]:
    with proxied(crowded_slapd.host, crowded_slapd.port, delay=0.008) as proxy:
        yield proxy


def round_settings(
    databases: PostgresDatabases, settings: Settings, slapd: SlapdServer, proxy: DroppingProxy
) -> Settings:
    """A fresh database of its own; the directory read through the slow proxy."""
    fresh = DatabaseSettings(url=databases.create())
    return with_directory(settings.model_copy(update={"database": fresh}), slapd, urls=[proxy.url])


def expected_people() -> int:
    return BULK_PEOPLE + len(SlapdServer.people)


def identities(services: Services) -> int:
    with services.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Identity)) or 0)


def succeeded_runs(services: Services) -> list[DirectorySyncRun]:
    with services.sessions() as session:
        query = select(DirectorySyncRun).where(DirectorySyncRun.status == "succeeded")
        return list(session.scalars(query))


def run_sync_job(settings: Settings, clock: Clock) -> None:
    """One round of a worker of another process (another lease holder), the sync job only."""
    services = build_services(settings, clock)
    try:
        Worker(services, [job for job in scheduled_jobs(services) if job.name == JOB]).run_once()
    finally:
        services.close()


def kill_during_sync(server: IdgovProcess, proxy: DroppingProxy, after: float) -> int:
    """Launch, wait until the worker's sync starts reading the directory, kill `after`
    seconds later; the bytes the directory had sent by then."""
    base = proxy.bytes_to_client
    server.start(wait=False)  # the worker starts syncing as soon as the process is up
    deadline = time.monotonic() + START_TIMEOUT
    while proxy.bytes_to_client == base:
        assert server.is_running(), server.log_tail()
        assert time.monotonic() < deadline, "the worker never started the sync"
        time.sleep(0.005)
    time.sleep(after)
    sent = proxy.bytes_to_client - base
    server.kill()
    return sent


def calibrate(services: Services) -> float:
    """An uninterrupted sync through the proxy, which creates everyone: its seconds."""
    began = time.monotonic()
    result = services.directory_sync.run(NAME, full=True)
    assert result.counts["created"] == expected_people()
    return time.monotonic() - began


def phases(outcomes: list[tuple[int, bool]]) -> list[str]:
    """Where each kill landed, from (bytes the directory had sent, sync committed): before
    the listing was complete, after it but before the commit, or after the commit."""
    listing = max(sent for sent, _ in outcomes)
    return [
        "committed" if done else "writing" if sent == listing else "reading"
        for sent, done in outcomes
    ]


def assert_all_or_nothing(services: Services) -> None:
    """Every run with its event and back; the people all there, each with its creation event,
    or none of them."""
    with services.sessions() as session:
        runs = {run.id for run in session.scalars(select(DirectorySyncRun))}
        events = audited_values(session, "directory:sync:succeeded", "run")
        events += audited_values(session, "directory:sync:failed", "run")
        people = set(session.scalars(select(Identity.id)))
        created = audited_targets(session, "identity:identity:created")
    assert sorted(runs) == sorted(events)
    assert len(people) in (0, expected_people()), "a sync was half written"
    assert people == set(created)


def assert_lease_ends(services: Services, slapd: SlapdServer) -> None:
    """The dead process's lease binds no other worker past its timeout: before it, another
    worker leaves the job alone; after it, another worker takes it and completes the sync
    (reading the directory directly, not through the slow proxy)."""
    settings = with_directory(services.settings, slapd)
    now = datetime.now(UTC)
    with services.sessions() as session:
        assert lease_overrun(session, JOB, now, LEASE.total_seconds()) == 0
        lease = session.get(JobLease, JOB)
        held = lease is not None and lease.holder is not None
    committed = len(succeeded_runs(services))
    if held:
        run_sync_job(settings, SystemClock())
        assert len(succeeded_runs(services)) == committed, "a live lease was taken"
    run_sync_job(settings, FrozenClock(now + LEASE + timedelta(minutes=1)))
    runs = succeeded_runs(services)
    assert len(runs) == committed + 1
    assert identities(services) == expected_people()
    if not committed:  # the killed sync left nothing: the new one is full and creates everyone
        assert (runs[-1].kind, json.loads(runs[-1].counts)["created"]) == (
            "full",
            expected_people(),
        )
    with services.sessions() as session:
        lease = session.get(JobLease, JOB)
        assert lease is not None
        assert lease.holder is None  # finished, not stuck


@pytest.mark.req("AUD-1")
@pytest.mark.req("AUD-3")
def test_a_sync_killed_at_any_point_is_all_there_or_not_there_and_its_lease_ends(
    settings: Settings,
    postgres_databases: PostgresDatabases | None,
    crowded_slapd: SlapdServer,
    slow_directory: DroppingProxy,
    tmp_path: Path,
) -> None:
    assert postgres_databases is not None
    config = round_settings(postgres_databases, settings, crowded_slapd, slow_directory)
    with closing(build_services(config, SystemClock())) as services:
        took = calibrate(services)
    outcomes: list[tuple[int, bool]] = []
    for round_no, fraction in enumerate(KILL_AT):
        config = round_settings(postgres_databases, settings, crowded_slapd, slow_directory)
        with closing(build_services(config, SystemClock())) as services:
            with transaction(services.sessions) as session:
                services.keys.create(session, "audit", reason="fault test")
            server = IdgovProcess(tmp_path / f"round-{round_no}", config, with_worker=True)
            sent = kill_during_sync(server, slow_directory, fraction * took)
            outcomes.append((sent, bool(succeeded_runs(services))))
            assert_all_or_nothing(services)
            assert_chain_verifies(services)
            assert_lease_ends(services, crowded_slapd)
            assert_all_or_nothing(services)
            assert_chain_verifies(services)
            if round_no == len(KILL_AT) - 1:
                assert_cli_verifies(server)
        postgres_databases.drop(config.database.url)
    landed = phases(outcomes)
    assert {"reading", "writing"} & set(landed), f"no kill landed mid-sync: {landed}"
