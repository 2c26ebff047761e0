"""What waits for the signed-in person on the home page, one block per role (issue 15 item 1).

Each block is a count and the first few items, linked to where they are handled. The reads
live in the domain packages; this module only picks them by role (ACC-2: a block appears only
for the roles that may act on it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from sqlalchemy.orm import Session

from idgov.alerts.services import AlertListing
from idgov.audit.chain_state import ChainState, chain_state
from idgov.demo import is_demo
from idgov.health.gaps import Gap
from idgov.identity.models import Identity, Role
from idgov.identity.pending import verifiable_by
from idgov.providers.directory.models import DirectorySyncRun
from idgov.reviews.models import CampaignState
from idgov.reviews.queries.views import CampaignView
from idgov.tokens.attention import OpenLossCase, OverdueToken, open_loss_cases, overdue_tests
from idgov.wiring import Services

FIRST = 5  # items named in each block; the count says how many there are in all
IN_PROGRESS = (CampaignState.ACTIVE, CampaignState.CLOSING)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Waiting(Generic[T]):
    """How many things wait, and the first few of them."""

    count: int
    first: Sequence[T]


@dataclass(frozen=True, slots=True)
class AdminBlock:
    gaps: list[Gap]  # configuration that silently defeats a rule (idgov check)
    campaigns: Waiting[CampaignView]
    failed_syncs: list[DirectorySyncRun]  # directories whose last sync failed


@dataclass(frozen=True, slots=True)
class OfficerBlock:
    alerts: Waiting[AlertListing]  # ALERT-1: most urgent first, then newest
    locked: Waiting[Identity]  # LOCK-2: each waits for an unlock with a reason
    losses: Waiting[OpenLossCase]  # LOSS-1
    overdue_tokens: Waiting[OverdueToken]  # TOK-1: their owners cannot sign


@dataclass(frozen=True, slots=True)
class AuditorBlock:
    chain: ChainState  # AUD-3, AUD-4
    campaigns: Waiting[CampaignView]


@dataclass(frozen=True, slots=True)
class ReviewBlock:
    open_items: int  # undecided items of active campaigns assigned to the person (REV-2)
    campaigns: list[CampaignView]


@dataclass(frozen=True, slots=True)
class HomeBlocks:
    verify: Waiting[Identity] | None = None  # IDV-1: people this admin or officer may verify
    admin: AdminBlock | None = None
    officer: OfficerBlock | None = None
    auditor: AuditorBlock | None = None
    reviews: ReviewBlock | None = None


def home_blocks(built: Services, session: Session, me: Identity, roles: set[str]) -> HomeBlocks:
    """The blocks for the roles the person holds; the review block for anyone with items."""
    now = built.clock.now()
    # Read once, shown in both the admin's and the auditor's block.
    campaigns = (
        _campaigns_in_progress(built, session, now)
        if roles & {Role.ADMIN, Role.AUDITOR}
        else Waiting(0, [])
    )
    auditor = AuditorBlock(chain_state(session), campaigns) if Role.AUDITOR in roles else None
    verifier = roles & {Role.ADMIN, Role.SECURITY_OFFICER}  # VERIFIER_ROLES, as the API
    return HomeBlocks(
        verify=Waiting(*verifiable_by(session, me.id, FIRST)) if verifier else None,
        admin=_admin(built, session, campaigns) if Role.ADMIN in roles else None,
        officer=_officer(built, session, now) if Role.SECURITY_OFFICER in roles else None,
        auditor=auditor,
        reviews=_reviews(built, session, me, roles, now),
    )


def _admin(built: Services, session: Session, campaigns: Waiting[CampaignView]) -> AdminBlock:
    gaps = built.gaps.find(session, demo=is_demo(built))
    return AdminBlock(gaps, campaigns, _failed_syncs(built, session))


def _failed_syncs(built: Services, session: Session) -> list[DirectorySyncRun]:
    """The last run of each configured directory, where it failed: people and groups stop
    following the directory until a sync succeeds (docs/directories.md)."""
    last = (built.directory_sync.runs(session, name, limit=1) for name in built.directories)
    return [runs[0] for runs in last if runs and runs[0].status == "failed"]


def _officer(built: Services, session: Session, now: datetime) -> OfficerBlock:
    alerts = built.alert_service.list(session, "open", FIRST, urgent_first=True)
    return OfficerBlock(
        alerts=Waiting(built.alert_service.open_count(session), alerts),
        locked=Waiting(*built.lockout.locked(session, FIRST)),
        losses=Waiting(*open_loss_cases(session, FIRST)),
        overdue_tokens=Waiting(*overdue_tests(session, now, FIRST)),
    )


def _campaigns_in_progress(
    built: Services, session: Session, now: datetime
) -> Waiting[CampaignView]:
    every = built.review_reader.campaigns_with_progress(session, now)
    going = [view for view in every if view.state in IN_PROGRESS]
    return Waiting(len(going), going[:FIRST])


def _reviews(
    built: Services, session: Session, me: Identity, roles: set[str], now: datetime
) -> ReviewBlock | None:
    """Reviewers, and managers or owners who were given items (REV-2) without the role."""
    mine = built.review_reader.my_campaigns(session, me.id, now)
    active = [view for view in mine if view.state == CampaignState.ACTIVE]
    open_items = sum(view.progress.total - view.progress.decided for view in active)
    if not active and Role.REVIEWER not in roles:
        return None
    return ReviewBlock(open_items, active[:FIRST])
