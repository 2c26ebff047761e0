"""Login by directory bind adds at most 10 ms p50 over a bare ldap3 bind to the same slapd."""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ldap3 import NONE, Connection, Server

from bench.common import report, scratch_database
from bench.ldap_sync import DIRECTORY, directory_services, directory_settings, environment
from idgov.providers.directory.attributes import DirectoryUser
from idgov.wiring import Services
from tests.harness.slapd import SlapdServer, close_connection

BOUND_OVERHEAD_MS = 10.0
USERNAME = "bob"
WARM_UP = 10


def bare_bind(slapd: SlapdServer, dn: str, password: str) -> None:
    """What a client with no idgov does: connect, simple bind, unbind."""
    conn = Connection(
        Server(slapd.host, port=slapd.port, get_info=NONE), user=dn, password=password
    )
    try:
        assert conn.bind(), conn.result
    finally:
        close_connection(conn)


def idgov_login(services: Services, password: str) -> None:
    result = services.auth.authenticate(USERNAME, password, channel="login", source="127.0.0.1")
    assert result.username == USERNAME, result


def provider_bind(services: Services, password: str) -> None:
    """The directory part of a login alone: the service account's search, then the bind."""
    directory = services.directories[DIRECTORY]
    entry = directory.find_user(USERNAME)
    assert isinstance(entry, DirectoryUser), entry
    outcome = directory.bind(entry.dn, password)
    assert outcome.ok, outcome


def percentile(timings: list[float], share: float) -> float:
    return statistics.quantiles(timings, n=100, method="inclusive")[round(share * 100) - 1]


def measure(calls: dict[str, Callable[[], None]], count: int) -> dict[str, list[float]]:
    """Seconds of each call, interleaved: one of each per round, so that drift in the machine
    or in the servers falls on all of them alike."""
    for call in calls.values():
        for _ in range(WARM_UP):
            call()
    timings: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(count):
        for name, call in calls.items():
            began = time.perf_counter()
            call()
            timings[name].append(time.perf_counter() - began)
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=300)
    args = parser.parse_args()
    with scratch_database("sqlite") as url, tempfile.TemporaryDirectory() as folder:
        print(environment(url))
        slapd = SlapdServer(Path(folder))
        try:
            slapd.start()
            services = directory_services(url, directory_settings(slapd))
            try:
                synced = services.directory_sync.run(DIRECTORY, full=True)
                print(f"full sync: {synced.counts['created']} identities from {slapd.url}")
                person = slapd.people[USERNAME]
                calls = {
                    "bare ldap3 bind": lambda: bare_bind(slapd, person.dn, person.password),
                    "idgov login": lambda: idgov_login(services, person.password),
                    "provider find_user + bind": lambda: provider_bind(services, person.password),
                }
                timings = measure(calls, args.count)
            finally:
                services.directories[DIRECTORY].close()
                services.engine.dispose()
        finally:
            slapd.stop()
    print(f"{args.count} of each, interleaved, after {WARM_UP} of each to warm up:")
    for name, seconds in timings.items():
        print(
            f"  {name}: p50 {statistics.median(seconds) * 1000:.2f} ms, "
            f"p95 {percentile(seconds, 0.95) * 1000:.2f} ms"
        )
    bare = statistics.median(timings["bare ldap3 bind"])
    overhead_ms = (statistics.median(timings["idgov login"]) - bare) * 1000
    if overhead_ms <= 0:  # report() divides by the figure
        print(f"p50 overhead: {overhead_ms:.2f} ms (bound <= {BOUND_OVERHEAD_MS:.2f} ms; meets)")
        return 0
    return 0 if report("p50 overhead", overhead_ms, "ms", BOUND_OVERHEAD_MS, False) else 1


if __name__ == "__main__":
    sys.exit(main())
