"""What waits for a security officer among tokens: overdue tests and open loss cases (TOK-1,
LOSS-1)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from idgov.identity.models import Identity
from idgov.tokens.loss.rules import OPEN
from idgov.tokens.models import LossCase, OtpToken


@dataclass(frozen=True, slots=True)
class OverdueToken:
    """An active token past its periodic test: its owner cannot sign until it passes (TOK-1)."""

    token: OtpToken
    owner: Identity


@dataclass(frozen=True, slots=True)
class OpenLossCase:
    """A reported loss not yet replaced for good (LOSS-1: open until the permanent one)."""

    case: LossCase
    owner: Identity


def overdue_tests(session: Session, now: datetime, limit: int) -> tuple[int, list[OverdueToken]]:
    """How many active tokens are overdue for their test, and the `limit` longest overdue."""
    due = (OtpToken.status == "active", OtpToken.test_due_at <= now)
    total = session.scalar(select(func.count()).select_from(OtpToken).where(*due))
    rows = session.execute(
        select(OtpToken, Identity)
        .join(Identity, Identity.id == OtpToken.identity_id)
        .where(*due)
        .order_by(OtpToken.test_due_at, OtpToken.id)
        .limit(limit)
    ).all()
    return int(total or 0), [OverdueToken(token, owner) for token, owner in rows]


def open_loss_cases(session: Session, limit: int) -> tuple[int, list[OpenLossCase]]:
    """How many loss cases are open, and the `limit` newest reported."""
    still_open = LossCase.status.in_(OPEN)
    total = session.scalar(select(func.count()).select_from(LossCase).where(still_open))
    rows = session.execute(
        select(LossCase, Identity)
        .join(Identity, Identity.id == LossCase.identity_id)
        .where(still_open)
        .order_by(LossCase.reported_at.desc(), LossCase.id)
        .limit(limit)
    ).all()
    return int(total or 0), [OpenLossCase(case, owner) for case, owner in rows]
