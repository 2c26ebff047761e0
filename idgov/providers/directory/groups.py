"""GroupMirror: directory groups into entitlements, nested memberships into grants (REV-1)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from idgov.audit.context import Target
from idgov.audit.trail import AuditTrail, PendingEvent
from idgov.entitlements.grants import GrantKey, GrantLedger, GrantReport, Holder
from idgov.entitlements.models import DIRECTORY_GROUP, Entitlement
from idgov.providers.directory.attributes import DirectoryGroup
from idgov.providers.directory.memberships import effective_members
from idgov.providers.directory.models import LINKED, DirectoryAccount, DirectoryGroupEntry
from idgov.providers.directory.syntax import normalize_dn


@dataclass
class GroupReport:
    created: int = 0
    updated: int = 0
    removed: int = 0
    grants: GrantReport | None = None


class GroupMirror:
    def __init__(self, trail: AuditTrail, grants: GrantLedger) -> None:
        self._trail = trail
        self._grants = grants

    def apply(
        self,
        session: Session,
        provider: str,
        groups: list[DirectoryGroup],
        now: datetime,
        *,
        full: bool,
        keep: set[str] | None = None,
    ) -> GroupReport:
        """Mirror the groups read (all of them on a full sync, the changed ones otherwise),
        then recompute every membership, nested ones included, from the kept member lists
        and reconcile the grants. Groups a full sync no longer finds are marked removed."""
        report = GroupReport()
        entries = _entries(session, provider)
        accounts = _account_identities(session, provider)
        events: list[PendingEvent] = []
        seen = set()
        for group in groups:
            seen.add(group.key)
            entry = entries.get(group.key)
            owner = accounts.get(normalize_dn(group.owner_dn)) if group.owner_dn else None
            members = sorted({normalize_dn(dn) for dn in group.member_dns})
            if entry is None:
                entries[group.key] = self._create(session, provider, group, owner, members, now)
                events.append(_created_event(entries[group.key], group, owner, len(members)))
                report.created += 1
            elif self._update(session, entry, group, owner, members, now, events):
                report.updated += 1
        if full:
            for key, entry in entries.items():
                if key not in seen and key not in (keep or ()) and entry["gone_at"] is None:
                    self._remove(session, entry, now, events)
                    report.removed += 1
        self._trail.record_many(session, events)
        report.grants = self._reconcile(session, provider, entries, accounts, now)
        return report

    def _create(
        self,
        session: Session,
        provider: str,
        group: DirectoryGroup,
        owner: str | None,
        members: list[str],
        now: datetime,
    ) -> dict[str, Any]:
        entitlement_id = str(uuid.uuid4())
        session.execute(
            insert(Entitlement).values(
                id=entitlement_id,
                source_type=DIRECTORY_GROUP,
                source=provider,
                key=group.key,
                name=group.name,
                description=group.description,
                owner_id=owner,
                created_at=now,
                updated_at=now,
                removed_at=None,
            )
        )
        entry = {
            "provider": provider,
            "key": group.key,
            "entitlement_id": entitlement_id,
            "dn": group.dn,
            "dn_norm": normalize_dn(group.dn),
            "members": json.dumps(members),
            "modify_stamp": group.modify_stamp,
            "last_seen_at": now,
            "gone_at": None,
        }
        session.execute(insert(DirectoryGroupEntry).values(**entry))
        return {**entry, "name": group.name, "description": group.description, "owner_id": owner}

    def _update(
        self,
        session: Session,
        entry: dict[str, Any],
        group: DirectoryGroup,
        owner: str | None,
        members: list[str],
        now: datetime,
        events: list[PendingEvent],
    ) -> bool:
        wanted = {
            "name": group.name,
            "description": group.description,
            "owner_id": owner,
            "dn": group.dn,
        }
        old: dict[str, Any] = {k: entry[k] for k, v in wanted.items() if entry[k] != v}
        new: dict[str, Any] = {k: wanted[k] for k in old}
        if entry["gone_at"] is not None:
            old["removed"], new["removed"] = True, False
        packed = json.dumps(members)
        session.execute(
            update(DirectoryGroupEntry)
            .where(
                DirectoryGroupEntry.key == entry["key"],
                DirectoryGroupEntry.provider == entry["provider"],
            )
            .values(
                dn=group.dn,
                dn_norm=normalize_dn(group.dn),
                members=packed,
                modify_stamp=group.modify_stamp,
                last_seen_at=now,
                gone_at=None,
            )
        )
        entry.update(wanted, members=packed, dn_norm=normalize_dn(group.dn), gone_at=None)
        if not old:
            return False
        session.execute(
            update(Entitlement)
            .where(Entitlement.id == entry["entitlement_id"])
            .values(
                name=group.name,
                description=group.description,
                owner_id=owner,
                updated_at=now,
                removed_at=None,
            )
        )
        events.append(
            PendingEvent(
                "entitlement:group:updated",
                Target("entitlement", entry["entitlement_id"]),
                old=old,
                new=new,
                reason="directory sync",
            )
        )
        return True

    def _remove(
        self, session: Session, entry: dict[str, Any], now: datetime, events: list[PendingEvent]
    ) -> None:
        session.execute(
            update(DirectoryGroupEntry)
            .where(
                DirectoryGroupEntry.key == entry["key"],
                DirectoryGroupEntry.provider == entry["provider"],
            )
            .values(gone_at=now)
        )
        session.execute(
            update(Entitlement)
            .where(Entitlement.id == entry["entitlement_id"])
            .values(removed_at=now, updated_at=now)
        )
        entry["gone_at"] = now
        events.append(
            PendingEvent(
                "entitlement:group:removed",
                Target("entitlement", entry["entitlement_id"]),
                old={"name": entry["name"], "dn": entry["dn"]},
                reason="gone from the directory",
            )
        )

    def _reconcile(
        self,
        session: Session,
        provider: str,
        entries: dict[str, dict[str, Any]],
        accounts: dict[str, str],
        now: datetime,
    ) -> GrantReport:
        live = {e["dn_norm"]: e for e in entries.values() if e["gone_at"] is None}
        members = {dn: json.loads(e["members"]) for dn, e in live.items()}
        names = {dn: e["name"] for dn, e in live.items()}
        wanted: dict[GrantKey, Holder] = {}
        for group_dn, held in effective_members(members, names).items():
            entitlement_id = live[group_dn]["entitlement_id"]
            for account, via in held.items():
                wanted[(entitlement_id, account)] = (accounts.get(account), via)
        scope = [e["entitlement_id"] for e in entries.values()]
        labels = {e["entitlement_id"]: e["name"] for e in entries.values()}
        return self._grants.reconcile(session, scope, wanted, labels, now, provider)


def _entries(session: Session, provider: str) -> dict[str, dict[str, Any]]:
    rows = session.execute(
        select(
            DirectoryGroupEntry.provider,
            DirectoryGroupEntry.key,
            DirectoryGroupEntry.entitlement_id,
            DirectoryGroupEntry.dn,
            DirectoryGroupEntry.dn_norm,
            DirectoryGroupEntry.members,
            DirectoryGroupEntry.gone_at,
            Entitlement.name,
            Entitlement.description,
            Entitlement.owner_id,
        )
        .join(Entitlement, Entitlement.id == DirectoryGroupEntry.entitlement_id)
        .where(DirectoryGroupEntry.provider == provider)
    )
    return {row.key: dict(row._mapping) for row in rows}


def _account_identities(session: Session, provider: str) -> dict[str, str]:
    """Normalized DN -> identity id of every linked account of the directory."""
    rows = session.execute(
        select(DirectoryAccount.dn_norm, DirectoryAccount.identity_id).where(
            DirectoryAccount.provider == provider, DirectoryAccount.state == LINKED
        )
    )
    return {row.dn_norm: row.identity_id for row in rows if row.identity_id}


def _created_event(
    entry: dict[str, Any], group: DirectoryGroup, owner: str | None, members: int
) -> PendingEvent:
    return PendingEvent(
        "entitlement:group:created",
        Target("entitlement", entry["entitlement_id"]),
        new={
            "name": group.name,
            "dn": group.dn,
            "description": group.description,
            "owner_id": owner,
            "direct_members": members,
        },
        reason="directory sync",
    )
