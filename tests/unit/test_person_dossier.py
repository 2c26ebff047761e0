"""The person's page reads its status history from audit events: creation starts it, each
status event moves it, with who and why (AUD-1)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from idgov.audit.canonical import canonical_json
from idgov.audit.models import AuditEvent
from idgov.identity.dossier.standing import status_change

AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def event(action: str, old: dict[str, str], new: dict[str, str], reason: str | None) -> AuditEvent:
    return AuditEvent(
        seq=7,
        occurred_at=AT,
        actor_name="Ada Admin",
        action=action,
        old_values=canonical_json(old),
        new_values=canonical_json(new),
        reason=reason,
    )


@pytest.mark.req("AUD-1")
def test_creation_starts_the_history_with_no_previous_status() -> None:
    created = event(
        "identity:identity:created", {}, {"status": "pending_verification", "username": "j"}, None
    )
    change = status_change(created)
    assert (change.old, change.new, change.actor, change.seq) == (
        None,
        "pending_verification",
        "Ada Admin",
        7,
    )


@pytest.mark.req("AUD-1")
def test_a_status_event_gives_both_statuses_and_the_reason() -> None:
    moved = event(
        "identity:status:suspended", {"status": "active"}, {"status": "suspended"}, "leave"
    )
    change = status_change(moved)
    assert (change.old, change.new, change.reason, change.at) == (
        "active",
        "suspended",
        "leave",
        AT,
    )
