"""Two-person integrity (issue 17, finding 1): a reset never hands the admin a usable secret,
the set-password link reaches only the owner, owners are told of every credential change, a
creator never verifies, and the first signing after a reset still needs what policy asks."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from idgov.alerts.models import Alert, AlertDelivery
from idgov.clients.models import HostClient
from idgov.clock import FrozenClock, iso_utc
from idgov.db import transaction
from idgov.errors import Forbidden, InvalidCredentials, NotEligible
from idgov.identity.models import Identity, Role
from idgov.wiring import Services
from tests.functional.api_client import sign_in
from tests.functional.hosts import all_audit_text
from tests.functional.people import NEW_PASSWORD, PASSWORD, csrf_of, events, person, problem
from tests.functional.signing import SOURCE, prepare, request, signer
from tests.functional.totp import code, enrolled

BASE = "/api/v1/identities"
CHOSEN = "Marble-Pelican-Orchard-62"


@pytest.fixture
def host(services: Services) -> HostClient:
    return prepare(services)[0]


@pytest.fixture
def people(services: Services, host: HostClient) -> dict[str, str]:
    """ada (admin, from prepare), sam (security officer), jdoe (verified, certified signer)."""
    with services.sessions() as session:
        ada = services.identities.by_username(session, "admin1")
    assert ada is not None
    return {
        "ada": ada.id,
        "sam": person(services, "sam", roles=(Role.SECURITY_OFFICER,), name="Sam Secure"),
        "jdoe": signer(services, "jdoe", ada.id, name="Jane Doe"),
    }


def notices(services: Services, identity_id: str, kind: str) -> list[Alert]:
    with services.sessions() as session:
        return list(
            session.scalars(
                select(Alert)
                .where(Alert.identity_id == identity_id, Alert.kind == kind)
                .order_by(Alert.raised_at, Alert.id)
            )
        )


def recipients(services: Services, alert: Alert) -> list[str]:
    with services.sessions() as session:
        return list(
            session.scalars(
                select(AlertDelivery.recipient).where(AlertDelivery.alert_id == alert.id)
            )
        )


def link_of(services: Services, identity_id: str) -> str:
    """The path of the newest set-password link, as the owner's mail carries it."""
    [*_, alert] = notices(services, identity_id, "password-setup")
    url = services.setup_links.url(json.loads(alert.details)["setup_id"])
    return url[url.index("/account/set-password/") :]


def set_password(client: FlaskClient, path: str, new: str = CHOSEN) -> Any:
    page = client.get(path)
    assert page.status_code == 200, page.get_data(as_text=True)
    form = {"csrf_token": csrf_of(page.get_data(as_text=True))}
    return client.post(path, data={**form, "new_password": new, "repeat_password": new})


def policy(services: Services, kind: str, change: dict[str, object]) -> None:
    with transaction(services.sessions) as session:
        services.policies.change(session, kind, change, reason="test", changed_by="t")


@pytest.mark.req("CMP-2")
def test_a_reset_answers_no_secret_and_mails_a_single_use_link_to_the_owner(
    app: Flask, services: Services, clock: FrozenClock, people: dict[str, str]
) -> None:
    officer = sign_in(app, "sam")
    reset = officer.post(f"{BASE}/{people['jdoe']}/password-reset", {"reason": "forgot it"})
    assert reset.status_code == 200, reset.get_data(as_text=True)
    answer = reset.get_json()
    assert answer == {
        "delivery": "email",
        "expires_at": iso_utc(clock.now() + timedelta(minutes=60)),
        "sent_to": "jdoe@example.com",
    }
    [setup_notice] = notices(services, people["jdoe"], "password-setup")
    assert recipients(services, setup_notice) == ["jdoe@example.com"]  # the owner only
    path = link_of(services, people["jdoe"])
    token = path.rsplit("/", 1)[1]
    # The link is in no answer, alert, audit event or alert listing the admin can read.
    assert token not in reset.get_data(as_text=True)
    assert token not in all_audit_text(services)
    assert token not in setup_notice.details
    assert token not in officer.get("/api/v1/alerts").get_data(as_text=True)
    # The old password stopped at once: nobody can sign in with it or sign.
    assert app.test_client().post(
        "/api/v1/session", json={"username": "jdoe", "password": PASSWORD}
    ).status_code in (401, 403)

    owner = app.test_client()
    done = set_password(owner, path)
    assert done.status_code == 302
    assert done.headers["Location"] == "/login"
    assert owner.get(path).status_code == 404  # single use
    signed_in = owner.post("/api/v1/session", json={"username": "jdoe", "password": CHOSEN})
    assert signed_in.status_code == 201
    assert signed_in.get_json()["must_change_password"] is False
    assert [e.action for e in events(services, "credential:password-setup:used")] == [
        "credential:password-setup:used"
    ]
    told = [a.summary for a in notices(services, people["jdoe"], "credential-changed")]
    assert told == ["Your idgov password was set"]


