"""A demo organisation for `make run`: people in each role, verified, certified, with passwords."""

from __future__ import annotations

from dataclasses import dataclass

from idgov.db import transaction
from idgov.identity.certification import statement_for
from idgov.identity.models import Identity, Role
from idgov.identity.services import NewIdentity
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
