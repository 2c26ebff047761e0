"""Accounts a full sync no longer finds: gone, their identities deactivated, never deleted."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from idgov.identity.models import Identity, IdentityStatus
from idgov.identity.services import IdentityService
from idgov.providers.directory.models import GONE, LINKED, DirectoryAccount
from idgov.providers.directory.reports import MirrorReport


def deactivate_gone(
    identities: IdentityService,
    session: Session,
    provider: str,
    seen_keys: set[str],
    now: datetime,
    report: MirrorReport,
    max_percent: int,
) -> None:
    """A full sync's last step: linked accounts the directory no longer lists are marked
    gone and their identities deactivated, never deleted (REC-1). Refuses when that would
    be more than `max_percent` of them (a mis-set base or filter must not empty idgov)."""
    linked = session.execute(
        select(DirectoryAccount.id, DirectoryAccount.key, DirectoryAccount.identity_id).where(
            DirectoryAccount.provider == provider, DirectoryAccount.state == LINKED
        )
    ).all()
    gone = [row for row in linked if row.key not in seen_keys]
    if gone and len(gone) * 100 > max_percent * len(linked) and len(gone) > 1:
        raise MassDeactivation(len(gone), len(linked))
    for row in gone:
        session.execute(
            update(DirectoryAccount)
            .where(DirectoryAccount.id == row.id)
            .values(state=GONE, gone_at=now)
        )
        identity = session.get(Identity, row.identity_id)
        if identity is not None and identity.status != IdentityStatus.DEACTIVATED:
            identities.transition(
                session,
                identity,
                IdentityStatus.DEACTIVATED,
                f"gone from the directory {provider}",
            )
        report.deactivated += 1


class MassDeactivation(Exception):
    def __init__(self, gone: int, linked: int) -> None:
        super().__init__(
            f"the directory no longer lists {gone} of {linked} mirrored accounts; deactivating "
            "them all looks like a wrong user_base or user_filter. Nothing was changed. If it "
            "is right, run the sync with --allow-mass-deactivation."
        )
