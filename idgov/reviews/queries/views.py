"""The read models of the review pages: filters, items, groups, progress, sign-off previews."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from idgov.entitlements.models import DIRECTORY_GROUP
from idgov.errors import InvalidRequest
from idgov.reviews.models import Campaign
from idgov.signatures.tokens import Manifestation

STATUSES = ("all", "undecided", "decided")
GROUPINGS = ("person", "system")
MAX_QUERY = 200


@dataclass(frozen=True)
class Progress:
    total: int = 0
    decided: int = 0
    signed: int = 0
    overdue: int = 0

    @property
    def percent(self) -> int:
        return 100 * self.decided // self.total if self.total else 0


@dataclass(frozen=True)
class InboxFilter:
    """The reviewer's view: grouping and filters, each checked by name (InvalidRequest)."""

    group: str = "person"
    status: str = "all"
    flagged: bool = False
    source: str = ""  # "SOURCE_TYPE:NAME", or "" for every source
    q: str = ""

    def __post_init__(self) -> None:
        if self.group not in GROUPINGS:
            raise InvalidRequest("group must be person or system", field="group")
        if self.status not in STATUSES:
            raise InvalidRequest("status must be all, undecided or decided", field="status")
        if len(self.q) > MAX_QUERY or any(ord(c) < 32 or ord(c) == 127 for c in self.q):
            raise InvalidRequest(f"search text: at most {MAX_QUERY} plain characters", field="q")

    def query(self) -> dict[str, Any]:
        """The values that differ from the defaults, for links and redirects."""
        found = {"group": self.group, "status": self.status, "source": self.source, "q": self.q}
        found = {k: v for k, v in found.items() if v and v != getattr(InboxFilter, k)}
        return found | ({"flagged": "1"} if self.flagged else {})


@dataclass(frozen=True, slots=True)
class Item:
    """One item as the reviewer sees it: holder, entitlement, where from, hints, decision."""

    id: int
    identity_id: str | None
    holder_name: str
    account: str
    entitlement_name: str
    entitlement_description: str | None
    source_type: str
    source: str
    via: str | None
    flags: str  # comma-separated: dormant, orphan (REV-6)
    suggestion: str | None  # a hint only, never applied (REV-6)
    decision: str | None
    justification: str | None
    signoff_id: int | None

    @property
    def flag_list(self) -> list[str]:
        return [flag for flag in self.flags.split(",") if flag]

    @property
    def source_label(self) -> str:
        return source_label(self.source_type, self.source)


@dataclass(frozen=True)
class Group:
    key: str
    label: str
    detail: str
    items: list[Item]


@dataclass(frozen=True)
class CampaignView:
    id: str
    name: str
    state: str
    started_at: datetime
    due_at: datetime
    certify_justification: bool
    progress: Progress


@dataclass(frozen=True)
class Inbox:
    campaign: CampaignView
    filters: InboxFilter
    sources: dict[str, str]  # "SOURCE_TYPE:NAME" -> label
    groups: list[Group]
    shown: int


@dataclass(frozen=True)
class SignedOff:
    id: int
    signature_id: str
    digest: str
    item_count: int
    manifestation: Manifestation


@dataclass(frozen=True)
class SignoffPreview:
    """Exactly what a sign-off would sign now (the pending items, their digest) and the
    reviewer's earlier sign-offs."""

    campaign: CampaignView
    items: list[dict[str, Any]]
    digest: str | None  # None while any item is undecided
    undecided: int
    done: list[SignedOff]


@dataclass(frozen=True)
class ReviewerProgress:
    name: str
    username: str
    progress: Progress


@dataclass(frozen=True)
class CampaignDetail:
    campaign: Campaign
    progress: Progress
    completeness: dict[str, Any]
    reviewers: list[ReviewerProgress]
    overdue: list[Any]  # rows: id, holder_name, account, entitlement_name, source, due_at, ...
    signoffs: list[SignedOff]
    remediations: list[Any] = field(default_factory=list)  # rows: id, status, last_error, ...


def source_label(source_type: str, source: str) -> str:
    return f"{'Directory' if source_type == DIRECTORY_GROUP else 'System'} {source}"


def scope_text(raw: str) -> str:
    """A definition's or campaign's scope (JSON), in words."""
    scope = json.loads(raw)
    if scope.get("all"):
        return "everything"
    keys = [key for key in ("directories", "systems", "groups") if scope.get(key)]
    return "; ".join(f"{key}: {', '.join(scope[key])}" for key in keys)
