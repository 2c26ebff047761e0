"""GroupWriteBack: remove a member from a directory group and prove it by reading it back."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from idgov.audit.context import Target
from idgov.audit.trail import AuditTrail
from idgov.clock import Clock
from idgov.db import transaction
from idgov.entitlements.models import EntitlementGrant
from idgov.errors import Conflict, NotFound, ProviderUnavailable
from idgov.providers.directory.interfaces import Directory
from idgov.providers.directory.models import DirectoryAccount, DirectoryGroupEntry
from idgov.providers.directory.syntax import normalize_dn

WRITE_BACK = "write-back"


@dataclass(frozen=True)
class Removal:
    grant_id: int
    group_dn: str
    member_dn: str
    verified_at: datetime


class GroupWriteBack:
    """Used by access-review remediation (REV-5): a revoked group membership is removed in the
    directory and is done only when a fresh read of the group no longer lists the member."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        clock: Clock,
        trail: AuditTrail,
        directories: dict[str, Directory],
    ) -> None:
        self._session_factory = session_factory
        self._clock = clock
        self._trail = trail
        self._directories = directories

    def remove(self, grant_id: int, reason: str) -> Removal:
        """Remove the grant's account from its group. ProviderUnavailable (the directory is
        down or refused: nothing recorded as done, retry later) or Conflict (write-back is
        off for this directory, or the grant is not a directory membership)."""
        with self._session_factory() as session:
            target = _target(session, grant_id)
        provider, group_dn, member_dn, group_key = target
        directory = self._directories.get(provider)
        if directory is None:
            raise ProviderUnavailable(f"the directory {provider!r} is not configured")
        if not directory.settings.group_write_back:
            raise Conflict(
                f"group write-back is off for the directory {provider!r} "
                "(group_write_back = true in its settings)"
            )
        try:
            verified = directory.remove_member(group_dn, member_dn)
        except (ProviderUnavailable, Conflict) as exc:
            self._failed(grant_id, group_dn, member_dn, exc.detail, reason)
            raise
        if not verified:
            detail = "the directory still lists the member after removing it"
            self._failed(grant_id, group_dn, member_dn, detail, reason)
            raise ProviderUnavailable(detail, reason="not-verified")
        now = self._clock.now()
        with transaction(self._session_factory) as session:
            session.execute(
                update(EntitlementGrant)
                .where(EntitlementGrant.id == grant_id, EntitlementGrant.removed_at.is_(None))
                .values(removed_at=now, removed_by=WRITE_BACK)
            )
            entry = session.scalars(
                select(DirectoryGroupEntry).where(
                    DirectoryGroupEntry.provider == provider, DirectoryGroupEntry.key == group_key
                )
            ).one()
            members = [m for m in json.loads(entry.members) if m != normalize_dn(member_dn)]
            entry.members = json.dumps(members)
            self._trail.record(
                session,
                "directory:membership:removed",
                Target("entitlement-grant", str(grant_id)),
                old={"group": group_dn, "member": member_dn},
                new={"verified_at": now.isoformat(), "verified_by": "read-back"},
                reason=reason,
            )
        return Removal(grant_id, group_dn, member_dn, now)

    def listed(self, entitlement_id: str, member_dns: set[str], keys: set[str]) -> set[str]:
        """Which of `member_dns` (normalized), and of the entries with these immutable `keys`
        under whatever DN they have now, the directory lists in the entitlement's group, read
        fresh: how a revocation with nothing left to remove is still verified by the
        directory itself, not by what idgov last mirrored (a rename, an entry idgov cannot
        use). ProviderUnavailable when the directory cannot answer."""
        with self._session_factory() as session:
            group = session.scalars(
                select(DirectoryGroupEntry).where(
                    DirectoryGroupEntry.entitlement_id == entitlement_id
                )
            ).first()
            if group is None:
                raise NotFound(f"entitlement {entitlement_id} is not a directory group")
            provider, group_dn = group.provider, group.dn
        directory = self._directories.get(provider)
        if directory is None:
            raise ProviderUnavailable(f"the directory {provider!r} is not configured")
        wanted = set(member_dns)
        for key in keys:
            dn = directory.dn_of(key)
            if dn is not None:
                wanted.add(normalize_dn(dn))
        return directory.group_members(group_dn) & wanted

    def _failed(
        self, grant_id: int, group_dn: str, member_dn: str, detail: str, reason: str
    ) -> None:
        with transaction(self._session_factory) as session:
            self._trail.record(
                session,
                "directory:membership:remove-failed",
                Target("entitlement-grant", str(grant_id)),
                new={"group": group_dn, "member": member_dn, "error": detail},
                reason=reason,
            )


def _target(session: Session, grant_id: int) -> tuple[str, str, str, str]:
    """(provider, group DN, member DN as the directory has it, group key) of a current grant."""
    row = session.execute(
        select(EntitlementGrant, DirectoryGroupEntry)
        .join(
            DirectoryGroupEntry,
            DirectoryGroupEntry.entitlement_id == EntitlementGrant.entitlement_id,
        )
        .where(EntitlementGrant.id == grant_id)
    ).first()
    if row is None:
        raise NotFound(f"no directory group membership {grant_id}")
    grant, group = row
    if grant.removed_at is not None:
        raise Conflict(f"membership {grant_id} already ended ({grant.removed_by})")
    if grant.via is not None:
        raise Conflict(
            f"membership {grant_id} comes through the nested group(s) {grant.via}; "
            "remove it there (or remove that group)"
        )
    account = session.scalars(
        select(DirectoryAccount).where(
            DirectoryAccount.provider == group.provider,
            DirectoryAccount.dn_norm == grant.account,
        )
    ).first()
    member_dn = account.dn if account is not None else grant.account
    return group.provider, group.dn, member_dn, group.key
