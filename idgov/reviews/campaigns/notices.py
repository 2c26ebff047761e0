"""Access-review notices: reminders and moved items to reviewers, problems to security (REV-5)."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from idgov.alerts.messages import NOTICE
from idgov.alerts.models import AlertDelivery
from idgov.alerts.outbox import AlertOutbox
from idgov.clock import iso_utc
from idgov.counted import counted, plural
from idgov.identity.models import Identity, IdentityRole, IdentityStatus, Role
from idgov.reviews.models import Campaign

MAX_SUMMARY = 300
NEXT_STEP = "Sign in to idgov, open Reviews, certify or revoke each item and sign off."


class ReviewNotices:
    """E-mail to one person goes through the alert outbox (delivered until it succeeds) as a
    notice: nothing to acknowledge, never repeated (alerts/messages.NOTICE)."""

    def __init__(self, alerts: AlertOutbox) -> None:
        self._alerts = alerts

    def reminder(
        self, session: Session, campaign: Campaign, reviewer: Identity, items: int, due: datetime
    ) -> None:
        """One reminder for all of a reviewer's items in one campaign."""
        self._to(
            session,
            reviewer,
            "review-reminder",
            f"{_items(items)} of the access review {campaign.name} "
            f"{plural(items, 'awaits', 'await')} your decision and "
            f"sign-off by {iso_utc(due)}",
            {
                "campaign": _campaign(campaign),
                "items": items,
                "due": iso_utc(due),
                "next_step": NEXT_STEP,
            },
        )

    def moved(
        self,
        session: Session,
        campaign: Campaign,
        moves: list[tuple[str | None, str | None, datetime]],
        why: str,
    ) -> None:
        """(old reviewer, new reviewer, new due date) per item: one notice to each new
        reviewer, and one to each old reviewer whose items went to somebody else."""
        received: Counter[str] = Counter()
        lost: Counter[str] = Counter()
        went_to: dict[str, set[str]] = defaultdict(set)
        due: dict[str, datetime] = {}
        for old, new, until in moves:
            if new is None:
                continue  # nobody to tell: escalate() alerts the security unit instead
            received[new] += 1
            due[new] = min(until, due.get(new, until))
            if old is not None and old != new:
                lost[old] += 1
                went_to[old].add(new)
        people = _people(session, {*received, *lost})
        for reviewer_id, count in sorted(received.items()):
            self._to(
                session,
                people[reviewer_id],
                "review-assigned",
                f"{_items(count)} of the access review {campaign.name} "
                f"{plural(count, 'is', 'are')} now yours to decide "
                f"by {iso_utc(due[reviewer_id])}",
                {
                    "campaign": _campaign(campaign),
                    "items": count,
                    "due": iso_utc(due[reviewer_id]),
                    "why": why,
                    "next_step": NEXT_STEP,
                },
            )
        for reviewer_id, count in sorted(lost.items()):
            names = sorted(people[other].printed_name for other in went_to[reviewer_id])
            self._to(
                session,
                people[reviewer_id],
                "review-moved-away",
                f"{_items(count)} of yours in the access review {campaign.name} went to "
                f"{', '.join(names)}",
                {"campaign": _campaign(campaign), "items": count, "to": names, "why": why},
            )

    def to_security(
        self, session: Session, kind: str, summary: str, details: dict[str, Any]
    ) -> None:
        """An alert to the security unit (the alerting policy's recipients, told again until
        someone acknowledges it) and, in its first round, to every active administrator."""
        alert = self._alerts.raise_alert(session, kind, summary[:MAX_SUMMARY], details)
        told = set(
            session.scalars(
                select(AlertDelivery.recipient).where(AlertDelivery.alert_id == alert.id)
            )
        )
        admins = session.scalars(
            select(Identity.email)
            .join(IdentityRole, IdentityRole.identity_id == Identity.id)
            .where(IdentityRole.role == Role.ADMIN, Identity.status == IdentityStatus.ACTIVE)
            .order_by(Identity.email)
        ).all()
        extra = [("email", email) for email in admins if email and email not in told]
        if extra:
            self._alerts.schedule_round(session, alert, recipients=extra)

    def _to(
        self, session: Session, person: Identity, kind: str, summary: str, details: dict[str, Any]
    ) -> None:
        self._alerts.raise_alert(
            session,
            kind,
            summary[:MAX_SUMMARY],
            details,
            severity=NOTICE,
            identity=person,
            recipients=[("email", person.email)] if person.email else [],
        )


def _items(count: int) -> str:
    return counted(count, "item")


def _campaign(campaign: Campaign) -> dict[str, str]:
    return {"id": campaign.id, "name": campaign.name}


def _people(session: Session, ids: set[str]) -> dict[str, Identity]:
    if not ids:
        return {}
    return {p.id: p for p in session.scalars(select(Identity).where(Identity.id.in_(ids)))}
