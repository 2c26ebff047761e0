"""TokenService: TOTP enrollment with an initial test, periodic tests, suspension (TOK-1)."""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, NamedTuple

import segno
from sqlalchemy import select
from sqlalchemy.orm import Session

from idgov.alerts.outbox import AlertOutbox
from idgov.audit.context import Target
from idgov.audit.trail import AuditTrail
from idgov.clock import Clock, iso_utc
from idgov.errors import Conflict, NotFound, RecordedRefusal, UnprocessableRequest
from idgov.identity.models import Identity
from idgov.identity.notices import CredentialNotices
from idgov.policies.documents import TokenPolicy
from idgov.policies.store import PolicyStore
from idgov.tokens.codes import CodeCheck, check_code, new_secret, otpauth_uri
from idgov.tokens.models import OtpToken, TokenTest
from idgov.tokens.secrets import SecretBox

ENROLL_WINDOW = timedelta(hours=1)  # an enrollment not proven within this is abandoned
MAX_LABEL = 64
MAX_OPEN_TOKENS = 10  # active, suspended and fresh enrolling tokens of one identity
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
OPEN_STATES = ("enrolling", "active", "suspended")


class CodeRefused(RecordedRefusal):
    """A wrong, reused or out-of-window code at enrollment: the attempt stays recorded."""

    type_slug = "invalid-request"
    title = "Invalid request"
    status = 422


class Enrollment(NamedTuple):
    token: OtpToken
    otpauth_uri: str  # holds the secret: shown once, never stored in clear or returned again
    qr_svg: str


@dataclass(frozen=True)
class TokenTestOutcome:
    token: OtpToken
    result: Literal["pass", "fail"]
    drift: int | None
    suspended: bool  # this test suspended the token


def overdue(token: OtpToken, now: datetime) -> bool:
    """TOK-1: an active token whose periodic test is due cannot sign until it passes one."""
    return token.test_due_at is not None and token.test_due_at <= now


