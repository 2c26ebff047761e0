"""Lease-based job locks in the database: only one worker runs a job at a time."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from idgov.clock import Clock
from idgov.jobs.models import JobLease


class JobLeases:
    def __init__(self, clock: Clock, holder: str) -> None:
        self._clock = clock
        self._holder = holder

    def acquire(self, session: Session, job: str, lease: timedelta) -> bool:
        """Take the lease if it is free, expired or ours; atomic (one UPDATE) on both databases."""
        now = self._clock.now()
        dialect = session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        session.execute(insert(JobLease).values(name=job).on_conflict_do_nothing())
        taken = session.execute(
            update(JobLease)
            .where(
                JobLease.name == job,
                or_(
                    JobLease.lease_until.is_(None),
                    JobLease.lease_until < now,
                    JobLease.holder == self._holder,
                ),
            )
            .values(holder=self._holder, lease_until=now + lease)
        )
        return bool(taken.rowcount)  # type: ignore[attr-defined]

    def ran_within(self, session: Session, job: str, period: timedelta) -> bool:
        """True when the job last finished less than `period` ago (a job that need not run on
        every tick: scanning large tables)."""
        last = session.scalar(select(JobLease.last_run_at).where(JobLease.name == job))
        return last is not None and self._clock.now() - last < period

    def finish(self, session: Session, job: str) -> None:
        session.execute(
            update(JobLease)
            .where(JobLease.name == job, JobLease.holder == self._holder)
            .values(holder=None, lease_until=None, last_run_at=self._clock.now())
        )

    def release(self, session: Session, job: str) -> None:
        """Free the lease of a job that failed, without marking it run: its transaction was
        rolled back, finish() with it, so the lease would otherwise stay held until its timeout
        (30 minutes for a directory sync) and keep every other worker from retrying."""
        session.execute(
            update(JobLease)
            .where(JobLease.name == job, JobLease.holder == self._holder)
            .values(holder=None, lease_until=None)
        )
