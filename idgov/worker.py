"""The worker loop: runs each scheduled job under its lease until told to stop."""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from idgov.db import transaction
from idgov.errors import IdgovError
from idgov.jobs.leases import JobLeases
from idgov.wiring import Services

log = logging.getLogger("idgov.worker")


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[[Session], object]
    lease: timedelta = timedelta(minutes=5)
    every: timedelta | None = None  # at most this often (None: every tick)


def scheduled_jobs(services: Services) -> list[Job]:
    """Every job the worker runs; later features add theirs here."""
    return [
        Job(
            "audit-checkpoint",
            lambda session: services.checkpoints.issue_if_due(
                session, services.checkpoint_interval
            ),
        ),
        # ALERT-1: every tick. The dispatcher opens short transactions of its own and sends
        # with none open, so the job's session stays unused; a short lease lets another worker
        # take over within seconds of a crash (row claims keep concurrent runs safe anyway).
        Job(
            "alert-delivery",
            lambda _session: services.alert_dispatcher.deliver_due(),
            lease=timedelta(seconds=30),
        ),
        # AUD-1: anonymous refusals of windows gone idle, recorded in aggregate (finding 3).
        Job("refusal-windows", services.refusals.flush_due, every=timedelta(minutes=1)),
        Job("alert-renotify", services.alert_dispatcher.renotify_due, lease=timedelta(minutes=1)),
        Job("password-aging", services.password_aging.run),  # PWD-3 warnings at 14, 7, 1 days
        Job("token-test-reminders", services.token_reminders.run),  # TOK-1, before the due date
        # REV-5: reminders, escalations, scheduled campaign starts.
        Job("review-escalation", services.escalation.run, every=timedelta(minutes=1)),
        # REV-4: directory revocations carried out (and retried) with their own transactions.
        Job(
            "review-remediation",
            lambda _session: services.remediation.carry_out_due(),
            lease=timedelta(minutes=10),
        ),
        # Directory syncs open their own transactions (they read the directory first, with
        # none open); the lease keeps two workers from syncing one directory at once.
        *(
            Job(f"directory-sync:{name}", _sync_job(services, name), lease=timedelta(minutes=30))
            for name in services.directories
        ),
    ]


def _sync_job(services: Services, name: str) -> Callable[[Session], object]:
    def run(_session: Session) -> object:
        return services.directory_sync.run_if_due(name)

    return run


class Worker:
    def __init__(self, services: Services, jobs: list[Job] | None = None) -> None:
        self._services = services
        self._jobs = jobs if jobs is not None else scheduled_jobs(services)
        self._leases = JobLeases(services.clock, f"{socket.gethostname()}:{os.getpid()}")
        self.stopping = threading.Event()

    def run_once(self) -> None:
        for job in self._jobs:
            try:
                self._run(job)
            except (IdgovError, SQLAlchemyError) as exc:
                # A failing job is logged and retried on the next tick; it never stops the others.
                log.error("job failed", extra={"job": job.name, "error": str(exc)})

    def _run(self, job: Job) -> None:
        with transaction(self._services.sessions) as session:
            if job.every is not None and self._leases.ran_within(session, job.name, job.every):
                return
            if not self._leases.acquire(session, job.name, job.lease):
                return
        try:
            with transaction(self._services.sessions) as session:
                job.run(session)
                self._leases.finish(session, job.name)
        except BaseException:
            with transaction(self._services.sessions) as session:
                self._leases.release(session, job.name)
            raise

    def run_forever(self) -> None:
        interval = self._services.settings.worker.poll_interval_seconds
        log.info("worker started", extra={"jobs": [job.name for job in self._jobs]})
        while not self.stopping.is_set():
            self.run_once()
            self.stopping.wait(interval)
        log.info("worker stopped")
