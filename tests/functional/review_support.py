"""Test helpers for access reviews: people with managers, entitlements and grants, a campaign."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from idgov.db import transaction
from idgov.entitlements.grants import GrantLedger
from idgov.entitlements.models import DIRECTORY_GROUP, SYSTEM_ROLE, Entitlement
from idgov.identity.certification import statement_for
from idgov.reviews.campaigns.definition import NewDefinition
from idgov.reviews.models import Campaign
from idgov.wiring import Services
from tests.functional.people import fast_hashing, person


@dataclass(frozen=True)
class Org:
    """admin (fallback reviewer) > alice (QA manager) > bob, carol; dave has no manager."""

    admin: str
    alice: str
    bob: str
    carol: str
    dave: str


def org(services: Services) -> Org:
    fast_hashing(services)
    with transaction(services.sessions) as session:
        services.keys.create(session, "signature", reason="test setup")
    admin = person(services, "admin1", roles=("admin",), name="Ada Admin")
    ids = {
        name: person(services, name, name=f"{name.title()} Tester")
        for name in ("alice", "bob", "carol", "dave")
    }
    with transaction(services.sessions) as session:
        boss = services.identities.get(session, admin)
        verifier = services.identities.get(session, ids["dave"])
        services.identities.set_roles(session, verifier, ["security_officer"], "verifier")
    for who in (admin, *ids.values()):
        with transaction(services.sessions) as session:
            identity = services.identities.get(session, who)
            by = services.identities.get(session, ids["dave"] if who != ids["dave"] else admin)
            services.identities.record_verification(session, identity, by, "badge")
            services.identities.certify(
                session, identity, statement_for(identity.printed_name), "web", None
            )
    with transaction(services.sessions) as session:
        for name, manager in (("alice", admin), ("bob", ids["alice"]), ("carol", ids["alice"])):
            identity = services.identities.get(session, ids[name])
            services.identities.set_manager(session, identity, manager, "org chart")
        del boss
    return Org(admin, ids["alice"], ids["bob"], ids["carol"], ids["dave"])


def entitlement(
    services: Services,
    name: str,
    holders: dict[str, str | None],
    *,
    source: str = "corp",
    system: bool = False,
    owner: str | None = None,
) -> str:
    """An entitlement held by `holders` (account -> identity id, None for an orphan)."""
    entitlement_id = str(uuid.uuid4())
    now = services.clock.now()
    with transaction(services.sessions) as session:
        session.add(
            Entitlement(
                id=entitlement_id,
                source_type=SYSTEM_ROLE if system else DIRECTORY_GROUP,
                source=source,
                key=name,
                name=name,
                description=f"{name} access",
                owner_id=owner,
                created_at=now,
                updated_at=now,
                removed_at=None,
            )
        )
        session.flush()
        wanted = {(entitlement_id, account): (who, None) for account, who in holders.items()}
        GrantLedger(services.trail).reconcile(
            session, [entitlement_id], wanted, {entitlement_id: name}, now, source
        )
    return entitlement_id


def campaign(services: Services, fallback: str, rule: str = "manager", **scope: object) -> str:
    """A started campaign over `scope` (default: everything); returns its id."""
    with transaction(services.sessions) as session:
        definition = services.campaigns.define(
            session,
            NewDefinition(
                name=f"Q-review {uuid.uuid4().hex[:6]}",
                scope=scope or {"all": True},
                reviewer_rule=rule,
                fallback_reviewer_id=fallback,
            ),
            created_by="test",
        )
        started = services.campaigns.draft(session, definition.id, "test")
        services.campaigns.start(session, started)
        return started.id


def load_campaign(services: Services, campaign_id: str) -> Campaign:
    with services.sessions() as session:
        found = services.campaigns.get(session, campaign_id)
        session.expunge(found)
        return found
