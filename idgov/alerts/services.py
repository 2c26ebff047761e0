"""AlertService: security officers list alerts, acknowledge them and re-notify, audited
(ALERT-1)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Select, case, func, select, update
from sqlalchemy.orm import Session, aliased

from idgov.alerts.messages import NOTICE
from idgov.alerts.models import Alert, AlertDelivery
from idgov.alerts.outbox import AlertOutbox
from idgov.audit.context import Target
from idgov.audit.trail import AuditTrail
from idgov.clock import Clock
from idgov.errors import Conflict, Forbidden, InvalidRequest, NotFound
from idgov.identity.models import Identity, IdentityStatus, Role
from idgov.identity.services import IdentityService

AlertStatus = Literal["open", "acknowledged", "all"]
STATUSES: tuple[str, ...] = ("open", "acknowledged", "all")
MAX_NOTE = 1000
MAX_LIMIT = 1000
# The queue's order when urgent first: known severities by rank, anything else after them.
SEVERITY_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3, NOTICE: 4}


@dataclass(frozen=True, slots=True)
class AlertListing:
    """One alert as a security officer sees it, with its delivery progress."""

    alert: Alert
    username: str | None  # the identity the alert is about, if any
    acknowledged_by: str | None  # the officer's username
    delivered: int
    pending: int


class AlertService:
    def __init__(
        self, clock: Clock, trail: AuditTrail, identities: IdentityService, outbox: AlertOutbox
    ) -> None:
        self._clock = clock
        self._trail = trail
        self._identities = identities
        self._outbox = outbox

    def list(
        self,
        session: Session,
        status: AlertStatus = "open",
        limit: int = 100,
        *,
        urgent_first: bool = False,
    ) -> Sequence[AlertListing]:
        """Newest first (most severe first, then newest, with `urgent_first`). `open`:
        unacknowledged alerts (notices, severity info, need no acknowledgement and are left
        out); `acknowledged`: the handled ones; `all`: everything. `delivered` and `pending`
        count the delivery rows of every notification round."""
        if status not in STATUSES:
            raise InvalidRequest(f"status must be one of {', '.join(STATUSES)}", field="status")
        if not 1 <= limit <= MAX_LIMIT:
            raise InvalidRequest(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
        query = _listing_query().limit(limit)
        if urgent_first:
            rank = case(SEVERITY_RANK, value=Alert.severity, else_=len(SEVERITY_RANK))
            query = query.order_by(None).order_by(rank, Alert.raised_at.desc(), Alert.id)
        if status == "open":
            query = query.where(Alert.acknowledged_at.is_(None), Alert.severity != NOTICE)
        elif status == "acknowledged":
            query = query.where(Alert.acknowledged_at.is_not(None))
        return _listings(session, query)

    def listing(self, session: Session, alert_id: str) -> AlertListing:
        """One alert as `list` shows it."""
        found = _listings(session, _listing_query().where(Alert.id == alert_id))
        if not found:
            raise NotFound(f"no alert {alert_id!r}", field="alert_id")
        return found[0]

    def open_count(self, session: Session) -> int:
        """How many alerts wait for a security officer (the `open` list's rows, uncapped)."""
        query = select(func.count()).select_from(Alert)
        query = query.where(Alert.acknowledged_at.is_(None), Alert.severity != NOTICE)
        return int(session.scalar(query) or 0)

    def deliveries(self, session: Session, alert_id: str) -> Sequence[AlertDelivery]:
        """Every delivery row of the alert: newest round first, then channel and recipient.
        Recipients are stored whole; show a webhook's with `delivery.shown_recipient`."""
        self.get(session, alert_id)
        return session.scalars(
            select(AlertDelivery)
            .where(AlertDelivery.alert_id == alert_id)
            .order_by(AlertDelivery.round.desc(), AlertDelivery.channel, AlertDelivery.recipient)
        ).all()

    def get(self, session: Session, alert_id: str) -> Alert:
        alert = session.get(Alert, alert_id)
        if alert is None:
            raise NotFound(f"no alert {alert_id!r}", field="alert_id")
        return alert

    def acknowledge(self, session: Session, alert_id: str, officer: Identity, note: str) -> Alert:
        """Only an active security officer acknowledges, with a note (audited as
        `alert:<kind>:acknowledged`), never an alert about themself (Forbidden, audited as
        `alert:acknowledgement:refused`); re-notification stops. A second acknowledgement is a
        Conflict, also when two officers acknowledge at the same moment."""
        self._check_officer(session, officer, "acknowledge an alert")
        if not isinstance(note, str) or not note.strip():
            raise InvalidRequest("a note is required to acknowledge an alert", field="note")
        if len(note) > MAX_NOTE:
            raise InvalidRequest(f"note is longer than {MAX_NOTE} characters", field="note")
        alert = self.get(session, alert_id)
        if alert.identity_id == officer.id:
            # 11.10(g), 11.300(d): the person an alert is about cannot close it; another
            # security officer must look at it. The refused attempt is audited (ACC-2).
            self._trail.record(
                session,
                "alert:acknowledgement:refused",
                Target("alert", alert.id),
                new={"officer_username": officer.username, "refusal": "own-alert"},
                reason="an alert about the officer themself",
            )
            raise Forbidden(
                "an alert about you must be acknowledged by another security officer",
                field="alert_id",
                recorded=True,
            )
        now = self._clock.now()
        # One conditional UPDATE: of two concurrent acknowledgements exactly one wins.
        taken = session.execute(
            update(Alert)
            .where(Alert.id == alert.id, Alert.acknowledged_at.is_(None))
            .values(acknowledged_at=now, acknowledged_by=officer.id)
            .execution_options(synchronize_session=False)
        )
        if not taken.rowcount:  # type: ignore[attr-defined]
            raise Conflict(f"alert {alert.id} is already acknowledged", field="alert_id")
        session.refresh(alert)
        self._trail.record(
            session,
            f"alert:{alert.kind}:acknowledged",
            Target("alert", alert.id),
            old={"acknowledged_at": None},
            new={
                "acknowledged_by": officer.id,
                "officer_username": officer.username,
                "notification": alert.notify_round,
            },
            reason=note.strip(),
        )
        return alert

    def renotify(self, session: Session, alert_id: str, officer: Identity, reason: str) -> Alert:
        """An active security officer starts the alert's next notification round now, with a
        reason (audited as `alert:<kind>:renotified`, ALERT-1): every recipient is told
        again, and rounds still pending are superseded as the worker's re-notification does.
        An acknowledged alert or a notice is a Conflict: nobody waits for it."""
        self._check_officer(session, officer, "re-notify an alert")
        if not isinstance(reason, str) or not reason.strip():
            raise InvalidRequest("a reason is required to re-notify", field="reason")
        if len(reason) > MAX_NOTE:
            raise InvalidRequest(f"reason is longer than {MAX_NOTE} characters", field="reason")
        alert = self.get(session, alert_id)
        # Row lock (PostgreSQL), then the checks: the worker's re-notification skips a locked
        # alert, so the two never open the same round twice, and an acknowledgement that
        # landed meanwhile is seen.
        session.refresh(alert, with_for_update=True)
        if alert.acknowledged_at is not None or alert.severity == NOTICE:
            what = "a notice" if alert.severity == NOTICE else "already acknowledged"
            raise Conflict(f"alert {alert.id} is {what}: nobody is waiting", field="alert_id")
        superseded = self._outbox.next_round(session, alert)
        self._trail.record(
            session,
            f"alert:{alert.kind}:renotified",
            Target("alert", alert.id),
            new={
                "notification": alert.notify_round,
                "superseded_deliveries": superseded,
                "officer_username": officer.username,
            },
            reason=reason.strip(),
        )
        return alert

    def _check_officer(self, session: Session, officer: Identity, action: str) -> None:
        """ACC-2: only an active security officer handles alerts."""
        if Role.SECURITY_OFFICER not in self._identities.roles(session, officer.id):
            raise Forbidden(f"only a security officer may {action}")
        if officer.status != IdentityStatus.ACTIVE:
            raise Forbidden(f"officer {officer.username} is {officer.status}, not active")


def _listing_query() -> Select[Alert, str, str, int, int]:
    subject, officer = aliased(Identity), aliased(Identity)
    delivered = func.count(case((AlertDelivery.status == "delivered", 1)))
    pending = func.count(case((AlertDelivery.status == "pending", 1)))
    return (
        select(Alert, subject.username, officer.username, delivered, pending)
        .outerjoin(subject, subject.id == Alert.identity_id)
        .outerjoin(officer, officer.id == Alert.acknowledged_by)
        .outerjoin(AlertDelivery, AlertDelivery.alert_id == Alert.id)
        .group_by(Alert.id, subject.username, officer.username)
        .order_by(Alert.raised_at.desc(), Alert.id)
    )


def _listings(session: Session, query: Select[Alert, str, str, int, int]) -> list[AlertListing]:
    return [
        AlertListing(alert, username, acknowledged_by, int(done), int(waiting))
        for alert, username, acknowledged_by, done, waiting in session.execute(query)
    ]
