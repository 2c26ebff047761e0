"""The ceremony page /sign/{id}: what the person sees, signing, declining, and every way it can
go wrong without signing anything or losing anything (11.50, 11.200, LOCK-1, AUD-1)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from idgov.clock import FrozenClock
from idgov.db import transaction
from idgov.wiring import Services
from tests.functional.ceremony_support import (
    PERSON,
    RETURN_URL,
    host,
    open_page,
    returned,
    shorter,
    sign_through,
    signature_count,
    submit,
)
from tests.functional.people import events, load, login
from tests.functional.signing import record, verified
from tests.functional.totp import code, enrolled

UNKNOWN = "0b5d1c0e-2a4e-4a37-9d68-1f1f3c0e9a11"


def identity_id(services: Services, username: str) -> str:
    with services.sessions() as session:
        found = services.identities.by_username(session, username)
        assert found is not None
        return found.id


@pytest.mark.req("MAN-1")
@pytest.mark.req("CMP-2")
def test_the_page_shows_what_is_signed_and_by_whom(
    services: Services, app: Flask, client: FlaskClient
) -> None:
    lims = host(services, app)
    records = [record("SOP-7", "2"), record("SOP-8", "1")]
    created = lims.created(records=records, signer="jdoe", reason="Annual review")
    page, csrf = open_page(client, created["id"])
    text = page.get_data(as_text=True)

    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    for shown in records:
        assert shown["digest"] in text
        assert shown["title"] in text
        assert shown["id"] in text
    assert "I approve this record." in text  # the meaning's statement (MAN-1)
    assert "Annual review" in text
    assert "Jane Doe (jdoe)" in text  # the printed name of the person signing
    assert "legally binding equivalent" in text  # 11.100(c)
    assert 'name="username" type="text" value="jdoe" readonly' in text
    assert "2026-03-02 09:40 UTC" in text
    assert "<script" not in text  # works without JavaScript
    assert csrf


def test_the_signed_in_persons_username_is_offered(
    services: Services, app: Flask, client: FlaskClient
) -> None:
    lims = host(services, app)
    created = lims.created()
    login(client, "jdoe")
    page, csrf = open_page(client, created["id"])
    assert "Jane Doe (jdoe)" in page.get_data(as_text=True)
    returned(submit(client, created["id"], csrf))  # the session's CSRF token serves


@pytest.mark.req("LOCK-1")
def test_a_wrong_password_counts_answers_like_an_unknown_user_and_keeps_the_request(
    services: Services, app: Flask, client: FlaskClient
) -> None:
    lims = host(services, app)
    created = lims.created()
    _page, csrf = open_page(client, created["id"])

    wrong = submit(client, created["id"], csrf, password="not-the-password")
    unknown = submit(client, created["id"], csrf, username="nobody", password="whatever-1")

    assert wrong.status_code == unknown.status_code == 401
    assert _error(wrong) == _error(unknown)  # LOCK-3: nothing tells them apart
    assert load(services, identity_id(services, "jdoe")).failed_attempts == 1
    assert lims.read(created["id"]).get_json()["status"] == "pending"
    assert signature_count(services) == 0
    returned(submit(client, created["id"], csrf))  # the right password still signs


def _error(response: Any) -> str:
    text = response.get_data(as_text=True)
    return text.split('class="error" role="alert">', 1)[1].split("<", 1)[0]


@pytest.mark.req("LOCK-1")
def test_wrong_passwords_at_the_ceremony_lock_the_person_and_fail_the_request(
    services: Services, app: Flask, client: FlaskClient
) -> None:
    lims = host(services, app)
    created = lims.created()
    _page, csrf = open_page(client, created["id"])
    for _ in range(4):
        assert submit(client, created["id"], csrf, password="wrong-wrong-1").status_code == 401
    fifth = submit(client, created["id"], csrf, password="wrong-wrong-1")  # locks at N = 5
    text = fifth.get_data(as_text=True)

    assert load(services, identity_id(services, "jdoe")).status == "locked"
    assert "error=failed" in text
    assert "No signature" in text
    assert submit(client, created["id"], csrf).status_code == 409  # the request has ended
    answer = lims.read(created["id"]).get_json()
    assert answer["status"] == "failed"
    assert answer["reason"].startswith("locked")
    assert signature_count(services) == 0
    assert len(events(services, "identity:status:locked")) == 1
    assert len(events(services, "alert:lockout:raised")) == 1  # ALERT-1


def test_an_ineligible_person_fails_the_request_with_the_reason(
    services: Services, app: Flask, client: FlaskClient
) -> None:
    lims = host(services, app)
    created = lims.created()
    ended = sign_through(client, created["id"], username="newbie")
    assert ended.status_code == 200
    assert "error=failed" in ended.get_data(as_text=True)
    answer = lims.read(created["id"]).get_json()
    assert answer["status"] == "failed"
    assert answer["reason"].startswith("not-eligible")
    assert signature_count(services) == 0


@pytest.mark.req("CMP-2")
def test_a_signer_other_than_the_named_one_is_refused_and_nothing_counts(
    services: Services, app: Flask, client: FlaskClient
) -> None:
    lims = host(services, app)
    created = lims.created(signer="newbie")
    _page, csrf = open_page(client, created["id"])
    refused = submit(client, created["id"], csrf, username="jdoe")
    assert refused.status_code == 403
    assert "another person" in refused.get_data(as_text=True)
    assert load(services, identity_id(services, "jdoe")).failed_attempts == 0
    assert lims.read(created["id"]).get_json()["status"] == "pending"
    assert signature_count(services) == 0


def test_a_request_completes_once(services: Services, app: Flask, client: FlaskClient) -> None:
    lims = host(services, app)
    created = lims.created()
    _page, csrf = open_page(client, created["id"])
    returned(submit(client, created["id"], csrf))
    again = submit(client, created["id"], csrf)
    assert again.status_code == 409
    assert "signed already" in again.get_data(as_text=True)
    assert signature_count(services) == 1
    assert len(events(services, "signature:request:completed")) == 1


def test_a_concurrent_second_completion_undoes_its_own_signing(
    services: Services, app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two submits that both pass the first check: the second finds the request completed in
    # its signing transaction and its signatures roll back.
    lims = host(services, app)
    created = lims.created()
    _page, csrf = open_page(client, created["id"])
    ceremonies = services.ceremonies
    original = ceremonies.opened
    first = original(created["id"])
    monkeypatch.setattr(ceremonies, "opened", lambda _id: first)
    returned(submit(client, created["id"], csrf))
    again = submit(client, created["id"], csrf)
    assert again.status_code == 409
    assert signature_count(services) == 1


def test_the_form_needs_its_csrf_token_and_this_browser(
    services: Services, app: Flask, client: FlaskClient
) -> None:
    lims = host(services, app)
    created = lims.created()
    _page, csrf = open_page(client, created["id"])
    other_browser = app.test_client()
    assert submit(other_browser, created["id"], csrf).status_code == 403
    assert submit(client, created["id"], "tampered" + csrf).status_code == 403
    assert submit(client, created["id"], "").status_code == 403
    assert load(services, identity_id(services, "jdoe")).failed_attempts == 0
    assert signature_count(services) == 0
    assert lims.read(created["id"]).get_json()["status"] == "pending"


def test_declining_returns_to_the_host_and_ends_the_request(
    services: Services, app: Flask, client: FlaskClient
) -> None:
    lims = host(services, app)
    created = lims.created(state="s-1")
    _page, csrf = open_page(client, created["id"])
    response = client.post(
        f"/sign/{created['id']}/decline", data={"csrf_token": csrf}, environ_base=PERSON
    )
    target, query = returned(response)
    assert target == RETURN_URL
    assert query == {"signing_request": created["id"], "state": "s-1", "error": "declined"}
    assert lims.read(created["id"]).get_json()["status"] == "declined"
    assert submit(client, created["id"], csrf).status_code == 409
    assert signature_count(services) == 0
    assert len(events(services, "signature:request:declined")) == 1


def test_an_expired_request_signs_nothing(
    services: Services, app: Flask, client: FlaskClient, clock: FrozenClock
) -> None:
    lims = host(services, app)
    shorter(services, minutes=2)
    created = lims.created()
    _page, csrf = open_page(client, created["id"])
    clock.advance(timedelta(minutes=2))
    ended = submit(client, created["id"], csrf)
    text = ended.get_data(as_text=True)
    assert "error=expired" in text
    assert "has expired" in text
    assert signature_count(services) == 0
    assert load(services, identity_id(services, "jdoe")).failed_attempts == 0
    assert lims.read(created["id"]).get_json()["status"] == "expired"
    assert "error=expired" in open_page(client, created["id"])[0].get_data(as_text=True)


BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def test_unknown_and_malformed_ids_are_not_found(client: FlaskClient) -> None:
    for request_id in (UNKNOWN, "nope", "%00"):  # a malformed one: 404 from routing
        response = client.get(f"/sign/{request_id}", headers={"Accept": BROWSER})
        assert response.status_code == 404
        assert response.mimetype == "text/html"
    assert client.post(f"/sign/{UNKNOWN}", data={}).status_code in {403, 404}


@pytest.mark.req("AUD-1")
def test_the_database_down_at_submit_signs_nothing_and_says_so(
    services: Services,
    app: Flask,
    client: FlaskClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lims = host(services, app)
    created = lims.created()
    _page, csrf = open_page(client, created["id"])
    original = services.trail.record

    def down(session: Session, action: str, *args: Any, **kwargs: Any) -> Any:
        if action == "signature:record:signed":
            raise OperationalError("INSERT", {}, Exception("connection lost"))
        return original(session, action, *args, **kwargs)

    monkeypatch.setattr(services.trail, "record", down)
    response = submit(client, created["id"], csrf)
    assert response.status_code == 503
    assert "nothing was signed" in response.get_data(as_text=True)
    monkeypatch.undo()
    assert signature_count(services) == 0
    assert lims.read(created["id"]).get_json()["status"] == "pending"
    returned(submit(client, created["id"], csrf))  # back up: the same request still signs


@pytest.mark.req("CMP-1")
def test_a_token_holder_signs_with_the_code_of_the_token(
    services: Services, app: Flask, client: FlaskClient, clock: FrozenClock
) -> None:
    lims = host(services, app)
    _token_id, secret = enrolled(services, clock, identity_id(services, "jdoe"))
    created = lims.created(signer="jdoe")
    page, csrf = open_page(client, created["id"])
    text = page.get_data(as_text=True)
    assert '<label for="otp">One-time code from your token</label>' in text  # required, CMP-1
    without = submit(client, created["id"], csrf)
    assert without.status_code == 401
    returned(submit(client, created["id"], csrf, otp=code(secret, clock)))
    result = lims.read(created["id"]).get_json()["result"]
    payload = verified(services, result["token"])
    assert payload["authn"]["components"] == ["username", "password", "otp"]


def test_a_disabled_host_fails_its_open_requests(
    services: Services, app: Flask, client: FlaskClient
) -> None:
    lims = host(services, app)
    created = lims.created()
    _page, csrf = open_page(client, created["id"])
    with transaction(services.sessions) as session:
        services.clients.disable(session, "lims", reason="retired")
    ended = submit(client, created["id"], csrf)
    assert "error=failed" in ended.get_data(as_text=True)
    assert signature_count(services) == 0
    assert load(services, identity_id(services, "jdoe")).failed_attempts == 0


def test_a_malformed_code_is_explained_and_counts_nothing(
    services: Services, app: Flask, client: FlaskClient
) -> None:
    lims = host(services, app)
    created = lims.created()
    _page, csrf = open_page(client, created["id"])
    response = submit(client, created["id"], csrf, otp="12 34 56")
    assert response.status_code == 400
    assert "6 to 8 digits" in response.get_data(as_text=True)
    assert load(services, identity_id(services, "jdoe")).failed_attempts == 0
    assert submit(client, created["id"], csrf, username="", password="").status_code == 400
