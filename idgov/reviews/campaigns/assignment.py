"""Who reviews an item: the rule's reviewer, else the next eligible one; never the holder."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from idgov.identity.models import IdentityStatus
from idgov.reviews.models import ReviewerRule


@dataclass(frozen=True)
class Person:
    id: str
    status: str
    manager_id: str | None
    certified: bool = True  # TRN-1: has acknowledged that their e-signature binds


@dataclass(frozen=True)
class Reviewers:
    """What choosing a reviewer needs, read once per campaign: every identity's status and
    manager, the fallback reviewer, and the administrators (the last resort)."""

    people: Mapping[str, Person]
    fallback_id: str
    admins: tuple[str, ...]

    def eligible(self, candidate: str | None, holder: str | None) -> bool:
        """Able to sign their review (active, so verified, IDV-1; and certified, TRN-1) and
        not the person whose access it is (REV-2)."""
        if candidate is None or candidate == holder:
            return False
        person = self.people.get(candidate)
        return person is not None and person.status == IdentityStatus.ACTIVE and person.certified

    def first(self, candidates: Iterable[str | None], holder: str | None) -> str | None:
        """The first eligible candidate, then the fallback, the fallback's manager and the
        administrators: the next eligible reviewer on every path (assignment, reassignment,
        escalation, fallback)."""
        fallback = self.people.get(self.fallback_id)
        tail = [self.fallback_id, fallback.manager_id if fallback else None, *self.admins]
        for candidate in [*candidates, *tail]:
            if self.eligible(candidate, holder):
                return candidate
        return None

    def manager_of(self, identity_id: str | None) -> str | None:
        person = self.people.get(identity_id) if identity_id else None
        return person.manager_id if person else None


def primary(rule: str, stage: int, manager_id: str | None, owner_id: str | None) -> str | None:
    """The reviewer the rule names: the holder's manager, the entitlement's owner, or in two
    stages the manager first and the owner second."""
    if rule == ReviewerRule.MANAGER:
        return manager_id
    if rule == ReviewerRule.OWNER:
        return owner_id
    return manager_id if stage == 1 else owner_id


def escalation_target(reviewers: Reviewers, current: str | None, holder: str | None) -> str | None:
    """REV-5: an overdue item goes to the reviewer's manager first, then to the fallback
    reviewer (and on down the eligible chain); never back to the holder."""
    return reviewers.first([reviewers.manager_of(current)], holder)
