"""Loss-case vocabulary and checks: credentials, kinds, forward-only statuses (LOSS-1, LOSS-2)."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from idgov.errors import Conflict, UnprocessableRequest
from idgov.signatures.sessions import end_signing_sessions
from idgov.tokens.models import LossCase

CREDENTIALS = ("token", "card", "password")
KINDS = ("lost", "stolen", "missing", "compromised")
# 11.300(c): a case only moves forward; a report is never undone, only followed.
STATUSES = ("deauthorized", "verified", "temporary-issued", "replaced")
OPEN = STATUSES[:-1]
LIVE_TOKEN = ("enrolling", "active", "suspended")  # tokens a report disables
MAX_CODE = 64
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def one_of(value: object, allowed: Sequence[str], field: str) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise UnprocessableRequest(
            f"{field} must be one of {', '.join(allowed)}", field=field, allowed=list(allowed)
        )
    return value


def clean_text(value: object, field: str, limit: int) -> str | None:
    """Optional free text: stripped, at most `limit` characters, no control characters."""
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit or CONTROL.search(value):
        raise UnprocessableRequest(
            f"{field} must be text of at most {limit} printable characters", field=field
        )
    return value.strip() or None


def require_status(case: LossCase, allowed: Sequence[str], doing: str) -> None:
    """The step needs one of `allowed`: a case never goes back (LOSS-2 order)."""
    if case.status not in allowed:
        raise Conflict(
            f"cannot {doing}: the case is {case.status} (needs {' or '.join(allowed)})",
            field="status",
            status_now=case.status,
        )


def _case_in(session: Session, identity_id: str, statuses: Sequence[str]) -> bool:
    found = session.scalar(
        select(LossCase.id)
        .where(LossCase.identity_id == identity_id, LossCase.status.in_(statuses))
        .limit(1)
    )
    return found is not None


def open_case_exists(session: Session, identity_id: str) -> bool:
    """LOSS-1: a case is open until its permanent replacement."""
    return _case_in(session, identity_id, OPEN)


def signing_blocked(session: Session, identity_id: str) -> bool:
    """LOSS-1: signing is suspended from the report until a temporary credential is issued
    (LOSS-2) or the case is replaced; with a temporary credential it needs that credential."""
    return _case_in(session, identity_id, ("deauthorized", "verified"))


def temporary_issued(session: Session, identity_id: str) -> bool:
    """LOSS-2: a temporary credential stands in for the lost one until the replacement."""
    return _case_in(session, identity_id, ("temporary-issued",))


def digest(code: str) -> str:
    """A temporary code is kept only as its SHA-256 (LOSS-2): random, so no slow hash needed."""
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


def temporary_case(session: Session, identity_id: str, code: object) -> LossCase | None:
    """The identity's issued temporary credential that `code` matches, locked, or None."""
    cases = session.scalars(
        select(LossCase)
        .where(LossCase.identity_id == identity_id, LossCase.status == "temporary-issued")
        .order_by(LossCase.reported_at)
        .with_for_update()
    ).all()
    given = digest(code if isinstance(code, str) and 0 < len(code) <= MAX_CODE else "")
    return next(
        (c for c in cases if hmac.compare_digest(c.temporary_secret_hash or "", given)), None
    )


def temporary_refusal(case: LossCase | None, now: datetime) -> str | None:
    """Why the temporary credential cannot be used now (LOSS-2: short validity, few uses)."""
    if case is None:
        return "no-match"
    if case.temporary_expires_at is None or now >= case.temporary_expires_at:
        return "expired"
    if not case.temporary_uses_left or case.temporary_uses_left <= 0:
        return "exhausted"
    return None


def revoke_signing_sessions(session: Session, identity_id: str, now: datetime) -> int:
    """LOSS-1: every unrevoked signing session of the owner ends with reason loss-report."""
    return end_signing_sessions(session, identity_id, now, "loss-report")
