"""The home page per role: what waits for an admin, a security officer, an auditor and a
reviewer, each block only for its role, with counts right after the state is made (issue 15
item 1; IDV-1, ALERT-1, LOCK-2, LOSS-1, TOK-1, AUD-3, AUD-4, ACC-2)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask

from idgov.audit.chain_state import CHECKPOINT_EXPORTED
from idgov.audit.context import Actor, AuditContext, Target, current_audit_context
from idgov.db import transaction
from idgov.identity.models import Identity, Role
from idgov.tokens.models import OtpToken
from idgov.wiring import Services
from tests.functional.loss_support import add_token, report
from tests.functional.people import fast_hashing, login, page_csrf, person
from tests.functional.review_support import campaign, entitlement, org
from tests.functional.tamper import tamper
from tests.functional.test_checkpoints_and_worker import create_key

ADMIN_BLOCK = "Waiting for an administrator"
OFFICER_BLOCK = "Waiting for a security officer"
AUDITOR_BLOCK = "The audit chain"
REVIEW_BLOCK = "Your access reviews"
BLOCKS = (ADMIN_BLOCK, OFFICER_BLOCK, AUDITOR_BLOCK, REVIEW_BLOCK)


@pytest.fixture(autouse=True)
def cheap_passwords(services: Services) -> None:
    fast_hashing(services)


def home_of(app: Flask, username: str) -> str:
    client = app.test_client()
    assert login(client, username).status_code == 302
    page = client.get("/")
    assert page.status_code == 200
    return " ".join(page.get_data(as_text=True).split())  # one space between words


def text(page: str) -> str:
    """What a reader sees: the page without its tags."""
    return re.sub(r"<[^>]+>", "", page)


def blocks_in(page: str) -> set[str]:
    return {block for block in BLOCKS if f">{block}</h2>" in page}


def created_by(services: Services, creator: str, username: str) -> str:
    """A person created with `creator` as the acting identity (the enroller, IDV-1)."""
    token = current_audit_context.set(AuditContext(Actor("identity", creator, "Creator")))
    try:
        return person(services, username)
    finally:
        current_audit_context.reset(token)


@pytest.mark.req("IDV-1")
@pytest.mark.req("ACC-2")
def test_an_admin_sees_whom_they_may_verify_and_no_other_roles_block(
    app: Flask, services: Services
) -> None:
    ada = person(services, "ada", roles=(Role.ADMIN,), name="Ada Admin")
    ben = person(services, "ben", roles=(Role.ADMIN,), name="Ben Admin")
    newbie = created_by(services, ada, "newbie")
    other = person(services, "other", name="Olive Other")

    page = home_of(app, "ada")
    assert blocks_in(page) == {ADMIN_BLOCK}
    # Not herself, not newbie (she created them): ben and other, longest waiting first.
    assert "2 identities to verify" in page
    pending = re.findall(r'data-pending="([^"]+)"', page)
    assert pending == [ben, other]
    assert f'href="/people/{other}"' in page
    assert "0 review campaigns in progress" in page

    page = home_of(app, "ben")
    assert "3 identities to verify" in page
    assert set(re.findall(r'data-pending="([^"]+)"', page)) == {ada, newbie, other}

    with transaction(services.sessions) as session:
        services.identities.record_verification(
            session, session.get_one(Identity, other), session.get_one(Identity, ben), "badge"
        )
    assert "2 identities to verify" in home_of(app, "ben")
    assert "1 identity to verify" in home_of(app, "ada")


def lock(app: Flask, username: str) -> None:
    client = app.test_client()
    for _ in range(5):  # the default lockout policy locks at the fifth failure
        client.post("/api/v1/session", json={"username": username, "password": "wrong"})


@pytest.mark.req("ALERT-1")
@pytest.mark.req("LOCK-2")
@pytest.mark.req("LOSS-1")
@pytest.mark.req("TOK-1")
def test_an_officer_sees_alerts_locked_people_loss_cases_and_overdue_tokens(
    app: Flask, services: Services
) -> None:
    person(services, "sam", roles=(Role.SECURITY_OFFICER,), name="Sam Secure")
    jdoe = person(services, "jdoe", name="John Doe")
    olga = person(services, "olga", name="Olga Owner")
    tina = person(services, "tina", name="Tina Tester")

    page = home_of(app, "sam")
    assert blocks_in(page) == {OFFICER_BLOCK}
    # Security officers verify identities too (IDV-1): everyone pending but sam.
    assert "3 identities to verify" in page
    assert "0 open alerts" in page
    assert "0 locked people · 0 open loss cases · 0 tokens overdue for a test" in text(page)

    lock(app, "jdoe")
    report(services, olga, olga)
    token = add_token(services, tina)
    with transaction(services.sessions) as session:
        session.get_one(OtpToken, token).test_due_at = services.clock.now() - timedelta(days=1)
    add_token(services, olga)  # not due: not listed

    with services.sessions() as session:
        open_alerts = services.alert_service.open_count(session)
        urgent = services.alert_service.list(session, "open", 5, urgent_first=True)
    assert open_alerts >= 1
    page = home_of(app, "sam")
    assert f"{open_alerts} open alert" in page
    assert re.findall(r'data-alert="([^"]+)"', page) == [item.alert.id for item in urgent]
    assert "1 locked person · 1 open loss case · 1 token overdue for a test" in text(page)
    assert re.findall(r'data-locked="([^"]+)"', page) == [jdoe]
    assert "unlock with a reason" in page
    assert f'href="/people/{olga}"' in page  # the loss case's owner
    assert re.findall(r'data-token="([^"]+)"', page) == [token]
    assert f'href="/people/{tina}"' in page


@pytest.mark.req("AUD-3")
@pytest.mark.req("AUD-4")
def test_an_auditor_sees_the_chain_last_verified_and_the_last_checkpoint(
    app: Flask, services: Services
) -> None:
    create_key(services)  # the audit key checkpoints are signed with
    person(services, "eve", roles=(Role.AUDITOR,), name="Eve Auditor")

    page = home_of(app, "eve")
    assert "to verify" not in page  # auditors do not verify identities
    assert blocks_in(page) == {AUDITOR_BLOCK}
    assert "Last verified</dt> <dd>never from this console" in page
    assert "Last checkpoint</dt> <dd>none issued yet" in page
    assert "0 review campaigns in progress" in page

    client = app.test_client()
    assert login(client, "eve").status_code == 302
    verified = client.post("/audit/verify", data={"csrf_token": page_csrf(client, "/")})
    assert verified.status_code == 200
    with transaction(services.sessions) as session:
        issued = services.checkpoints.issue(session)
        size, checkpoint_id = issued.size, issued.id

    page = " ".join(client.get("/").get_data(as_text=True).split())
    verified_up_to = re.search(r"the chain verified up to event (\d+), by Eve Auditor", text(page))
    assert verified_up_to is not None
    assert int(verified_up_to.group(1)) < size  # verified before the checkpoint was issued
    assert f"event {size}, not exported" in text(page)

    with transaction(services.sessions) as session:
        services.trail.record(
            session, CHECKPOINT_EXPORTED, Target("audit-checkpoint", str(checkpoint_id))
        )
    page = " ".join(client.get("/").get_data(as_text=True).split())
    assert f"event {size}, exported; issued" in text(page)


@pytest.mark.req("AUD-3")
def test_a_broken_chain_shows_on_the_auditor_home_page(app: Flask, services: Services) -> None:
    person(services, "eve", roles=(Role.AUDITOR,), name="Eve Auditor")
    client = app.test_client()
    assert login(client, "eve").status_code == 302
    tamper(services.engine, "UPDATE audit_events SET reason = 'rewritten' WHERE seq = 2")
    client.post("/audit/verify", data={"csrf_token": page_csrf(client, "/")})
    page = client.get("/").get_data(as_text=True)
    assert "BROKEN at event 2" in page


@pytest.mark.req("ACC-2")
def test_a_reviewer_sees_their_open_items_and_admins_see_the_campaign(
    app: Flask, services: Services
) -> None:
    team = org(services)
    entitlement(services, "qa-approvers", {"bob": team.bob, "carol": team.carol})
    campaign_id = campaign(services, fallback=team.admin)

    page = home_of(app, "alice")  # bob's and carol's manager, without the reviewer role
    assert blocks_in(page) == {REVIEW_BLOCK}
    assert "2 open review items" in page
    assert f'href="/reviews/{campaign_id}"' in page
    assert "2 of 2 items to decide" in page

    assert blocks_in(home_of(app, "bob")) == set()  # no role, no items: no block
    admin_page = home_of(app, "admin1")
    assert ADMIN_BLOCK in blocks_in(admin_page)
    assert "1 review campaign in progress" in admin_page
    assert f'href="/admin/reviews/{campaign_id}"' in admin_page
