"""Test helpers for loss cases: a small team with a manager and officers, tokens, reports."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest

from idgov.db import transaction
from idgov.identity.creation import NewIdentity
from idgov.identity.models import Identity, Role
from idgov.tokens.models import LossCase, OtpToken, TokenTest
from idgov.wiring import Services
from tests.functional.people import PASSWORD, fast_hashing

SOC = "soc@example.test"


@dataclass
class Team:
    owner: str
    manager: str
    officer: str
    second: str  # another security officer
    auditor: str
    stranger: str


def member(
    services: Services, username: str, *, roles: tuple[str, ...] = (), manager: str | None = None
) -> str:
    with transaction(services.sessions) as session:
        identity = services.identities.create(
            session,
            NewIdentity(username, username.title(), f"{username}@example.com", manager, roles),
        )
        services.passwords.set_initial(session, identity, PASSWORD)
        return identity.id


@pytest.fixture
def team(services: Services) -> Team:
    """olga (managed by mona), two officers, an auditor and an unrelated colleague."""
    fast_hashing(services)
    with transaction(services.sessions) as session:
        services.policies.change(session, "alerting", {"security_emails": [SOC]}, "tests", "tests")
    manager = member(services, "mona")
    return Team(
        owner=member(services, "olga", manager=manager),
        manager=manager,
        officer=member(services, "sam", roles=(Role.SECURITY_OFFICER,)),
        second=member(services, "tess", roles=(Role.SECURITY_OFFICER,)),
        auditor=member(services, "eve", roles=(Role.AUDITOR,)),
        stranger=member(services, "uma"),
    )


def add_token(services: Services, owner: str, *, tested: bool = True) -> str:
    """An active token row with a passed initial test (as enrollment leaves one)."""
    now = services.clock.now()
    token = OtpToken(
        id=str(uuid.uuid4()),
        identity_id=owner,
        label="phone",
        serial="TEST-1",
        secret=b"\x00" * 44,
        status="active",
        created_at=now,
        activated_at=now,
        failed_tests=0,
        status_changed_at=now,
    )
    with transaction(services.sessions) as session:
        session.add(token)
        session.flush()
        if tested:
            session.add(TokenTest(token_id=token.id, tested_at=now, kind="initial", result="pass"))
    return token.id


def who(services: Services, identity_id: str) -> Identity:
    with services.sessions() as session:
        return services.identities.get(session, identity_id)


def report(
    services: Services,
    owner: str,
    reporter: str,
    credential: str = "token",
    kind: str = "lost",
    token_id: str | None = None,
) -> str:
    with transaction(services.sessions) as session:
        case = services.loss.report(
            session,
            services.identities.get(session, owner),
            services.identities.get(session, reporter),
            credential,
            kind,
            token_id,
            "left on the train",
        )
        return case.id


def case_of(services: Services, case_id: str) -> LossCase:
    with services.sessions() as session:
        return services.loss.get(session, case_id)


def verify(services: Services, case_id: str, officer: str) -> None:
    with transaction(services.sessions) as session:
        services.loss.verify_identity(
            session, case_id, services.identities.get(session, officer), "passport, in person"
        )


def temporary(services: Services, case_id: str, officer: str) -> str:
    with transaction(services.sessions) as session:
        return services.loss.issue_temporary(
            session, case_id, services.identities.get(session, officer)
        )


def use(services: Services, owner: str, code: str) -> bool:
    with transaction(services.sessions) as session:
        return services.loss.use_temporary(session, services.identities.get(session, owner), code)
