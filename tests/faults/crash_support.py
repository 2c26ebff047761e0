"""What the fault tests check after a crash: every change has its audit event and every audit
event its change (AUD-1), the chain verifies (AUD-3), and no lease outlives its timeout."""

from __future__ import annotations

import json
import os
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from idgov.audit.models import AuditEvent
from idgov.jobs.models import JobLease
from idgov.wiring import Services
from tests.harness.database import TEST_DB_ENV
from tests.harness.idgov_process import IdgovProcess

# Crash tests share the database between a killed server process and the test, as a real
# installation does, and prove what PostgreSQL keeps; they skip on the SQLite pass.
postgres_only = pytest.mark.skipif(
    not os.environ.get(TEST_DB_ENV),
    reason=f"crash tests run on PostgreSQL ({TEST_DB_ENV}), the production database",
)


def audited_values(session: Session, action: str, key: str) -> list[Any]:
    """`key` of the new values of every audit event of `action`, in chain order."""
    query = select(AuditEvent.new_values).where(AuditEvent.action == action)
    return [
        json.loads(new or "{}").get(key) for new in session.scalars(query.order_by(AuditEvent.seq))
    ]


def audited_targets(session: Session, action: str) -> list[str]:
    """The target ids of every audit event of `action`, in chain order."""
    query = select(AuditEvent.target_id).where(AuditEvent.action == action)
    return list(session.scalars(query.order_by(AuditEvent.seq)))


def assert_chain_verifies(services: Services) -> None:
    report = services.verifier.verify()
    assert report.ok, f"audit chain broken at {report.first_bad_seq}: {report.problem}"


def assert_cli_verifies(server: IdgovProcess) -> None:
    """`idgov audit verify`, the operator's command, in a process of its own."""
    done = server.cli("audit", "verify")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "audit chain OK" in done.stdout


def lease_overrun(session: Session, job: str, now: datetime, timeout_seconds: float) -> float:
    """How far beyond `timeout_seconds` from `now` the job's lease runs (0 when free or
    within its timeout)."""
    lease = session.get(JobLease, job)
    if lease is None or lease.lease_until is None:
        return 0.0
    return max(0.0, (lease.lease_until - now).total_seconds() - timeout_seconds)
