"""The person's credentials: password state and a waiting set-password link (CMP-2), tokens
with their last and next tests (TOK-1), and loss cases (LOSS-1, LOSS-2)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from idgov.identity.dossier.standing import rows_of
from idgov.identity.models import PasswordSetup
from idgov.providers.models import LocalCredential
from idgov.tokens.models import LossCase, OtpToken, TokenTest
from idgov.tokens.services import overdue

TESTS_SHOWN = 5  # the latest tests of each token


@dataclass(frozen=True)
class TokenRecord:
    token: OtpToken
    tests: list[TokenTest]  # newest first, at most TESTS_SHOWN
    overdue: bool  # TOK-1: the periodic test is due, so the person cannot sign


@dataclass(frozen=True)
class PasswordState:
    """What the page says of a local password; never the hash."""

    credential: LocalCredential | None
    waiting_link: PasswordSetup | None  # a reset's link, not yet used, replaced or expired


def password_state(session: Session, identity_id: str, now: datetime) -> PasswordState:
    link = session.scalars(
        select(PasswordSetup)
        .where(
            PasswordSetup.identity_id == identity_id,
            PasswordSetup.ended.is_(None),
            PasswordSetup.expires_at > now,
        )
        .order_by(PasswordSetup.issued_at.desc())
        .limit(1)
    ).first()
    return PasswordState(session.get(LocalCredential, identity_id), link)


def tokens_of(session: Session, identity_id: str, now: datetime) -> list[TokenRecord]:
    """Every token of the person, newest first, each with its latest tests."""
    tokens = rows_of(session, OtpToken, identity_id, OtpToken.created_at.desc(), OtpToken.id)
    return [
        TokenRecord(
            token,
            list(
                session.scalars(
                    select(TokenTest)
                    .where(TokenTest.token_id == token.id)
                    .order_by(TokenTest.tested_at.desc(), TokenTest.id.desc())
                    .limit(TESTS_SHOWN)
                )
            ),
            token.status == "active" and overdue(token, now),
        )
        for token in tokens
    ]


def loss_cases(session: Session, identity_id: str) -> list[LossCase]:
    """The person's loss cases, newest report first."""
    return rows_of(session, LossCase, identity_id, LossCase.reported_at.desc(), LossCase.id)