class TokenService:
    def __init__(
        self,
        clock: Clock,
        trail: AuditTrail,
        policies: PolicyStore,
        alerts: AlertOutbox,
        secret_box: SecretBox,
        notices: CredentialNotices | None = None,
    ) -> None:
        self._clock = clock
        self._trail = trail
        self._policies = policies
        self._alerts = alerts
        self._box = secret_box
        self._notices = notices  # the owner is told of every new credential (CMP-2)

    def begin_enrollment(self, session: Session, identity: Identity, label: str) -> Enrollment:
        """A new token in `enrolling`, its otpauth URI and QR code (SVG); it becomes usable
        only after `complete_enrollment` proves possession (the initial test, TOK-1)."""
        label = _label(label)
        now = self._clock.now()
        if self._open_count(session, identity.id, now) >= MAX_OPEN_TOKENS:
            raise Conflict(f"at most {MAX_OPEN_TOKENS} tokens per identity", reason="too-many")
        secret, token_id = new_secret(), str(uuid.uuid4())
        token = OtpToken(
            id=token_id,
            identity_id=identity.id,
            label=label,
            serial="TOTP-" + secrets.token_hex(4).upper(),
            secret=self._box.seal(secret, token_id),
            status="enrolling",
            created_at=now,
            failed_tests=0,
            status_changed_at=now,
        )
        session.add(token)
        self._audit(session, token, "enrollment-started", None, {"label": label})
        uri = otpauth_uri(secret, identity.username)
        return Enrollment(token, uri, segno.make(uri, error="m").svg_inline(scale=4))

    def complete_enrollment(
        self, session: Session, identity: Identity, token_id: str, code: str
    ) -> OtpToken:
        """The initial test: a valid code activates the token and starts its test interval.
        A wrong code is recorded (422) and the token stays enrolling."""
        token = self._own(session, identity, token_id)
        if token.status != "enrolling":
            raise Conflict(f"token {token.serial} is {token.status}, not enrolling")
        now = self._clock.now()
        if now - token.created_at > ENROLL_WINDOW:
            raise Conflict(
                "this enrollment was not completed within an hour: start a new one",
                reason="enrollment-expired",
            )
        check = self._check(session, token, code)
        self._record_test(session, token, "initial", check)
        if not check.ok:
            self._audit(session, token, "activation-refused", None, {"result": check.verdict})
            raise CodeRefused(_refusal(check), field="code", reason=f"code-{check.verdict}")
        token.status, token.activated_at, token.status_changed_at = "active", now, now
        self._passed(token, now, session)
        self._audit(
            session,
            token,
            "activated",
            {"status": "enrolling"},
            {"status": "active", "drift_steps": check.drift, "test_due_at": _iso(token)},
        )
        if self._notices is not None:
            self._notices.tell(
                session,
                identity,
                "A one-time-code token was enrolled for you",
                {"what": f"Token {token.serial} ({token.label}) is now active for signing."},
            )
        return token

    def verify_code(self, session: Session, token: OtpToken, code: str) -> tuple[bool, int | None]:
        """RFC 6238 check of one code for one token; an accepted code's step is kept, so the
        same code (or an older one) is never accepted again. Lock the token row first."""
        check = self._check(session, token, code)
        return check.ok, check.drift

    def test(
        self, session: Session, identity: Identity, token_id: str, code: str
    ) -> TokenTestOutcome:
        """TOK-1 periodic test: a pass moves the due date; each fail counts, and at the
        policy's threshold the token is suspended and security alerted. Both are kept."""
        token = self._own(session, identity, token_id)
        if token.status != "active":
            raise Conflict(f"token {token.serial} is {token.status}: it cannot be tested")
        now, policy = self._clock.now(), self._policies.current(session, TokenPolicy)
        before = {"failed_tests": token.failed_tests, "test_due_at": _iso(token)}
        check = self._check(session, token, code)
        self._record_test(session, token, "periodic", check)
        suspended = False
        if check.ok:
            self._passed(token, now, session)
        else:
            token.failed_tests += 1
            suspended = token.failed_tests >= policy.failed_tests_to_suspend
        result: Literal["pass", "fail"] = "pass" if check.ok else "fail"
        after = {"result": result, "drift_steps": check.drift, "failed_tests": token.failed_tests}
        self._audit(session, token, "tested", before, {**after, "test_due_at": _iso(token)})
        if suspended:
            self._suspend(session, identity, token)
        return TokenTestOutcome(token, result, check.drift, suspended)

    def list_tokens(self, session: Session, identity: Identity) -> list[OtpToken]:
        return list(
            session.scalars(
                select(OtpToken)
                .where(OtpToken.identity_id == identity.id)
                .order_by(OtpToken.created_at, OtpToken.serial)
            )
        )

    def tests_of(self, session: Session, token: OtpToken) -> list[TokenTest]:
        return list(
            session.scalars(
                select(TokenTest).where(TokenTest.token_id == token.id).order_by(TokenTest.id)
            )
        )

    def _check(self, session: Session, token: OtpToken, code: str) -> CodeCheck:
        policy = self._policies.current(session, TokenPolicy)
        secret = self._box.open(token.secret, token.id)
        check = check_code(secret, code, self._clock.now(), policy.drift_steps, token.last_step)
        if check.ok:
            token.last_step = check.step
        return check

    def _passed(self, token: OtpToken, now: datetime, session: Session) -> None:
        interval = self._policies.current(session, TokenPolicy).test_interval_days
        token.last_tested_at, token.test_due_at = now, now + timedelta(days=interval)
        token.failed_tests, token.reminded_at = 0, None  # the next due date gets its reminder

    def _record_test(self, session: Session, token: OtpToken, kind: str, check: CodeCheck) -> None:
        result = "pass" if check.ok else "fail"
        session.add(
            TokenTest(
                token_id=token.id,
                tested_at=self._clock.now(),
                kind=kind,
                result=result,
                drift_steps=check.drift,
            )
        )

    def _suspend(self, session: Session, identity: Identity, token: OtpToken) -> None:
        now, count = self._clock.now(), token.failed_tests
        token.status, token.status_changed_at = "suspended", now
        token.status_reason = f"{count} consecutive failed periodic tests"
        self._audit(session, token, "suspended", {"status": "active"}, {"status": "suspended"})
        self._alerts.raise_alert(
            session,
            "token-suspended",
            f"Token {token.serial} of {identity.printed_name} ({identity.username}) suspended "
            f"after {count} failed tests",
            {
                "who": {"username": identity.username, "printed_name": identity.printed_name},
                "what": "A TOTP token failed its periodic test repeatedly and is suspended "
                "(TOK-1); its owner cannot sign with it.",
                "token": {"serial": token.serial, "label": token.label},
                "when": iso_utc(now),
                "failed_tests": count,
                "next_step": "Contact the person through a known channel. If the token may be "
                "lost or copied, record a loss report and issue a replacement.",
            },
            identity=identity,
        )

    def _own(self, session: Session, identity: Identity, token_id: str) -> OtpToken:
        """The person's own token, row-locked; another person's answers like a missing one."""
        token = session.get(OtpToken, token_id, with_for_update=True)
        if token is None or token.identity_id != identity.id:
            raise NotFound("no such token of yours")
        return token

    def _open_count(self, session: Session, identity_id: str, now: datetime) -> int:
        rows = session.scalars(
            select(OtpToken).where(
                OtpToken.identity_id == identity_id, OtpToken.status.in_(OPEN_STATES)
            )
        )
        return sum(
            1 for t in rows if t.status != "enrolling" or now - t.created_at <= ENROLL_WINDOW
        )

    def _audit(
        self,
        session: Session,
        token: OtpToken,
        action: str,
        old: Mapping[str, object] | None,
        new: Mapping[str, object],
    ) -> None:
        """AUD-1; never the secret (the named secret fields are redacted too: audit/canonical)."""
        described = {"serial": token.serial, "identity_id": token.identity_id, **new}
        self._trail.record(
            session, f"token:totp:{action}", Target("token", token.id), old=old, new=described
        )


def _label(label: str) -> str:
    cleaned = label.strip() if isinstance(label, str) else ""
    if not cleaned or len(cleaned) > MAX_LABEL or CONTROL.search(cleaned):
        raise UnprocessableRequest(
            f"label must be 1 to {MAX_LABEL} printable characters", field="label"
        )
    return cleaned


def _iso(token: OtpToken) -> str | None:
    return iso_utc(token.test_due_at) if token.test_due_at else None


def _refusal(check: CodeCheck) -> str:
    if check.verdict == "replayed":
        return "this code was already used: wait for the next one"
    return "the code is not right: check the token's clock and try the current code"
