"""A demo organisation for `make run`: people in each role, and an access review to try."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from idgov.clients.models import HostClient
from idgov.db import transaction
from idgov.identity.certification import statement_for
from idgov.identity.creation import NewIdentity
from idgov.identity.models import Identity, Role
from idgov.reviews.campaigns.definition import NewDefinition
from idgov.reviews.models import CampaignDefinition
from idgov.wiring import Services

DEMO_MARK = "demo organisation"


@dataclass(frozen=True)
class DemoPerson:
    username: str
    printed_name: str
    roles: tuple[str, ...]
    password: str  # demo only: printed by `idgov demo`, never used outside a demo database
    manager: str | None = None
    certified: bool = True


DEMO_PEOPLE = (
    DemoPerson("ada.admin", "Ada Admin", (Role.ADMIN,), "Indigo-Lantern-4821"),
    DemoPerson("sam.secure", "Sam Secure", (Role.SECURITY_OFFICER,), "Copper-Harbor-7314"),
    DemoPerson("mia.manager", "Mia Manager", (Role.REVIEWER,), "Velvet-Orchard-2958", "ada.admin"),
    DemoPerson("jon.doe", "Jon Doe", (), "Quartz-Meadow-6147", "mia.manager"),
    DemoPerson(
        "eve.analyst",
        "Eve Analyst",
        (Role.AUDITOR,),
        "Saffron-Glacier-3806",
        "mia.manager",
        certified=False,
    ),
)


def seed_demo(services: Services) -> list[DemoPerson]:
    """Create the demo people unless they exist; returns who was created."""
    created: list[DemoPerson] = []
    with transaction(services.sessions) as session:
        if services.policies.version(session, "alerting") == 0:
            services.policies.change(
                session,
                "alerting",
                {"security_emails": ["security@demo.idgov.test"]},
                reason=f"{DEMO_MARK}: security unit address",
                changed_by="idgov demo",
            )
        people: dict[str, Identity] = {}
        for person in DEMO_PEOPLE:
            existing = services.identities.by_username(session, person.username)
            if existing is not None:
                people[person.username] = existing
                continue
            manager = people[person.manager].id if person.manager else None
            identity = services.identities.create(
                session,
                NewIdentity(
                    person.username,
                    person.printed_name,
                    f"{person.username}@demo.idgov.test",
                    manager_id=manager,
                    roles=person.roles,
                ),
                reason=DEMO_MARK,
            )
            services.passwords.set_initial(session, identity, person.password)
            people[person.username] = identity
            created.append(person)
        admin, officer = people["ada.admin"], people["sam.secure"]
        for person in created:
            identity = people[person.username]
            verifier = officer if identity.id != officer.id else admin
            services.identities.record_verification(
                session, identity, verifier, "employee-badge", note=DEMO_MARK
            )
            if person.certified:
                services.identities.certify(
                    session, identity, statement_for(identity.printed_name), "demo", None
                )
    return created


@dataclass(frozen=True)
class _Role:
    name: str
    description: str | None
    owner: str | None


@dataclass(frozen=True)
class _Assignment:
    username: str
    role: str


@dataclass(frozen=True)
class _Snapshot:
    roles: tuple[_Role, ...]
    assignments: tuple[_Assignment, ...]


DEMO_SYSTEM = "lims"
DEMO_RETURN_URL = "http://127.0.0.1:5001/signed"
DEMO_REVIEW = "Quarterly LIMS access review"
DEMO_SNAPSHOT = _Snapshot(
    roles=(
        _Role("analyst", "Enters and reviews sample results", "mia.manager"),
        _Role("approver", "Approves results for release", "mia.manager"),
        _Role("lims-admin", "Configures the LIMS", "ada.admin"),
    ),
    assignments=(
        _Assignment("jon.doe", "analyst"),
        _Assignment("eve.analyst", "analyst"),
        _Assignment("eve.analyst", "approver"),
        _Assignment("mia.manager", "approver"),
        _Assignment("j.smith", "analyst"),  # left the company: an orphan finding (REV-6)
    ),
)


@dataclass(frozen=True)
class DemoReview:
    """The campaign `seed_demo_review` started, and the demo host's credentials: the secret
    exists only here (idgov keeps its digest), so `idgov demo` prints it for the walkthrough."""

    campaign_id: str
    client_id: str
    client_secret: str


def seed_demo_review(services: Services) -> DemoReview | None:
    """A demo host system ("lims") with a snapshot of its roles and an open access-review
    campaign over it, unless it exists; returns the campaign and the host's credentials when
    they were created."""
    with transaction(services.sessions) as session:
        taken = session.scalar(
            select(CampaignDefinition.id).where(CampaignDefinition.name == DEMO_REVIEW)
        )
        admin = services.identities.by_username(session, "ada.admin")
        if taken is not None or admin is None:
            return None
        client, secret = services.clients.add(
            session,
            DEMO_SYSTEM,
            ["entitlements", "signatures"],
            return_urls=[DEMO_RETURN_URL],  # docs/examples/ceremony_host.py, run locally
            reason=DEMO_MARK,
        )
        services.snapshots.receive(session, client, DEMO_SYSTEM, DEMO_SNAPSHOT)
        definition = services.campaigns.define(
            session,
            NewDefinition(
                name=DEMO_REVIEW,
                scope={"systems": [DEMO_SYSTEM]},
                reviewer_rule="manager",
                fallback_reviewer_id=admin.id,
            ),
            created_by="idgov demo",
        )
        campaign = services.campaigns.launch(session, definition.id, "idgov demo")
        return DemoReview(campaign.id, client.client_id, secret)


def is_demo(services: Services) -> bool:
    """Whether this database holds `idgov demo`'s organisation (SQLite is fine for it)."""
    return demo_client_id(services) is not None


def demo_client_id(services: Services) -> str | None:
    """The client id of the demo host system, when `idgov demo` has registered it."""
    with services.sessions() as session:
        return session.scalar(select(HostClient.client_id).where(HostClient.name == DEMO_SYSTEM))
