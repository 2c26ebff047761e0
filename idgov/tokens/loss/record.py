"""The loss case as one record an auditor reads and exports, and the token report (LOSS-1/2)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from idgov.audit.models import AuditEvent
from idgov.clock import iso_utc
from idgov.identity.models import Identity, IdentityRole, Role
from idgov.tokens.loss.rules import OPEN
from idgov.tokens.models import LossCase, OtpToken

READER_ROLES = (Role.SECURITY_OFFICER, Role.AUDITOR)
ACTOR_KEYS = ("reported_by", "verified_by", "issued_by", "by")


def may_read(session: Session, case: LossCase, reader: Identity) -> bool:
    """The owner, their manager, security officers and auditors read a case."""
    owner = session.get(Identity, case.identity_id)
    if reader.id == case.identity_id or (owner is not None and owner.manager_id == reader.id):
        return True
    held = session.scalars(
        select(IdentityRole.role).where(
            IdentityRole.identity_id == reader.id, IdentityRole.role.in_(READER_ROLES)
        )
    ).first()
    return held is not None


def case_record(session: Session, case: LossCase, now: datetime) -> dict[str, Any]:
    """Report -> deauthorization -> verification -> temporary -> permanent: every step with
    its time, actor and reason (from the audit trail), and the SLA figures (11.300(c))."""
    return {
        "id": case.id,
        "owner": _person(session, case.identity_id),
        "credential": case.credential,
        "kind": case.kind,
        "token_id": case.token_id,
        "description": case.description,
        "status": case.status,
        "reported_by": _person(session, case.reported_by),
        "reported_at": iso_utc(case.reported_at),
        "deauthorized_at": iso_utc(case.deauthorized_at),
        "verified_by": _person(session, case.verified_by),
        "verified_at": _time(case.verified_at),
        "verification_evidence": case.verification_evidence,
        "temporary": {
            "issued_at": _time(case.temporary_issued_at),
            "expires_at": _time(case.temporary_expires_at),
            "uses_left": case.temporary_uses_left,
        },
        "replacement_token_id": case.replacement_token_id,
        "replaced_at": _time(case.replaced_at),
        "sla": {
            "report_to_deauthorization_seconds": _seconds(case.reported_at, case.deauthorized_at),
            "report_to_replacement_seconds": _seconds(case.reported_at, case.replaced_at),
            "open_seconds": _seconds(case.reported_at, now) if case.status in OPEN else None,
        },
        "timeline": timeline(session, case.id),
    }


def timeline(session: Session, case_id: str) -> list[dict[str, Any]]:
    """The case's audit events in chain order: step, time, actor, reason, details."""
    steps: list[dict[str, Any]] = []
    events = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.target_type == "loss-case", AuditEvent.target_id == case_id)
        .order_by(AuditEvent.seq)
    )
    for event in events:
        details = json.loads(event.new_values) or {}
        named = next((details[key] for key in ACTOR_KEYS if details.get(key)), None)
        steps.append(
            {
                "seq": event.seq,
                "step": event.action.split(":", 1)[1],
                "time": iso_utc(event.occurred_at),
                "actor": named or event.actor_name,
                "recorded_by": event.actor_name,
                "reason": event.reason,
                "details": details,
            }
        )
    return steps


def as_text(record: dict[str, Any]) -> str:
    """A plain-text rendering of a case record, for people and printed evidence."""
    sla = record["sla"]
    lines = [
        f"Loss case {record['id']} ({record['status']})",
        f"owner: {(record['owner'] or {}).get('username')}",
        f"credential: {record['credential']} ({record['kind']}), token {record['token_id'] or '-'}",
        f"report to deauthorization: {sla['report_to_deauthorization_seconds']} s",
        f"report to replacement: {_or_dash(sla['report_to_replacement_seconds'])} s",
        "timeline:",
    ]
    lines += [
        f"  {step['time']}  {step['step']:<20} {step['actor']}  {step['reason'] or ''}".rstrip()
        for step in record["timeline"]
    ]
    return "\n".join(lines)


@dataclass(frozen=True)
class TokenReport:
    """What `idgov tokens report` shows: open cases, overdue tests, suspended tokens."""

    open_cases: list[tuple[LossCase, str, float]]  # case, owner username, age in seconds
    overdue: list[tuple[OtpToken, str]]
    suspended: list[tuple[OtpToken, str]]


def token_report(session: Session, now: datetime) -> TokenReport:
    people = {
        row.id: row.username for row in session.execute(select(Identity.id, Identity.username))
    }
    cases = session.scalars(
        select(LossCase).where(LossCase.status.in_(OPEN)).order_by(LossCase.reported_at)
    )
    overdue = session.scalars(
        select(OtpToken)
        .where(OtpToken.status == "active", OtpToken.test_due_at < now)
        .order_by(OtpToken.test_due_at)
    )
    suspended = session.scalars(
        select(OtpToken).where(OtpToken.status == "suspended").order_by(OtpToken.status_changed_at)
    )
    return TokenReport(
        [(c, people.get(c.identity_id, "?"), _seconds(c.reported_at, now) or 0.0) for c in cases],
        [(t, people.get(t.identity_id, "?")) for t in overdue],
        [(t, people.get(t.identity_id, "?")) for t in suspended],
    )


def _person(session: Session, identity_id: str | None) -> dict[str, str] | None:
    found = session.get(Identity, identity_id) if identity_id else None
    if found is None:
        return None
    return {"id": found.id, "username": found.username, "printed_name": found.printed_name}


def _time(moment: datetime | None) -> str | None:
    return iso_utc(moment) if moment is not None else None


def _seconds(start: datetime, end: datetime | None) -> float | None:
    return None if end is None else (end - start).total_seconds()


def _or_dash(value: object) -> str:
    return "-" if value is None else str(value)
