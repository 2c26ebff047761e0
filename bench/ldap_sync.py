"""Directory sync, 50,000 users in 500 groups from a real slapd: first < 60 s, 100 changes < 5 s."""

from __future__ import annotations

import argparse
import base64
import cProfile
import hashlib
import os
import platform
import pstats
import random
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ldap3 import MODIFY_ADD, MODIFY_DELETE, MODIFY_REPLACE

from bench.common import report, scratch_database
from idgov.config import DatabaseSettings, KeySettings, LoggingSettings, ServerSettings, Settings
from idgov.db import parse_database_url
from idgov.providers.directory.settings import DirectorySettings
from idgov.providers.directory.sync import INCREMENTAL, SyncResult
from idgov.wiring import Services, build_services
from tests.harness.missing import find_binary
from tests.harness.slapd import GROUPS_DN, PEOPLE_DN, SlapdServer, config_ldif, seed_entries

BOUND_FIRST_SECONDS, BOUND_INCREMENTAL_SECONDS = 60.0, 5.0
DIRECTORY = "bench"
PASSWORD = "Bench-Directory-Pass-1"
GROUPS_PER_USER = 3
CHANGED_USERS, NEW_USERS, GROUP_ADDS, GROUP_REMOVALS = 60, 20, 10, 10
DB_MAX_SIZE = 2 * 1024**3  # headroom: 50,000 users take 75 MB of the harness's 100 MB map


def user_dn(index: int) -> str:
    return f"uid=u{index:05d},{PEOPLE_DN}"


def group_dn(index: int) -> str:
    return f"cn=g{index:03d},{GROUPS_DN}"


def nested_in(index: int) -> tuple[int, ...]:
    """Groups nested directly in group `index`: every 10th group holds the next one, every
    20th the next two as well (50 nesting groups in 500; a nested group nests nothing)."""
    if index % 10:
        return ()
    return (index + 1, index + 2) if index % 20 == 0 else (index + 1,)


def manager_of(index: int) -> int | None:
    """A management tree (a manager has a smaller number); one user in ten has no manager."""
    return None if index % 10 == 0 or index == 1 else (index - 2) // 8 + 1


def ssha(password: str) -> str:
    """RFC 2307 {SSHA}: slapadd stores userPassword as given (ppolicy hashes only online)."""
    salt = b"idgovbnc"
    digest = hashlib.sha1(password.encode() + salt).digest()  # LDAP's SSHA, not a choice
    return "{SSHA}" + base64.b64encode(digest + salt).decode()


class DirectoryData:
    """Users u00001.. and groups g000..: each user directly in 3 random groups (~300 direct
    members a group with 50,000 users in 500 groups), 50 groups holding nested groups."""

    def __init__(self, users: int, groups: int, seed: int = 11) -> None:
        self.users, self.groups = users, groups
        rng = random.Random(seed)
        self.members: list[list[int]] = [[] for _ in range(groups)]
        for index in range(1, users + 1):
            for group in rng.sample(range(groups), min(GROUPS_PER_USER, groups)):
                self.members[group].append(index)

    def write_ldif(self, path: Path, oldest: datetime) -> int:
        """The harness's base entries (without its people and groups), then the users and the
        groups, each stamped a second after the one before (a directory in use for a while,
        not one written within a few seconds). The number of entries written."""
        seeded = {p.dn for p in SlapdServer.people.values()}
        seeded |= {g.dn for g in SlapdServer.groups.values()}
        password = ssha(PASSWORD)
        count = 0
        with path.open("w", encoding="utf-8") as out:

            def entry(dn: str, pairs: list[tuple[str, str]]) -> None:
                nonlocal count
                moment = (oldest + timedelta(seconds=count)).strftime("%Y%m%d%H%M%SZ")
                pairs += [("createTimestamp", moment), ("modifyTimestamp", moment)]
                out.write("\n".join([f"dn: {dn}", *(f"{k}: {v}" for k, v in pairs)]) + "\n\n")
                count += 1

            for dn, classes, attributes in seed_entries():
                if dn not in seeded:
                    pairs = [("objectClass", c) for c in classes]
                    for name, values in attributes.items():
                        pairs += [
                            (name, v) for v in ([values] if isinstance(values, str) else values)
                        ]
                    entry(dn, pairs)
            for index in range(1, self.users + 1):
                entry(user_dn(index), self.user(index, password))
            for index in range(self.groups):
                members = [user_dn(m) for m in self.members[index]]
                members += [group_dn(n) for n in nested_in(index) if n < self.groups]
                pairs = [("objectClass", "groupOfNames"), ("cn", f"g{index:03d}")]
                pairs += [("description", f"Bench group {index}")]
                entry(group_dn(index), pairs + [("member", m) for m in members or [user_dn(1)]])
        return count

    @staticmethod
    def user(index: int, password: str) -> list[tuple[str, str]]:
        name = f"u{index:05d}"
        pairs = [("objectClass", "inetOrgPerson"), ("uid", name), ("cn", f"User {index:05d}")]
        pairs += [("givenName", "User"), ("sn", f"{index:05d}"), ("mail", f"{name}@idgov.test")]
        pairs.append(("userPassword", password))
        manager = manager_of(index)
        return pairs if manager is None else [*pairs, ("manager", user_dn(manager))]


