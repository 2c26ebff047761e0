"""A person's page shows everything about them, through the packages that own it: status
history, identifiers (UNQ-1), verification (IDV-1) and certification (TRN-1), tokens and
their tests (TOK-1), loss cases (LOSS-1), sessions (ACC-3), entitlements, signatures and
audit events (AUD-1); each form only for the roles that may use it (ACC-2)."""

from __future__ import annotations

import uuid

import pytest
from flask import Flask

from idgov.db import transaction
from idgov.entitlements.models import SYSTEM_ROLE, Entitlement, EntitlementGrant
from idgov.identity.ledger import SUBJECT
from idgov.identity.models import Identity
from idgov.providers.directory.models import LINKED, DirectoryAccount
from idgov.wiring import Services
from tests.functional.loss_support import add_token, report
from tests.functional.people import person
from tests.functional.person_support import signed, text_of
from tests.functional.signing import SOURCE, prepare, request, signer

FORMS = {
    "verify": "Record the verification",
    "roles": "Save the roles",
    "manager": "Save the manager",
    "status": "Change the status",
    "reset": "Reset the password",
    "sessions": "Revoke every session",
}


@pytest.fixture
def jdoe(services: Services) -> str:
    """A verified, certified signer with a token, a signature, a loss case, an entitlement."""
    host, admin = prepare(services)
    owner = signer(services, "jdoe", admin, name="Jane Doe")
    services.signatures.sign(request("jdoe"), host, SOURCE)
    add_token(services, owner)
    report(services, owner, owner, credential="card")
    now = services.clock.now()
    with transaction(services.sessions) as session:
        held = Entitlement(
            id=str(uuid.uuid4()),
            source_type=SYSTEM_ROLE,
            source="lims",
            key="qa-approver",
            name="QA approver",
            created_at=now,
            updated_at=now,
        )
        session.add(held)
        session.flush()
        session.add(
            EntitlementGrant(
                entitlement_id=held.id, identity_id=owner, account="jdoe", granted_at=now
            )
        )
    return owner


@pytest.mark.req("AUD-1")
@pytest.mark.req("UNQ-1")
@pytest.mark.req("TOK-1")
def test_the_page_shows_every_section(app: Flask, services: Services, jdoe: str) -> None:
    person(services, "eve", roles=("auditor",))
    page = text_of(signed(app, "eve").get(f"/people/{jdoe}"))
    for heading in (
        "Status and its history",
        "Verification and certification",
        "Identifiers ledger",
        "Tokens and their tests",
        "Loss cases",
        "Sessions",
        "Entitlements",
        "Signatures",
        "Audit events",
    ):
        assert f">{heading}</h2>" in page, heading
    assert "(created)" in page  # the status history starts at creation
    assert "<td>username</td><td>idgov</td><td>jdoe</td>" in page  # the ledger (UNQ-1)
    assert "Ada Admin (admin1)" in page  # who verified (IDV-1)
    assert "initial pass" in page  # the token's test (TOK-1)
    assert "card lost" in page  # the loss case
    assert "QA approver" in page  # the entitlement
    assert "1 signature" in page
    assert "sop:SOP-0042 v4" in page
    assert "identity:verification:recorded" in page  # the audit events about them
    assert f'href="/audit?target=identity:{jdoe}"' in page.replace("%3A", ":")
    assert 'href="/signatures/' in page  # auditors read signatures
    assert "<time datetime=" in page  # times through the utc macro
    for label in FORMS.values():
        assert label not in page  # an auditor only reads


@pytest.mark.req("ACC-2")
def test_each_form_shows_only_for_the_roles_that_may_use_it(
    app: Flask, services: Services, jdoe: str
) -> None:
    person(services, "sam", roles=("security_officer",))
    officer = text_of(signed(app, "sam").get(f"/people/{jdoe}"))
    admin = text_of(signed(app, "admin1").get(f"/people/{jdoe}"))
    for action, label in FORMS.items():
        assert label in admin, action
    for action in ("verify", "reset", "sessions"):
        assert FORMS[action] in officer, action
    for action in ("roles", "manager", "status"):
        assert FORMS[action] not in officer, action
    assert "/audit?" not in admin  # the audit trail is the auditors'
    assert "Unlock jdoe" not in officer  # not locked


@pytest.mark.req("ACC-2")
def test_people_without_a_reader_role_are_refused(
    app: Flask, services: Services, jdoe: str
) -> None:
    person(services, "rita", roles=("reviewer",))
    assert signed(app, "rita").get(f"/people/{jdoe}").status_code == 403
    assert signed(app, "admin1").get(f"/people/{uuid.uuid4()}").status_code == 404


@pytest.mark.req("UNQ-1")
def test_the_source_shows_the_directory_entry_or_the_openid_subject(
    app: Flask, services: Services
) -> None:
    person(services, "ada", roles=("admin",))
    dir_person = person(services, "dana", password=None)
    oidc_person = person(services, "olga", password=None)
    now = services.clock.now()
    with transaction(services.sessions) as session:
        session.add(
            DirectoryAccount(
                provider="corp",
                key="0f3c-entry-uuid",
                identity_id=dir_person,
                state=LINKED,
                dn="uid=dana,ou=people,dc=example,dc=com",
                dn_norm="uid=dana,ou=people,dc=example,dc=com",
                username="dana",
                first_seen_at=now,
                last_seen_at=now,
            )
        )
        olga = session.get_one(Identity, oidc_person)
        olga.provider = "oidc:entra"
        services.ledger.bind(session, SUBJECT, "https://login.example.com/", "sub-4711", olga)
    client = signed(app, "ada")
    dana = text_of(client.get(f"/people/{dir_person}"))
    assert "uid=dana,ou=people,dc=example,dc=com" in dana
    assert 'href="/admin/directories/corp">corp</a>' in dana  # admins read directories
    shown = text_of(client.get(f"/people/{oidc_person}"))
    assert "OpenID provider entra" in shown
    assert "<td>subject</td><td>https://login.example.com/</td><td>sub-4711</td>" in shown