@pytest.mark.req("CMP-2")
def test_a_link_expires_and_a_newer_reset_replaces_it(
    app: Flask, services: Services, clock: FrozenClock, people: dict[str, str]
) -> None:
    officer = sign_in(app, "sam")
    officer.post(f"{BASE}/{people['jdoe']}/password-reset", {"reason": "first"})
    first = link_of(services, people["jdoe"])
    clock.advance(timedelta(minutes=1))
    officer.post(f"{BASE}/{people['jdoe']}/password-reset", {"reason": "second"})
    second = link_of(services, people["jdoe"])
    assert first != second
    gone = app.test_client().get(first)
    assert gone.status_code == 404
    assert gone.headers["Cache-Control"] == "no-store"
    assert gone.headers["Referrer-Policy"] == "no-referrer"
    assert app.test_client().get("/account/set-password/not-a-token").status_code == 404
    clock.advance(timedelta(minutes=60))
    assert app.test_client().get(second).status_code == 404


@pytest.mark.req("CMP-2")
def test_the_set_password_page_applies_the_password_rules(
    app: Flask, services: Services, people: dict[str, str]
) -> None:
    sign_in(app, "sam").post(f"{BASE}/{people['jdoe']}/password-reset", {"reason": "forgot"})
    path = link_of(services, people["jdoe"])
    owner = app.test_client()
    short = set_password(owner, path, "short")
    assert short.status_code == 422
    assert "does not meet the policy" in short.get_data(as_text=True)
    reused = set_password(owner, path, PASSWORD)  # in the history (PWD-2)
    assert reused.status_code == 422
    page = owner.get(path).get_data(as_text=True)
    forged = owner.post(path, data={"new_password": CHOSEN, "repeat_password": CHOSEN})
    assert forged.status_code == 403  # no CSRF token
    assert csrf_of(page)
    assert set_password(owner, path).status_code == 302  # still usable after refusals


@pytest.mark.req("CMP-2")
def test_a_person_without_an_address_gets_a_clear_refusal_in_email_mode(
    app: Flask, services: Services, people: dict[str, str]
) -> None:
    with transaction(services.sessions) as session:
        session.execute(update(Identity).where(Identity.id == people["jdoe"]).values(email=""))
    refused = sign_in(app, "sam").post(f"{BASE}/{people['jdoe']}/password-reset", {"reason": "x"})
    body = problem(refused, 409, "conflict")
    assert "handover" in body["detail"]
    assert body["field"] == "email"
    assert events(services, "credential:password:reset") == []
    assert (
        app.test_client()
        .post("/api/v1/session", json={"username": "jdoe", "password": PASSWORD})
        .status_code
        == 201
    )  # nothing changed


