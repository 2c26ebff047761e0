"""Alerts in the console for security officers: the queue, an alert's deliveries,
acknowledge, re-notify, the attack view, locked people and unlock (ALERT-1, LOCK-2, LOCK-3,
ACC-2)."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from idgov.alerts.models import Alert, AlertDelivery
from idgov.clock import FrozenClock
from idgov.db import transaction
from idgov.identity.models import Identity, IdentityStatus, Role
from idgov.wiring import Services
from tests.functional.people import csrf_of, events, fast_hashing, login, person, problem
from tests.functional.test_api_policies_alerts import sign_in

HOOK = "https://hooks.example.com/services/T0KEN-IN-PATH"


@pytest.fixture(autouse=True)
def staff(services: Services) -> dict[str, str]:
    """An admin, an active security officer, an auditor, a person, and where alerts go."""
    fast_hashing(services)
    people = {
        "ada": person(services, "ada", roles=(Role.ADMIN,), name="Ada Admin"),
        "sam": person(services, "sam", roles=(Role.SECURITY_OFFICER,), name="Sam Secure"),
        "eve": person(services, "eve", roles=(Role.AUDITOR,), name="Eve Analyst"),
        "jdoe": person(services, "jdoe", name="John Doe"),
    }
    with transaction(services.sessions) as session:  # an officer acts only when active
        officer, admin = (
            session.get_one(Identity, people["sam"]),
            session.get_one(Identity, people["ada"]),
        )
        services.identities.record_verification(session, officer, admin, "employee-badge")
        services.policies.change(
            session,
            "alerting",
            {
                "security_emails": ["security@example.com"],
                "webhooks": [{"url": HOOK, "secret": "env://HOOK_SECRET"}],
            },
            reason="tests",
            changed_by="test",
        )
    return people


def signed(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    assert login(client, username).status_code in (302, 303)
    return client


def lock_out(app: Flask, username: str) -> None:
    client = app.test_client()
    for _ in range(5):  # the default lockout policy locks at the fifth failure
        client.post("/api/v1/session", json={"username": username, "password": "wrong"})


def only_alert(services: Services, kind: str) -> Alert:
    with services.sessions() as session:
        [found] = session.scalars(select(Alert).where(Alert.kind == kind)).all()
        return found


def raise_alert(
    services: Services, clock: FrozenClock, summary: str, severity: str, about: str | None = None
) -> str:
    clock.advance(timedelta(minutes=1))
    with transaction(services.sessions) as session:
        identity = None if about is None else session.get_one(Identity, about)
        found = services.alerts.raise_alert(
            session,
            "test-pattern",
            summary,
            {"what": summary},
            severity=severity,
            identity=identity,
        )
        return found.id


def post(client: FlaskClient, page: str, action: str, **form: str) -> TestResponse:
    """POST `form` to `action` with the CSRF token of `page`."""
    token = csrf_of(client.get(page).get_data(as_text=True))
    return client.post(action, data={"csrf_token": token, **form})


def text_of(response: TestResponse) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.mark.req("ALERT-1")
def test_the_queue_lists_open_alerts_most_urgent_then_newest(
    app: Flask, services: Services, clock: FrozenClock
) -> None:
    raise_alert(services, clock, "old and high", "high")
    raise_alert(services, clock, "newer and medium", "medium")
    raise_alert(services, clock, "newest and high", "high")
    raise_alert(services, clock, "a notice", "info")
    done = raise_alert(services, clock, "handled", "critical")
    with transaction(services.sessions) as session:
        officer = services.identities.by_username(session, "sam")
        assert officer is not None
        services.alert_service.acknowledge(session, done, officer, "seen")
    page = text_of(signed(app, "sam").get("/alerts"))
    shown = re.findall(r"(old and high|newer and medium|newest and high|a notice|handled)", page)
    assert shown == ["newest and high", "old and high", "newer and medium"]
    assert "3 alerts waiting for a security officer" in page
    handled = text_of(signed(app, "sam").get("/alerts?status=acknowledged"))
    assert "handled" in handled
    assert "by sam" in handled


@pytest.mark.req("ALERT-1")
def test_an_alert_shows_its_delivery_per_recipient_and_channel(
    app: Flask, services: Services
) -> None:
    lock_out(app, "jdoe")
    alert = only_alert(services, "lockout")
    with transaction(services.sessions) as session:
        mail = session.scalars(select(AlertDelivery).where(AlertDelivery.channel == "email")).one()
        mail.status, mail.attempts, mail.last_error = "pending", 2, "SMTP 451 try later"
    page = text_of(signed(app, "sam").get(f"/alerts/{alert.id}"))
    assert "security@example.com" in page
    assert "SMTP 451 try later" in page
    assert "https://hooks.example.com/..." in page
    assert "T0KEN-IN-PATH" not in page  # a webhook's path may carry its token
    assert "Deliveries per recipient and channel" in page


@pytest.mark.req("ALERT-1")
def test_an_officer_acknowledges_with_a_note_and_sees_what_was_recorded(
    app: Flask, services: Services, staff: dict[str, str]
) -> None:
    lock_out(app, "jdoe")
    alert = only_alert(services, "lockout")
    officer = signed(app, "sam")
    page = f"/alerts/{alert.id}"
    empty = post(officer, page, f"{page}/acknowledge", note="  ")
    assert empty.status_code == 400
    assert 'id="f-acknowledge-note" name="note"' in text_of(empty)
    assert 'aria-invalid="true">' in text_of(empty)
    assert "a note is required" in text_of(empty)
    assert only_alert(services, "lockout").acknowledged_at is None

    done = post(officer, page, f"{page}/acknowledge", note="called John: holiday typos")
    assert done.status_code == 303, text_of(done)
    shown = text_of(officer.get(page))
    assert "recorded in the audit trail with your note: called John: holiday typos" in shown
    assert "by sam" in shown
    assert 'name="note"' not in shown
    [event] = events(services, "alert:lockout:acknowledged")
    assert (event.actor_id, event.reason) == (staff["sam"], "called John: holiday typos")


@pytest.mark.req("ACC-2")
def test_an_alert_about_the_officer_is_refused_on_the_form(
    app: Flask, services: Services, clock: FrozenClock, staff: dict[str, str]
) -> None:
    alert_id = raise_alert(services, clock, "about Sam", "high", about=staff["sam"])
    officer = signed(app, "sam")
    page = f"/alerts/{alert_id}"
    assert "This alert is about you" in text_of(officer.get(page))
    refused = post(officer, page, f"{page}/acknowledge", note="it was me")
    assert refused.status_code == 403
    body = text_of(refused)
    assert "must be acknowledged by another security officer" in body
    assert 'role="alert"' in body
    assert "it was me" in body
    assert len(events(services, "alert:acknowledgement:refused")) == 1
    with services.sessions() as session:
        assert session.get_one(Alert, alert_id).acknowledged_at is None


@pytest.mark.req("ALERT-1")
def test_re_notify_starts_a_new_round_with_a_reason(
    app: Flask, services: Services, staff: dict[str, str]
) -> None:
    lock_out(app, "jdoe")
    alert = only_alert(services, "lockout")
    officer = signed(app, "sam")
    page = f"/alerts/{alert.id}"
    missing = post(officer, page, f"{page}/renotify", reason="")
    assert missing.status_code == 400
    assert 'id="f-renotify-reason" name="reason"' in text_of(missing)
    assert "a reason is required to re-notify" in text_of(missing)

    done = post(officer, page, f"{page}/renotify", reason="mail server was down")
    assert done.status_code == 303
    assert "Notification 2 queued" in text_of(officer.get(page))
    with services.sessions() as session:
        rows = session.scalars(
            select(AlertDelivery).where(AlertDelivery.alert_id == alert.id)
        ).all()
    assert {(row.round, row.status) for row in rows} == {(1, "superseded"), (2, "pending")}
    [event] = events(services, "alert:lockout:renotified")
    assert (event.actor_id, event.reason) == (staff["sam"], "mail server was down")

    post(officer, page, f"{page}/acknowledge", note="handled")
    late = post(officer, page, f"{page}/renotify", reason="again")
    assert late.status_code == 409
    assert "already acknowledged" in text_of(late)


@pytest.mark.req("ACC-2")
def test_auditors_read_alerts_but_only_officers_act(app: Flask, services: Services) -> None:
    lock_out(app, "jdoe")
    alert = only_alert(services, "lockout")
    auditor = signed(app, "eve")
    page = f"/alerts/{alert.id}"
    shown = text_of(auditor.get(page))
    assert "John" in text_of(auditor.get("/alerts"))
    assert 'name="note"' not in shown
    for action in ("acknowledge", "renotify"):
        refused = post(auditor, page, f"{page}/{action}", note="x", reason="x")
        assert refused.status_code == 403
    assert len(events(services, "access:alert_pages-acknowledge:refused")) == 1
    assert only_alert(services, "lockout").acknowledged_at is None
    assert signed(app, "ada").get("/alerts").status_code == 403
    assert signed(app, "ada").get("/lockouts").status_code == 403


@pytest.mark.req("LOCK-3")
def test_the_attack_view_shows_sources_and_unknown_usernames_as_pseudonyms(
    app: Flask, services: Services
) -> None:
    guesser = app.test_client()
    for name in ("root", "root", "oracle"):
        guesser.post("/api/v1/session", json={"username": name, "password": "guess"})
    lock_out(app, "jdoe")
    page = text_of(signed(app, "sam").get("/alerts/attacks"))
    assert "Failures by source address" in page
    assert re.search(r"<td>127\.0\.0\.1</td><td>8</td><td>3</td>", page), page
    pseudonyms = re.findall(r"<code class=\"hash\">(hmac-sha256:[^<]+)</code></td><td>(\d+)", page)
    assert sorted(int(n) for _, n in pseudonyms) == [1, 2]
    assert "root" not in page
    assert "oracle" not in page
    assert "Anonymous refusals over time" in page
    assert "window still open" in page

    bad = signed(app, "sam").get("/alerts/attacks?hours=forever")
    assert bad.status_code == 400
    assert 'aria-invalid="true"' in text_of(bad)
    assert "Last hours" in text_of(bad)
    assert signed(app, "sam").get("/alerts/attacks?hours=0").status_code == 400


@pytest.mark.req("LOCK-2")
def test_the_officer_home_page_counts_and_links_to_unlock(
    app: Flask, services: Services, staff: dict[str, str]
) -> None:
    lock_out(app, "jdoe")
    officer = signed(app, "sam")
    home = text_of(officer.get("/"))
    assert "1 open alert" in home
    assert "1 locked person" in home
    assert f'href="/lockouts#person-{staff["jdoe"]}">unlock with a reason' in home
    assert "Waiting for a security officer" not in text_of(signed(app, "ada").get("/"))


@pytest.mark.req("LOCK-2")
def test_an_officer_unlocks_with_a_reason_and_the_alert_is_resolved(
    app: Flask, services: Services, staff: dict[str, str]
) -> None:
    lock_out(app, "jdoe")
    officer = signed(app, "sam")
    action = f"/lockouts/{staff['jdoe']}/unlock"
    empty = post(officer, "/lockouts", action, reason=" ")
    assert empty.status_code == 400
    body = text_of(empty)
    assert f'id="reason-{staff["jdoe"]}"' in body
    assert 'aria-invalid="true"' in body
    assert "a reason is required to unlock" in body
    with services.sessions() as session:
        assert session.get_one(Identity, staff["jdoe"]).status == IdentityStatus.LOCKED

    done = post(officer, "/lockouts", action, reason="identity confirmed by phone")
    assert done.status_code == 303
    shown = text_of(officer.get("/lockouts"))
    assert "jdoe is unlocked" in shown
    assert "identity confirmed by phone" in shown
    assert "Nobody is locked." in shown
    [cleared] = events(services, "identity:lockout:cleared")
    assert (cleared.actor_id, cleared.reason) == (staff["sam"], "identity confirmed by phone")
    assert only_alert(services, "lockout").acknowledged_at is not None

    again = post(officer, "/lockouts", action, reason="twice")
    assert again.status_code == 409
    assert "jdoe is not locked" in text_of(again)


@pytest.mark.req("LOCK-2")
def test_nobody_but_a_security_officer_unlocks(
    app: Flask, services: Services, staff: dict[str, str]
) -> None:
    lock_out(app, "jdoe")
    admin = signed(app, "ada")
    token = csrf_of(admin.get("/account/password").get_data(as_text=True))
    refused = admin.post(
        f"/lockouts/{staff['jdoe']}/unlock", data={"csrf_token": token, "reason": "x"}
    )
    assert refused.status_code == 403
    no_csrf = signed(app, "sam").post(f"/lockouts/{staff['jdoe']}/unlock", data={"reason": "x"})
    assert no_csrf.status_code == 403
    with services.sessions() as session:
        assert session.get_one(Identity, staff["jdoe"]).status == IdentityStatus.LOCKED


@pytest.mark.req("ALERT-1")
def test_re_notify_over_the_api_has_the_same_rule_and_role(
    app: Flask, services: Services, clock: FrozenClock, staff: dict[str, str]
) -> None:
    lock_out(app, "jdoe")
    alert = only_alert(services, "lockout")
    path = f"/api/v1/alerts/{alert.id}/renotification"
    problem(sign_in(app, "eve").post(path, {"reason": "x"}), 403, "forbidden")
    officer = sign_in(app, "sam")
    problem(officer.post(path, {}), 422, "invalid-request")
    done = officer.post(path, {"reason": "webhook receiver restarted"})
    assert done.status_code == 200, done.get_data(as_text=True)
    assert done.get_json()["deliveries_pending"] == 2  # the new round's e-mail and webhook
    [event] = events(services, "alert:lockout:renotified")
    assert event.reason == "webhook receiver restarted"
    officer.post(f"/api/v1/alerts/{alert.id}/acknowledgement", {"note": "done"})
    problem(officer.post(path, {"reason": "again"}), 409, "conflict")
    notice = raise_alert(services, clock, "your password expires", "info")
    problem(
        officer.post(f"/api/v1/alerts/{notice}/renotification", {"reason": "x"}), 409, "conflict"
    )