class BulkSlapd(SlapdServer):
    """The harness's slapd and configuration, loaded offline with slapadd -q before its first
    start instead of seeded over LDAP (50,000 adds over LDAP take minutes). slapadd writes
    entryUUID, entryCSN and the creators/modifiers names; the memberof overlay does not run
    offline, so the loaded users have no memberOf (idgov reads the groups' member lists)."""

    def __init__(self, workdir: Path, data: DirectoryData) -> None:
        super().__init__(workdir)
        self.data = data
        self._seeded = True  # by slapadd
        self.entries, self.load_seconds, self.ldif_mib = 0, 0.0, 0.0

    def _configure(self, slapadd: str) -> None:
        (self.workdir / "data").mkdir(parents=True, exist_ok=True)
        self.confdir.mkdir(parents=True)
        config = re.sub(
            r"olcDbMaxSize: \d+", f"olcDbMaxSize: {DB_MAX_SIZE}", config_ldif(self.workdir)
        )
        (self.workdir / "config.ldif").write_text(config)
        self._slapadd(slapadd, "-n0", "-l", str(self.workdir / "config.ldif"))
        began = time.perf_counter()
        ldif = self.workdir / "data.ldif"
        oldest = datetime.now(UTC) - timedelta(seconds=self.data.users + self.data.groups + 3600)
        self.entries = self.data.write_ldif(ldif, oldest)
        self._slapadd(slapadd, "-q", "-n1", "-l", str(ldif))
        self.load_seconds = time.perf_counter() - began
        self.ldif_mib = ldif.stat().st_size / 1024**2

    def _slapadd(self, slapadd: str, *args: str) -> None:
        cmd = [slapadd, "-F", str(self.confdir), *args]
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({result.returncode}):\n{result.stderr}")

    def change(self) -> list[str]:
        """The 100 changes over LDAP as the admin: 60 users get a new mail and cn, 20 users are
        added (under the first user), 10 groups gain one of them and 10 lose a direct member
        (groups that neither hold nor sit in another, so each change is exactly one grant)."""
        data, done = self.data, []
        with self.admin_connection() as conn:

            def check(ok: bool, what: str) -> None:
                if not ok:
                    raise RuntimeError(f"{what} failed: {conn.result}")
                done.append(what)

            step = data.users // CHANGED_USERS
            for n in range(CHANGED_USERS):
                index = 1 + n * step
                mail, cn = f"u{index:05d}.changed@idgov.test", f"User {index:05d} Changed"
                changes = {"mail": [(MODIFY_REPLACE, [mail])], "cn": [(MODIFY_REPLACE, [cn])]}
                check(conn.modify(user_dn(index), changes), f"modify {user_dn(index)}")
            new = range(data.users + 1, data.users + NEW_USERS + 1)
            for index in new:
                pairs = DirectoryData.user(index, PASSWORD)
                attributes: dict[str, list[str]] = {}
                for name, value in pairs:
                    if name != "objectClass":
                        attributes.setdefault(name, []).append(value)
                attributes["manager"] = [user_dn(1)]
                check(conn.add(user_dn(index), ["inetOrgPerson"], attributes), f"add {index}")
            plain = [g for g in range(data.groups) if g % 10 >= 3 and data.members[g]]
            for group, index in zip(plain[:GROUP_ADDS], new, strict=False):
                changes = {"member": [(MODIFY_ADD, [user_dn(index)])]}
                check(conn.modify(group_dn(group), changes), f"add member to {group_dn(group)}")
            for group in plain[GROUP_ADDS : GROUP_ADDS + GROUP_REMOVALS]:
                member = user_dn(data.members[group][0])
                changes = {"member": [(MODIFY_DELETE, [member])]}
                check(conn.modify(group_dn(group), changes), f"remove member of {group_dn(group)}")
        return done