@pytest.mark.req("CMP-2")
def test_handover_mode_needs_a_second_person_who_gets_the_link_once(
    app: Flask, services: Services, people: dict[str, str]
) -> None:
    policy(services, "password", {"reset_delivery": "handover"})
    officer, admin = sign_in(app, "sam"), sign_in(app, "admin1")
    reset = officer.post(f"{BASE}/{people['jdoe']}/password-reset", {"reason": "forgot"})
    assert reset.get_json()["delivery"] == "handover"
    assert reset.get_json()["sent_to"] is None
    assert notices(services, people["jdoe"], "password-setup") == []
    [told] = notices(services, people["jdoe"], "credential-changed")
    assert recipients(services, told) == ["jdoe@example.com"]
    setup_id = json.loads(events(services, "credential:password:reset")[0].new_values)["setup_id"]
    path = services.setup_links.url(setup_id)
    path = path[path.index("/account/set-password/") :]
    assert app.test_client().get(path).status_code == 404  # not before it is handed over

    handover = f"{BASE}/{people['jdoe']}/password-reset/handover"
    problem(officer.post(handover), 403, "forbidden")  # the one who reset
    with transaction(services.sessions) as session:
        jdoe = services.identities.get(session, people["jdoe"])
        with pytest.raises(Forbidden):
            services.password_setups.hand_over(session, jdoe, jdoe)  # the owner
    given = admin.post(handover)
    assert given.status_code == 200, given.get_data(as_text=True)
    assert given.headers["Cache-Control"] == "no-store"
    assert given.get_json()["set_password_url"].endswith(path)
    problem(admin.post(handover), 409, "conflict")  # once
    [handed] = events(services, "credential:password-setup:handed-over")
    assert handed.actor_id == people["ada"]
    assert set_password(app.test_client(), path).status_code == 302


@pytest.mark.req("CMP-2")
@pytest.mark.req("CMP-1")
def test_the_first_signing_after_a_reset_still_needs_the_one_time_code(
    app: Flask, services: Services, clock: FrozenClock, host: HostClient, people: dict[str, str]
) -> None:
    policy(services, "signing", {"require_otp": "all"})
    _token, secret = enrolled(services, clock, people["jdoe"])
    sign_in(app, "sam").post(f"{BASE}/{people['jdoe']}/password-reset", {"reason": "forgot"})
    assert set_password(app.test_client(), link_of(services, people["jdoe"])).status_code == 302

    with pytest.raises(InvalidCredentials) as missing:
        services.signatures.sign(request("jdoe", password=CHOSEN), host, SOURCE)
    assert missing.value.extensions["reason"] == "otp-required"
    with pytest.raises((InvalidCredentials, NotEligible)):
        services.signatures.sign(request("jdoe"), host, SOURCE)  # the old password
    signed = services.signatures.sign(
        request("jdoe", password=CHOSEN, otp=code(secret, clock)), host, SOURCE
    )
    assert len(signed.signatures) == 1


@pytest.mark.req("CMP-2")
def test_the_owner_is_told_of_a_password_change_and_a_new_token(
    services: Services, clock: FrozenClock, people: dict[str, str]
) -> None:
    clock.advance(timedelta(days=2))  # past the minimum age (PWD-4)
    with transaction(services.sessions) as session:
        jdoe = services.identities.get(session, people["jdoe"])
        services.passwords.change(session, jdoe, PASSWORD, NEW_PASSWORD)
    enrolled(services, clock, people["jdoe"])
    told = notices(services, people["jdoe"], "credential-changed")
    assert sorted(a.summary for a in told) == [
        "A one-time-code token was enrolled for you",
        "Your idgov password was changed",
    ]
    assert all(recipients(services, a) == ["jdoe@example.com"] for a in told)
    assert {a.severity for a in told} == {"info"}  # notices: nothing to acknowledge


@pytest.mark.req("IDV-1")
def test_whoever_creates_a_person_cannot_also_verify_them(
    app: Flask, services: Services, people: dict[str, str]
) -> None:
    admin = sign_in(app, "admin1")
    created = admin.post(
        BASE,
        {"username": "jroe", "printed_name": "Jane Roe", "email": "jroe@example.com"},
    )
    assert created.status_code == 201
    new_id = created.get_json()["id"]
    evidence = {"evidence_type": "passport"}
    refused = problem(admin.post(f"{BASE}/{new_id}/verification", evidence), 403, "forbidden")
    assert "created" in refused["detail"]
    assert sign_in(app, "admin1").get(f"{BASE}/{new_id}").get_json()["status"] == (
        "pending_verification"
    )
    verified = sign_in(app, "sam").post(f"{BASE}/{new_id}/verification", evidence)
    assert verified.status_code == 200
    assert verified.get_json()["status"] == "active"
