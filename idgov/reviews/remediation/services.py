"""RemediationService: carry out signed revocations and verify them (REV-4)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from idgov.audit.context import Target
from idgov.audit.models import AuditEvent
from idgov.audit.trail import AuditTrail
from idgov.clients.models import HostClient
from idgov.clock import Clock
from idgov.db import chunked, transaction
from idgov.entitlements.models import EntitlementGrant
from idgov.errors import Conflict, IdgovError, InvalidRequest, NotFound
from idgov.providers.directory.models import DirectoryAccount
from idgov.providers.directory.writeback import WRITE_BACK, GroupWriteBack
from idgov.reviews.models import Campaign, Remediation, ReviewItem
from idgov.reviews.remediation import host_revocations as hosts
from idgov.reviews.remediation.host_revocations import Revocation

DIRECTORY_KIND = "directory-group"
DEFERRED = "review:remediation:deferred"
REOPENED = "review:remediation:reopened"
FIRST_RETRY = timedelta(minutes=1)  # doubled per failed attempt, up to MAX_RETRY
MAX_RETRY = timedelta(hours=1)
PER_RUN = 500  # a run stays well inside the job's lease; the rest waits for the next tick
MAX_REASON = 500


@dataclass(frozen=True)
class _Due:
    id: int
    item_id: int
    entitlement_id: str
    account: str
    entitlement_name: str
    campaign_id: str
    campaign_name: str
    identity_id: str | None = None  # the holder: found again under a new DN after a rename


class RemediationService:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        clock: Clock,
        trail: AuditTrail,
        write_back: GroupWriteBack,
    ) -> None:
        self._session_factory = session_factory
        self._clock = clock
        self._trail = trail
        self._write_back = write_back

    def carry_out_due(self) -> int:
        """Worker job (REV-4): each open directory-group revocation not deferred recently is
        removed through the group write-back and read back; the number verified. An
        unreachable directory leaves it open with `last_error`, retried after a backoff
        (1 minute, doubling, at most an hour); a removal a person must make (nested
        membership, write-back off, the directory refused) marks it failed. Each outcome is
        audited; no transaction is open while the directory is asked."""
        with self._session_factory() as session:
            due = self._due(session, self._clock.now())
        return sum(self._carry_out(item) for item in due)

    def revocations(
        self,
        session: Session,
        client: HostClient,
        system: str,
        status: str | None = "open",
        after: int = 0,
        limit: int = 500,
    ) -> list[Revocation]:
        """The host's own role revocations (status None: all), in id order after `after`.
        Another system's name is NotFound; a revocation stays listed as open until a
        snapshot verifies it (REV-4)."""
        name = hosts.host_system(session, self._trail, client, system)
        if status is not None and status not in hosts.STATUSES:
            raise InvalidRequest(f"status: one of {', '.join(hosts.STATUSES)}", field="status")
        return hosts.revocations_of(session, name, status, after, limit)

    def confirm_done(
        self,
        session: Session,
        client: HostClient,
        system: str,
        remediation_id: int,
        note: str | None,
    ) -> Revocation:
        """The host removed the role: the revocation becomes done (audited), verified by the
        next snapshot without it. Repeating it changes nothing; another system's id is
        NotFound; a verified one is a Conflict."""
        name = hosts.host_system(session, self._trail, client, system, lock=True)
        now = self._clock.now()
        return hosts.confirm(session, self._trail, client, name, remediation_id, note, now)

    def open_count(self, session: Session, campaign_id: str) -> int:
        """Revocations of the campaign not verified yet (open, done or failed)."""
        count = session.scalar(
            select(func.count(Remediation.id)).where(
                Remediation.campaign_id == campaign_id, Remediation.status != "verified"
            )
        )
        return int(count or 0)

    def retry(self, session: Session, remediation_id: int, reason: str) -> Remediation:
        """An administrator fixed what made a revocation fail: failed becomes open and is
        tried on the next run, audited with the reason. Anything but failed is a Conflict."""
        reason = (reason or "").strip()
        if not reason or len(reason) > MAX_REASON:
            raise InvalidRequest(f"reason: 1 to {MAX_REASON} characters", field="reason")
        found = session.scalars(
            select(Remediation).where(Remediation.id == remediation_id).with_for_update()
        ).first()
        if found is None:
            raise NotFound(f"no remediation {remediation_id}", field="remediation_id")
        if found.status != "failed":
            raise Conflict(
                f"remediation {found.id} is {found.status}; only a failed one is retried"
            )
        old = {"status": found.status, "last_error": found.last_error}
        found.status = "open"
        self._trail.record(
            session,
            REOPENED,
            Target("review-remediation", str(found.id)),
            old=old,
            new={"status": "open"},
            reason=reason,
        )
        session.flush()
        return found

    def _carry_out(self, item: _Due) -> int:
        """One directory revocation: 1 when verified, else 0 (deferred or failed)."""
        with self._session_factory() as session:
            grant_id, ended_by = _current_grant(session, item)
        if grant_id is None:
            # Nothing mirrored is left to remove (an earlier run, or the directory changed):
            # verified only when a fresh read of the group lists neither the account nor the
            # person under their current DN.
            return self._confirm_absent(item, ended_by)
        reason = (
            f"access review {item.campaign_name} ({item.campaign_id}), item {item.item_id}: "
            f"revoke {item.entitlement_name} from {item.account}"
        )
        try:
            self._write_back.remove(grant_id, reason)
        except (Conflict, NotFound) as exc:
            return self._finish(item, "failed", by=None, error=exc.detail)
        except IdgovError as exc:  # unreachable, not verified, or unforeseen: try again later
            return self._finish(item, "open", by=None, error=exc.detail)
        return self._finish(item, "verified", by="read-back", error=None)

    def _confirm_absent(self, item: _Due, ended_by: str | None) -> int:
        with self._session_factory() as session:
            keys = _holder_keys(session, item)
        try:
            still = self._write_back.listed(item.entitlement_id, {item.account}, keys)
        except (Conflict, NotFound) as exc:
            return self._finish(item, "failed", by=None, error=exc.detail)
        except IdgovError as exc:
            return self._finish(item, "open", by=None, error=exc.detail)
        if still:
            error = (
                f"the directory still lists {', '.join(sorted(still))} in {item.entitlement_name}"
                " but idgov has no membership of theirs to remove (an entry it cannot use?): "
                "remove it in the directory, then retry"
            )
            return self._finish(item, "failed", by=None, error=error)
        by = "read-back" if ended_by == WRITE_BACK else "read-back-after-sync"
        return self._finish(item, "verified", by=by, error=None)

    def _finish(self, item: _Due, status: str, *, by: str | None, error: str | None) -> int:
        """Record one attempt's outcome (REV-4), if the revocation is still open."""
        now = self._clock.now()
        with transaction(self._session_factory) as session:
            found = session.scalars(
                select(Remediation)
                .where(Remediation.id == item.id, Remediation.status == "open")
                .with_for_update()
            ).first()
            if found is None:
                return 0
            old = {"status": "open", "attempts": found.attempts, "last_error": found.last_error}
            found.attempts += 1
            found.status, found.last_error = status, error
            if status == "verified":
                found.done_at, found.verified_at, found.verified_by = now, now, by
            action = {"verified": "verified", "open": "deferred", "failed": "failed"}[status]
            self._trail.record(
                session,
                f"review:remediation:{action}",
                Target("review-remediation", str(item.id)),
                old=old,
                new={
                    "status": status,
                    "attempts": found.attempts,
                    "last_error": error,
                    "verified_by": by,
                },
                reason=_outcome(status, item),
            )
        return 1 if status == "verified" else 0

    def _due(self, session: Session, now: datetime) -> list[_Due]:
        rows = session.execute(
            select(
                Remediation.id,
                Remediation.attempts,
                ReviewItem.id.label("item_id"),
                ReviewItem.entitlement_id,
                ReviewItem.account,
                ReviewItem.entitlement_name,
                Campaign.id.label("campaign_id"),
                Campaign.name.label("campaign_name"),
                ReviewItem.identity_id,
            )
            .join(ReviewItem, ReviewItem.id == Remediation.item_id)
            .join(Campaign, Campaign.id == Remediation.campaign_id)
            .where(Remediation.kind == DIRECTORY_KIND, Remediation.status == "open")
            .order_by(Remediation.id)
        ).all()
        waiting = self._waiting(
            session, {row.id: row.attempts for row in rows if row.attempts}, now
        )
        due = [row for row in rows if row.id not in waiting][:PER_RUN]
        return [
            _Due(
                r.id,
                r.item_id,
                r.entitlement_id,
                r.account,
                r.entitlement_name,
                r.campaign_id,
                r.campaign_name,
                r.identity_id,
            )
            for r in due
        ]

    def _waiting(self, session: Session, attempts: dict[int, int], now: datetime) -> set[int]:
        """Ids deferred too recently: the last deferral (an audit event; the table has no
        column for it) plus the backoff is still ahead, and no retry was asked since."""
        ids = list(attempts)
        last: dict[tuple[str, str], tuple[int, datetime]] = {}
        for batch in chunked(ids):
            found = session.execute(
                select(
                    AuditEvent.target_id,
                    AuditEvent.action,
                    func.max(AuditEvent.seq),
                    func.max(AuditEvent.occurred_at),
                )
                .where(
                    AuditEvent.target_type == "review-remediation",
                    AuditEvent.target_id.in_([str(i) for i in batch]),
                    AuditEvent.action.in_((DEFERRED, REOPENED)),
                )
                .group_by(AuditEvent.target_id, AuditEvent.action)
            )
            for target_id, action, seq, at in found:
                last[(target_id, action)] = (seq, at)
        waiting = set()
        for remediation_id in ids:
            deferred = last.get((str(remediation_id), DEFERRED))
            reopened = last.get((str(remediation_id), REOPENED))
            if deferred is None or (reopened is not None and reopened[0] > deferred[0]):
                continue
            backoff = min(FIRST_RETRY * 2 ** max(attempts[remediation_id] - 1, 0), MAX_RETRY)
            if now < deferred[1] + backoff:
                waiting.add(remediation_id)
        return waiting