@contextmanager
def scratch(server_url: str | None) -> Iterator[str]:
    """A migrated, empty database: SQLite in a temporary folder, or a database of its own
    created on the PostgreSQL server `server_url` names and dropped afterwards."""
    if server_url is None:
        with scratch_database("sqlite") as url:
            yield url
    else:
        with scratch_database("postgresql", server_url) as url:
            yield url


def directory_settings(slapd: SlapdServer) -> DirectorySettings:
    return DirectorySettings(
        urls=[slapd.url],
        tls="none",
        bind_dn=slapd.admin_dn,
        bind_password=slapd.admin_password,
        user_base=slapd.people_dn,
        group_base=slapd.groups_dn,
        page_size=1000,
        max_deactivation_percent=100,
    )


def directory_services(database_url: str, directory: DirectorySettings) -> Services:
    """Services on `database_url` with one directory, named DIRECTORY."""
    return build_services(
        Settings(
            server=ServerSettings(secret_key="bench-secret-key-" + "x" * 32),
            database=DatabaseSettings(url=database_url),
            keys=KeySettings(passphrase="bench-passphrase"),
            logging=LoggingSettings(level="WARNING"),
            directories={DIRECTORY: directory},
        )
    )


def environment(database_url: str) -> str:
    slapd = find_binary("slapd")
    version = "slapd not found"
    if slapd:
        answer = subprocess.run([slapd, "-VV"], capture_output=True, text=True, check=False)
        found = re.search(r"slapd ([\w.+~-]+)", answer.stderr + answer.stdout)
        version = f"OpenLDAP slapd {found.group(1)}" if found else "slapd (version unknown)"
    dialect = parse_database_url(database_url).get_backend_name()
    return (
        f"environment: Python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"database {dialect}, {version}"
    )


def counts_line(result: SyncResult) -> str:
    shown = ", ".join(f"{k} {v:,}" for k, v in result.counts.items() if v)
    return f"{result.kind} sync counts: {shown or 'nothing'}"


def timed(call: Callable[[], SyncResult], profile: bool) -> tuple[SyncResult, float]:
    """The result and wall-clock seconds; with `profile`, the 15 functions taking the most
    cumulative time are printed as well."""
    profiler = cProfile.Profile() if profile else None
    began = time.perf_counter()
    if profiler is not None:
        profiler.enable()
    result = call()
    if profiler is not None:
        profiler.disable()
    seconds = time.perf_counter() - began
    if profiler is not None:
        stats = pstats.Stats(profiler, stream=sys.stdout).strip_dirs()
        stats.sort_stats("cumulative").print_stats(15)
    return result, seconds


