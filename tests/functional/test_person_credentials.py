"""The person's page actions on credentials and sessions: unlock (LOCK-2), password reset
and handover (CMP-2), revoking sessions (ACC-3); audited with the reason (AUD-1)."""

from __future__ import annotations

import pytest
from flask import Flask

from idgov.db import transaction
from idgov.identity.models import Identity, IdentityStatus
from idgov.wiring import Services
from tests.functional.people import events
from tests.functional.person_support import (
    act,
    handover_mode,
    signed,
    staff,
    status_of,
    text_of,
)
from tests.functional.test_console_alerts import lock_out

SET_PASSWORD = "/account/set-password/"


@pytest.fixture
def people(services: Services) -> dict[str, str]:
    return staff(services)


@pytest.mark.req("LOCK-2")
def test_only_a_security_officer_unlocks_from_the_page(
    app: Flask, services: Services, people: dict[str, str]
) -> None:
    jdoe = people["jdoe"]
    lock_out(app, "jdoe")
    ada, sam = signed(app, "ada"), signed(app, "sam")
    assert "Unlock jdoe" not in text_of(ada.get(f"/people/{jdoe}"))
    assert "Unlock jdoe" in text_of(sam.get(f"/people/{jdoe}"))
    assert act(ada, jdoe, "unlock", reason="x").status_code == 403
    [refused] = events(services, "access:person_actions-unlock:refused")
    assert refused.actor_id == people["ada"]
    empty = act(sam, jdoe, "unlock", reason="")
    assert empty.status_code == 400
    assert 'id="unlock-reason"' in text_of(empty)
    assert status_of(services, jdoe) == IdentityStatus.LOCKED

    done = act(sam, jdoe, "unlock", reason="identity confirmed by phone")
    assert done.status_code == 303
    shown = text_of(sam.get(done.headers["Location"]))
    assert "jdoe is unlocked (now pending verification)" in shown
    [cleared] = events(services, "identity:lockout:cleared")
    assert (cleared.actor_id, cleared.reason) == (people["sam"], "identity confirmed by phone")
    again = act(sam, jdoe, "unlock", reason="twice")
    assert again.status_code == 409
    assert "Refused (409): Status: jdoe is not locked" in text_of(again)


@pytest.mark.req("CMP-2")
@pytest.mark.req("AUD-1")
def test_a_reset_shows_only_how_the_link_travels(
    app: Flask, services: Services, people: dict[str, str]
) -> None:
    ada, jdoe = signed(app, "ada"), people["jdoe"]
    missing = act(ada, jdoe, "password-reset", reason="")
    assert missing.status_code == 400
    assert not events(services, "credential:password:reset")
    done = act(ada, jdoe, "password-reset", reason="forgot it")
    assert done.status_code == 303
    page = text_of(ada.get(done.headers["Location"]))
    assert "a single-use set-password link was e-mailed to jdoe@example.com" in page
    assert "waiting: issued" in page
    assert SET_PASSWORD not in page
    [reset] = events(services, "credential:password:reset")
    assert (reset.actor_id, reset.reason) == (people["ada"], "forgot it")
    mine = act(ada, people["ada"], "password-reset", reason="mine")
    assert mine.status_code == 403
    assert "nobody may reset their own password" in text_of(mine)
    assert act(signed(app, "eve"), jdoe, "password-reset", reason="x").status_code == 403


@pytest.mark.req("CMP-2")
def test_in_handover_mode_a_second_person_gets_the_link_once(
    app: Flask, services: Services, people: dict[str, str]
) -> None:
    handover_mode(services)
    ada, bob, jdoe = signed(app, "ada"), signed(app, "bob"), people["jdoe"]
    done = act(ada, jdoe, "password-reset", reason="forgot it")
    shown = text_of(ada.get(done.headers["Location"]))
    assert "retrieves the single-use link from this page" in shown
    assert "Show the link once" not in shown  # the one who reset never sees it
    assert "Show the link once" in text_of(bob.get(f"/people/{jdoe}"))
    refused = act(ada, jdoe, "password-reset/handover")
    assert refused.status_code == 403
    assert "handed over by a second person" in text_of(refused)

    link = act(bob, jdoe, "password-reset/handover")
    assert link.status_code == 200
    assert link.headers["Cache-Control"] == "no-store"
    assert SET_PASSWORD in text_of(link)
    [handed] = events(services, "credential:password-setup:handed-over")
    assert handed.actor_id == people["bob"]
    assert "Show the link once" not in text_of(bob.get(f"/people/{jdoe}"))
    twice = act(bob, jdoe, "password-reset/handover")
    assert twice.status_code in (404, 409)
    assert SET_PASSWORD not in text_of(twice)


@pytest.mark.req("ACC-3")
@pytest.mark.req("AUD-1")
def test_an_admin_or_officer_revokes_every_session(
    app: Flask, services: Services, people: dict[str, str]
) -> None:
    jdoe_browser = signed(app, "jdoe")
    assert jdoe_browser.get("/").status_code == 200
    ada, jdoe = signed(app, "ada"), people["jdoe"]
    assert "No live web session." not in text_of(ada.get(f"/people/{jdoe}"))
    assert act(signed(app, "eve"), jdoe, "sessions/revoke", reason="x").status_code == 403
    done = act(ada, jdoe, "sessions/revoke", reason="laptop stolen")
    assert done.status_code == 303
    assert "Sessions of jdoe revoked: 1 web, 0 signing." in text_of(
        ada.get(done.headers["Location"])
    )
    [revoked] = events(services, "session:web:revoked")
    assert (revoked.actor_id, revoked.reason, revoked.target_id) == (
        people["ada"],
        "laptop stolen",
        jdoe,
    )
    assert jdoe_browser.get("/").status_code in (302, 303)  # signed out
    again = act(signed(app, "sam"), jdoe, "sessions/revoke", reason="again")
    assert again.status_code == 409
    assert "jdoe has no session to revoke" in text_of(again)


@pytest.mark.req("CMP-2")
def test_a_provider_keeps_the_password_of_its_people(
    app: Flask, services: Services, people: dict[str, str]
) -> None:
    with transaction(services.sessions) as session:
        session.get_one(Identity, people["eve"]).provider = "oidc:entra"
    ada = signed(app, "ada")
    assert "Reset the password" not in text_of(ada.get(f"/people/{people['eve']}"))
    refused = act(ada, people["eve"], "password-reset", reason="forgot")
    assert refused.status_code == 409
    assert "kept by that provider" in text_of(refused)
    assert not events(services, "credential:password:reset")