def _current_grant(session: Session, item: _Due) -> tuple[int | None, str | None]:
    """The membership to remove now (the item's, or the one a later sync recorded for the
    same account and group, or for the same person under another account: a renamed or
    moved entry keeps its group), else None and how the last one ended. A revocation is
    verified only when neither the account nor the person holds the group any more."""
    current = session.scalar(
        select(EntitlementGrant.id).where(
            EntitlementGrant.entitlement_id == item.entitlement_id,
            EntitlementGrant.account == item.account,
            EntitlementGrant.removed_at.is_(None),
        )
    )
    if current is None and item.identity_id is not None:
        current = session.scalar(
            select(EntitlementGrant.id)
            .where(
                EntitlementGrant.entitlement_id == item.entitlement_id,
                EntitlementGrant.identity_id == item.identity_id,
                EntitlementGrant.removed_at.is_(None),
                EntitlementGrant.via.is_(None),
            )
            .limit(1)
        )
    if current is not None:
        return current, None
    ended_by = session.scalar(
        select(EntitlementGrant.removed_by)
        .where(
            EntitlementGrant.entitlement_id == item.entitlement_id,
            EntitlementGrant.account == item.account,
        )
        .order_by(EntitlementGrant.removed_at.desc(), EntitlementGrant.id.desc())
        .limit(1)
    )
    return None, ended_by


def _holder_keys(session: Session, item: _Due) -> set[str]:
    """The immutable keys of the holder's directory accounts: the directory finds them under
    their current DN, renamed or not."""
    if item.identity_id is None:
        return set()
    return set(
        session.scalars(
            select(DirectoryAccount.key).where(DirectoryAccount.identity_id == item.identity_id)
        )
    )


def _outcome(status: str, item: _Due) -> str:
    what = f"{item.account} from {item.entitlement_name}"
    if status == "verified":
        return f"removed {what}; a read of the directory no longer lists it"
    if status == "open":
        return f"could not remove {what} now; tried again later"
    return f"could not remove {what}; a person must act (see last_error), then retry"
