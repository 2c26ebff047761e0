"""GrantLedger: make the recorded holders of a set of entitlements match what a source says."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from idgov.audit.context import Target
from idgov.audit.trail import AuditTrail, PendingEvent
from idgov.db import chunked
from idgov.entitlements.models import EntitlementGrant

Holder = tuple[str | None, str | None]  # (identity id or None for an orphan, via)
GrantKey = tuple[str, str]  # (entitlement id, account)
END_GRANTS = (
    update(EntitlementGrant)
    .where(EntitlementGrant.id == bindparam("grant_id"))
    .values(removed_at=bindparam("ended_at"), removed_by=bindparam("ended_by"))
)
MOVE_GRANTS = (
    update(EntitlementGrant)
    .where(EntitlementGrant.id == bindparam("grant_id"))
    .values(identity_id=bindparam("new_identity"), via=bindparam("new_via"))
)


@dataclass
class GrantReport:
    granted: int = 0
    removed: int = 0
    changed: int = 0


class GrantLedger:
    def __init__(self, trail: AuditTrail) -> None:
        self._trail = trail

    def reconcile(
        self,
        session: Session,
        scope: Collection[str],
        wanted: Mapping[GrantKey, Holder],
        names: Mapping[str, str],
        now: datetime,
        source: str,
    ) -> GrantReport:
        """Within the entitlements in `scope`, end the grants the source no longer lists,
        add the new ones, and re-link those whose identity or path changed. Each identity
        whose holdings changed gets one audit event with its holdings before and after;
        orphan accounts (no identity) one event per entitlement. Ended grants stay (REC-1)."""
        current = _current(session, scope)
        report = GrantReport()
        ended = [key for key in current if key not in wanted]
        added = [key for key in wanted if key not in current]
        moved = [
            key for key, holder in wanted.items() if key in current and current[key][1:] != holder
        ]
        if ended:
            session.connection().execute(
                END_GRANTS,
                [{"grant_id": current[k][0], "ended_at": now, "ended_by": "source"} for k in ended],
            )
        if added:
            session.execute(
                insert(EntitlementGrant).execution_options(render_nulls=True),
                [
                    {
                        "entitlement_id": key[0],
                        "account": key[1],
                        "identity_id": wanted[key][0],
                        "via": wanted[key][1],
                        "granted_at": now,
                        "removed_at": None,
                        "removed_by": None,
                    }
                    for key in added
                ],
            )
        if moved:
            session.connection().execute(
                MOVE_GRANTS,
                [
                    {
                        "grant_id": current[k][0],
                        "new_identity": wanted[k][0],
                        "new_via": wanted[k][1],
                    }
                    for k in moved
                ],
            )
        report.granted, report.removed, report.changed = len(added), len(ended), len(moved)
        before = {key: value[1:] for key, value in current.items()}
        self._trail.record_many(
            session, _events(before, wanted, {*ended, *added, *moved}, names, source)
        )
        return report


def _current(session: Session, scope: Collection[str]) -> dict[GrantKey, tuple[Any, ...]]:
    found: dict[GrantKey, tuple[Any, ...]] = {}
    ids = list(scope)
    for batch in chunked(ids):
        rows = session.execute(
            select(
                EntitlementGrant.id,
                EntitlementGrant.entitlement_id,
                EntitlementGrant.account,
                EntitlementGrant.identity_id,
                EntitlementGrant.via,
            ).where(
                EntitlementGrant.entitlement_id.in_(batch),
                EntitlementGrant.removed_at.is_(None),
            )
        )
        for row in rows:
            found[(row.entitlement_id, row.account)] = (row.id, row.identity_id, row.via)
    return found


def _events(
    before: Mapping[GrantKey, tuple[Any, ...]],
    after: Mapping[GrantKey, Holder],
    touched: Iterable[GrantKey],
    names: Mapping[str, str],
    source: str,
) -> list[PendingEvent]:
    people: set[str] = set()
    orphans: set[str] = set()
    for key in touched:
        for holder in (before.get(key), after.get(key)):
            if holder is None:
                continue
            if holder[0] is None:
                orphans.add(key[0])
            else:
                people.add(holder[0])
    held_before = _by_identity(before, names, people)
    held_after = _by_identity(after, names, people)
    orphans_before, orphans_after = _orphans(before), _orphans(after)
    events = [
        PendingEvent(
            "entitlement:grants:changed",
            Target("identity", identity_id),
            old={"source": source, "entitlements": held_before.get(identity_id, [])},
            new={"source": source, "entitlements": held_after.get(identity_id, [])},
            reason=f"as {source} lists them",
        )
        for identity_id in sorted(people)
    ]
    for entitlement_id in sorted(orphans):
        events.append(
            PendingEvent(
                "entitlement:orphans:changed",
                Target("entitlement", entitlement_id),
                old={"accounts": sorted(orphans_before.get(entitlement_id, []))},
                new={"accounts": sorted(orphans_after.get(entitlement_id, []))},
                reason=f"accounts in {source} that match no identity",
            )
        )
    return events


def _by_identity(
    grants: Mapping[GrantKey, tuple[Any, ...]], names: Mapping[str, str], people: set[str]
) -> dict[str, list[str]]:
    """The holdings of the identities in `people` (only those whose holdings changed)."""
    held: dict[str, list[str]] = defaultdict(list)
    for (entitlement_id, _account), holder in grants.items():
        if holder[0] in people:
            via = f" (via {holder[1]})" if holder[1] else ""
            held[holder[0]].append(names.get(entitlement_id, entitlement_id) + via)
    return {identity: sorted(values) for identity, values in held.items()}


def _orphans(grants: Mapping[GrantKey, tuple[Any, ...]]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = defaultdict(list)
    for (entitlement_id, account), holder in grants.items():
        if holder[0] is None:
            found[entitlement_id].append(account)
    return found
