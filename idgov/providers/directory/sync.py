"""DirectorySync: read a directory, then mirror it into the registry in one transaction.

Reading happens first, with no transaction open; a directory that fails or drops the
connection part-way changes nothing (fail closed: a partial listing must never deactivate
anyone). Full syncs read everything and find accounts that are gone; incremental ones read
what changed since the last run's high-water mark (modifyTimestamp on OpenLDAP, uSNChanged on
Active Directory, which is per server: a change of server means a full sync).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from idgov.audit.context import Target
from idgov.audit.trail import AuditTrail
from idgov.clock import Clock
from idgov.db import transaction
from idgov.errors import Conflict, NotFound, ProviderUnavailable
from idgov.identity.services import IdentityService
from idgov.providers.directory.accounts import AccountMirror
from idgov.providers.directory.attributes import DirectoryGroup, DirectoryUser, EntryProblem
from idgov.providers.directory.departures import MassDeactivation, deactivate_gone
from idgov.providers.directory.groups import GroupMirror
from idgov.providers.directory.interfaces import Directory
from idgov.providers.directory.managers import ManagerResolver
from idgov.providers.directory.models import DirectorySyncRun
from idgov.providers.directory.reports import MirrorReport

MAX_PROBLEMS_KEPT = 500
E = TypeVar("E", DirectoryUser, DirectoryGroup)
FULL, INCREMENTAL = "full", "incremental"


@dataclass
class SyncResult:
    run_id: int
    provider: str
    kind: str
    status: str
    seconds: float
    counts: dict[str, int] = field(default_factory=dict)
    problems: list[dict[str, str]] = field(default_factory=list)
    error: str | None = None


@dataclass
class _Listing:
    users: list[DirectoryUser]
    groups: list[DirectoryGroup]
    problems: list[dict[str, str]]
    server: str | None
    # Keys of entries read but not usable: still there, so never taken for gone.
    unusable_users: set[str] = field(default_factory=set)
    unusable_groups: set[str] = field(default_factory=set)


class DirectorySync:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        clock: Clock,
        trail: AuditTrail,
        directories: dict[str, Directory],
        accounts: AccountMirror,
        groups: GroupMirror,
        managers: ManagerResolver,
        identities: IdentityService,
    ) -> None:
        self._session_factory = session_factory
        self._clock = clock
        self._trail = trail
        self._directories = directories
        self._accounts = accounts
        self._groups = groups
        self._managers = managers
        self._identities = identities

    def run(
        self, name: str, *, full: bool = False, allow_mass_deactivation: bool = False
    ) -> SyncResult:
        """Sync one directory now. ProviderUnavailable when it cannot be read and Conflict
        when a full sync would deactivate too many; both are recorded as failed runs."""
        directory = self._directory(name)
        started, clock_start = self._clock.now(), time.perf_counter()
        last = self._last_success(name)
        kind = FULL if full or last is None or last.high_water is None else INCREMENTAL
        try:
            listing = self._read(directory, None if kind == FULL else last.high_water)  # type: ignore[union-attr]
            if kind == INCREMENTAL and _moved_server(directory, last, listing):
                kind, listing = FULL, self._read(directory, None)
        except ProviderUnavailable as exc:
            self._record_failure(name, kind, started, clock_start, exc.detail, directory.server)
            raise
        limit = 100 if allow_mass_deactivation else directory.settings.max_deactivation_percent
        try:
            return self._apply(name, kind, listing, last, started, clock_start, limit)
        except MassDeactivation as exc:
            self._record_failure(name, kind, started, clock_start, str(exc), listing.server)
            raise Conflict(str(exc)) from None

    def due(self, name: str) -> str | None:
        """Which sync the worker's schedule wants now for this directory, if any. A failed
        attempt is retried after the incremental interval (15 minutes when that is off),
        not on every worker round."""
        settings = self._directory(name).settings
        now = self._clock.now()
        with self._session_factory() as session:
            last_full = _last(session, name, FULL)
            last_attempt = _last(session, name, None)
        interval = timedelta(minutes=settings.sync_interval_minutes)
        rested = last_attempt is None or now - last_attempt >= (interval or timedelta(minutes=15))
        full_due = settings.full_sync_hours and (
            last_full is None or now - last_full >= timedelta(hours=settings.full_sync_hours)
        )
        if full_due and rested:
            return FULL
        if settings.sync_interval_minutes and rested:
            return INCREMENTAL
        return None

    def run_if_due(self, name: str) -> SyncResult | None:
        kind = self.due(name)
        return None if kind is None else self.run(name, full=kind == FULL)

    def _directory(self, name: str) -> Directory:
        directory = self._directories.get(name)
        if directory is None:
            known = ", ".join(sorted(self._directories)) or "none configured"
            raise NotFound(f"no directory named {name!r} ({known})")
        return directory

    def _read(self, directory: Directory, since: str | None) -> _Listing:
        listing = _Listing([], [], [], None)
        _sort(directory.users(since), listing.users, listing.unusable_users, listing.problems)
        _sort(directory.groups(since), listing.groups, listing.unusable_groups, listing.problems)
        listing.server = directory.server
        return listing

    def _apply(
        self,
        name: str,
        kind: str,
        listing: _Listing,
        last: DirectorySyncRun | None,
        started: datetime,
        clock_start: float,
        limit: int,
    ) -> SyncResult:
        report = MirrorReport(problems=list(listing.problems))
        with transaction(self._session_factory) as session:
            self._accounts.apply(session, name, listing.users, started, report)
            managers = self._managers.apply(session, name, listing.users, report)
            if kind == FULL:
                keys = {user.key for user in listing.users} | listing.unusable_users
                deactivate_gone(self._identities, session, name, keys, started, report, limit)
            groups = self._groups.apply(
                session,
                name,
                listing.groups,
                started,
                full=kind == FULL,
                keep=listing.unusable_groups,
            )
            grants = groups.grants
            counts = {
                "users_read": len(listing.users),
                "groups_read": len(listing.groups),
                "created": report.created,
                "updated": report.updated,
                "unchanged": report.unchanged,
                "refused": report.refused,
                "deactivated": report.deactivated,
                "returned": report.returned,
                "managers_changed": managers,
                "groups_created": groups.created,
                "groups_updated": groups.updated,
                "groups_removed": groups.removed,
                "grants_added": grants.granted if grants else 0,
                "grants_removed": grants.removed if grants else 0,
                "grants_changed": grants.changed if grants else 0,
                "problems": len(report.problems),
            }
            high_water = _high_water(listing, last.high_water if last else None)
            seconds = time.perf_counter() - clock_start
            run = self._record(
                session,
                name,
                kind,
                "succeeded",
                started,
                seconds,
                listing.server,
                high_water,
                counts,
                report.problems,
                None,
            )
        return SyncResult(run.id, name, kind, "succeeded", seconds, counts, report.problems)

    def _record(
        self,
        session: Session,
        name: str,
        kind: str,
        status: str,
        started: datetime,
        seconds: float,
        server: str | None,
        high_water: str | None,
        counts: dict[str, int],
        problems: list[dict[str, str]],
        error: str | None,
    ) -> DirectorySyncRun:
        run = DirectorySyncRun(
            provider=name,
            kind=kind,
            status=status,
            started_at=started,
            finished_at=self._clock.now(),
            server=server,
            high_water=high_water,
            counts=json.dumps(counts),
            problems=json.dumps(problems[:MAX_PROBLEMS_KEPT]),
            error=error,
        )
        session.add(run)
        session.flush()
        self._trail.record(
            session,
            f"directory:sync:{status}",
            Target("directory", name),
            new={
                "run": run.id,
                "kind": kind,
                "server": server,
                "seconds": round(seconds, 3),
                **counts,
                "error": error,
            },
        )
        return run

    def _record_failure(
        self,
        name: str,
        kind: str,
        started: datetime,
        clock_start: float,
        error: str,
        server: str | None,
    ) -> None:
        with transaction(self._session_factory) as session:
            self._record(
                session,
                name,
                kind,
                "failed",
                started,
                time.perf_counter() - clock_start,
                server,
                None,
                {},
                [],
                error,
            )

    def _last_success(self, name: str) -> DirectorySyncRun | None:
        with self._session_factory() as session:
            return session.scalars(
                select(DirectorySyncRun)
                .where(DirectorySyncRun.provider == name, DirectorySyncRun.status == "succeeded")
                .order_by(DirectorySyncRun.id.desc())
                .limit(1)
            ).first()

    def runs(self, session: Session, name: str | None, limit: int = 20) -> list[DirectorySyncRun]:
        query = select(DirectorySyncRun).order_by(DirectorySyncRun.id.desc()).limit(limit)
        if name is not None:
            query = query.where(DirectorySyncRun.provider == name)
        return list(session.scalars(query))


def _sort(
    entries: Iterable[E | EntryProblem],
    usable: list[E],
    unusable: set[str],
    problems: list[dict[str, str]],
) -> None:
    """Usable entries to `usable`; the others reported, their keys kept in `unusable`."""
    for entry in entries:
        if isinstance(entry, EntryProblem):
            problems.append({"dn": entry.dn, "problem": entry.problem})
            if entry.key:
                unusable.add(entry.key)
        else:
            usable.append(entry)


def _last(session: Session, name: str, kind: str | None) -> datetime | None:
    query = select(func.max(DirectorySyncRun.started_at)).where(DirectorySyncRun.provider == name)
    if kind is not None:
        query = query.where(DirectorySyncRun.kind == kind, DirectorySyncRun.status == "succeeded")
    return session.scalar(query)


def _moved_server(directory: Directory, last: DirectorySyncRun | None, listing: _Listing) -> bool:
    """uSNChanged counts per domain controller: another server's numbers mean nothing."""
    return (
        directory.settings.preset == "active-directory"
        and last is not None
        and listing.server != last.server
    )


def _high_water(listing: _Listing, previous: str | None) -> str | None:
    stamps: list[str] = [u.modify_stamp for u in listing.users if u.modify_stamp]
    stamps += [g.modify_stamp for g in listing.groups if g.modify_stamp]
    if previous:
        stamps.append(previous)
    if not stamps:
        return None
    # GeneralizedTime in one format sorts as text; uSNChanged numbers sort as numbers.
    return max(stamps, key=lambda s: (len(s), s) if s.isdigit() else (0, s))


def result_dict(result: SyncResult) -> dict[str, Any]:
    return asdict(result)