def bench(services: Services, slapd: BulkSlapd, profile: bool) -> bool:
    data, sync = slapd.data, services.directory_sync
    first, seconds = timed(lambda: sync.run(DIRECTORY, full=True), profile)
    users = first.counts["users_read"]
    print(counts_line(first))
    for problem in first.problems[:5]:
        print(f"  problem: {problem['dn']}: {problem['problem']}")
    print(
        f"first sync: {seconds:.1f} s ({first.seconds:.1f} s by the run's own clock"
        f"{', under cProfile' if profile else ''}), {users / seconds:,.0f} users/s"
    )
    expected = {"users_read": data.users, "created": data.users, "groups_created": data.groups}
    met = agree("first sync", first, expected, {})
    met &= report("first sync", seconds, "s", BOUND_FIRST_SECONDS, higher_is_better=False)

    with services.sessions() as session:
        [last] = sync.runs(session, DIRECTORY, limit=1)
        high_water = last.high_water
    if high_water is None:
        print("no high-water mark after the first sync: the next one cannot be incremental")
        return False
    time.sleep(1.0)  # the changes land in a later second than anything the first sync read
    done = slapd.change()
    print(f"{len(done)} changes made over LDAP; high-water mark {high_water}")

    second, seconds = timed(lambda: sync.run(DIRECTORY), False)
    print(counts_line(second))
    for problem in second.problems[:5]:
        print(f"  problem: {problem['dn']}: {problem['problem']}")
    if second.kind != INCREMENTAL:
        print(f"the second sync ran as {second.kind!r}, not incremental: not timed")
        return False
    read = second.counts["users_read"] + second.counts["groups_read"]
    print(f"incremental sync: {seconds:.2f} s, {read} entries read")
    expected = {"created": NEW_USERS}
    at_least = {
        "updated": CHANGED_USERS,
        "grants_added": GROUP_ADDS,
        "grants_removed": GROUP_REMOVALS,
    }
    met &= agree("incremental sync", second, expected, at_least)
    met &= report("incremental sync", seconds, "s", BOUND_INCREMENTAL_SECONDS, False)
    return met


def agree(name: str, result: SyncResult, exactly: dict[str, int], at_least: dict[str, int]) -> bool:
    wrong = [
        f"{k} {result.counts.get(k)} (expected {v})"
        for k, v in exactly.items()
        if result.counts.get(k) != v
    ]
    wrong += [
        f"{k} {result.counts.get(k)} (expected at least {v})"
        for k, v in at_least.items()
        if result.counts.get(k, 0) < v
    ]
    if result.status != "succeeded":
        wrong.append(f"status {result.status}")
    if wrong:
        print(f"{name}: COUNTS DISAGREE: " + "; ".join(wrong))
    return not wrong


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=50_000)
    parser.add_argument("--groups", type=int, default=500)
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL server (e.g. postgresql://postgres@127.0.0.1:5432/postgres): the "
        "bench creates a database of its own there and drops it; SQLite when unset",
    )
    parser.add_argument(
        "--profile", action="store_true", help="print the first sync's top 15 functions"
    )
    args = parser.parse_args()
    if args.users < 100 or args.groups < 40:
        parser.error("at least 100 users and 40 groups (the incremental changes need them)")
    with scratch(args.database_url) as url, tempfile.TemporaryDirectory() as folder:
        print(environment(url))
        slapd = BulkSlapd(Path(folder), DirectoryData(args.users, args.groups))
        try:
            slapd.start()
            print(
                f"slapd {slapd.url}: {slapd.entries:,} entries ({slapd.ldif_mib:.1f} MiB of LDIF) "
                f"generated and loaded with slapadd -q in {slapd.load_seconds:.1f} s"
            )
            services = directory_services(url, directory_settings(slapd))
            try:
                met = bench(services, slapd, args.profile)
            finally:
                services.directories[DIRECTORY].close()
                services.engine.dispose()
        finally:
            slapd.stop()
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
