"""Issue 17, findings 4, 5 and 8: honest audit values, printable signed text, smaller items."""

from __future__ import annotations

import json
import os
import re
import stat
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pydantic import ValidationError
from sqlalchemy import select

from idgov.alerts.models import Alert
from idgov.audit.canonical import REDACTED, SECRET_FIELDS
from idgov.audit.models import AuditEvent
from idgov.clock import FrozenClock
from idgov.config import DatabaseSettings
from idgov.db import make_engine, transaction
from idgov.errors import Forbidden, InvalidRequest, UnprocessableRequest
from idgov.identity.creation import NewIdentity
from idgov.identity.models import Identity, Role
from idgov.web.api.review_schemas import DecisionIn
from idgov.wiring import Services
from tests.functional.api_client import sign_in
from tests.functional.hosts import HOST_ADDRESS, bearer, register, token_for
from tests.functional.people import NEW_PASSWORD, PASSWORD, events, person, problem
from tests.functional.signing import body, prepare, record, signer
from tests.functional.totp import enrolled

SIGN = "/api/v1/signatures"
VERIFY = "/api/v1/signatures/verify"
HOST = {"REMOTE_ADDR": HOST_ADDRESS}
FORGED = [
    "approved\r\nElectronically signed by Ada Admin",
    "approved\nElectronically signed by Ada Admin",
    "approved\tby Ada",
    "\u202eevorppa",  # RIGHT-TO-LEFT OVERRIDE (TR #9)
    "ok\u2066hidden\u2069",  # isolates
    "ok\u200bthere",  # ZERO WIDTH SPACE (Cf, TR #36)
    "ok\ufeff",
    "ok\u0085next",  # C1 NEXT LINE
    "ok\u2028next",  # LINE SEPARATOR
]


@pytest.fixture
def host(services: Services, client: FlaskClient) -> tuple[str, str]:
    """A host client's (client id, secret); jdoe signs through it."""
    _lims, admin = prepare(services, host="lims-internal")
    signer(services, "jdoe", admin, name="Jane Doe")
    return register(services, "lims", ("signatures",))


def bearer_of(client: FlaskClient, host: tuple[str, str]) -> str:
    return token_for(client, *host)


def sign(client: FlaskClient, token: str, payload: object) -> Any:
    return client.post(SIGN, json=payload, headers=bearer(token), environ_base=HOST)


def all_values(services: Services) -> list[tuple[str, Any, Any]]:
    """(action, old, new) of every audit event, and every alert's details as ("alert", ...)."""
    with services.sessions() as session:
        found: list[tuple[str, Any, Any]] = [
            (e.action, json.loads(e.old_values), json.loads(e.new_values))
            for e in session.scalars(select(AuditEvent).order_by(AuditEvent.seq))
        ]
        found += [
            (f"alert:{a.kind}", None, json.loads(a.details)) for a in session.scalars(select(Alert))
        ]
    return found


def redacted_keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        keys = {k for k, v in value.items() if v == REDACTED}
        return keys.union(*(redacted_keys(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(redacted_keys(v) for v in value))
    return set()


def keys_of(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value).union(*(keys_of(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(keys_of(v) for v in value))
    return set()


def load_by_name(services: Services, username: str) -> str:
    with services.sessions() as session:
        found = session.scalar(select(Identity.id).where(Identity.username == username))
    assert found is not None
    return found


# Finding 4 -----------------------------------------------------------------------------------


@pytest.mark.req("AUD-1")
def test_every_events_values_appear_unless_secret(
    services: Services, client: FlaskClient, host: tuple[str, str], clock: FrozenClock
) -> None:
    """A scenario through policies, identities, host clients (secret and its rotation),
    signing, a TOTP enrolment, a password change, a lockout and a loss report: no value but a
    named secret is redacted, and no raw secret is anywhere in the trail or the alerts."""
    token = bearer_of(client, host)
    with transaction(services.sessions) as session:
        services.policies.change(
            session,
            "signing",
            {"require_otp": "roles", "otp_roles": ["admin"]},
            reason="OTP for administrators only",
            changed_by="test",
        )
        _other, client_secret = services.clients.add(session, "eqms", ["signatures"])
        rotated = services.clients.rotate_secret(session, "eqms", reason="yearly")[1]
    assert sign(client, token, body("jdoe")).status_code == 201
    jdoe = load_by_name(services, "jdoe")
    _token_id, seed = enrolled(services, clock, jdoe)
    clock.advance(timedelta(days=2))  # past the minimum age of a password
    with transaction(services.sessions) as session:
        services.passwords.change(
            session, services.identities.get(session, jdoe), PASSWORD, NEW_PASSWORD
        )
    for _ in range(5):  # a lockout and its alert
        client.post("/api/v1/session", json={"username": "jdoe", "password": "Wrong-Guess-1"})
    officer = person(services, "sam", roles=(Role.SECURITY_OFFICER,))
    with transaction(services.sessions) as session:
        owner = session.get_one(Identity, person(services, "lena"))
        reporter = session.get_one(Identity, officer)
        services.loss.report(session, owner, reporter, "password", "compromised")

    found = all_values(services)
    text = json.dumps(found, ensure_ascii=False)
    for secret in (PASSWORD, NEW_PASSWORD, client_secret, rotated, seed, "Wrong-Guess-1"):
        assert secret not in text
    for action, old, new in found:
        assert redacted_keys(old) | redacted_keys(new) <= SECRET_FIELDS, action
    keys = set().union(*(keys_of(old) | keys_of(new) for _action, old, new in found))
    # What the key-name pattern used to hide: the OTP rule for signing, which credential was
    # lost, and the forced password change.
    assert {"require_otp", "otp_roles", "credential", "must_change_password"} <= keys
    [policy] = [new for action, _old, new in found if action == "policy:signing:changed"]
    assert (policy["require_otp"], policy["otp_roles"]) == ("roles", ["admin"])
    [lost] = [new for action, _old, new in found if action == "loss:case:reported"]
    assert lost["credential"] == "password"


# Finding 5 -----------------------------------------------------------------------------------


@pytest.mark.req("MAN-1")
@pytest.mark.parametrize("text", FORGED)
@pytest.mark.parametrize("field", ["reason", "title", "id", "type"])
def test_signed_text_with_control_bidi_or_invisible_characters_is_refused(
    services: Services, client: FlaskClient, host: tuple[str, str], field: str, text: str
) -> None:
    token = bearer_of(client, host)
    target = record()
    payload = (
        body("jdoe", record={**target, field: text})
        if field != "reason"
        else body("jdoe", reason=text)
    )
    answer = problem(sign(client, token, payload), 422, "invalid-request")
    assert field in json.dumps(answer)
    assert events(services, "signature:record:signed") == []


@pytest.mark.req("MAN-1")
@pytest.mark.parametrize("text", FORGED)
def test_printed_names_and_meanings_refuse_them_too(services: Services, text: str) -> None:
    prepare(services)
    forger = NewIdentity("forger", f"Ada{text}Admin", "forger@example.com")
    with (
        pytest.raises(InvalidRequest, match="printed_name must not contain") as refused,
        transaction(services.sessions) as session,
    ):
        services.identities.create(session, forger)
    assert refused.value.extensions["field"] == "printed_name"
    meanings = [{"code": "approval", "statement": f"I approve.{text}"}]
    with (
        pytest.raises(UnprocessableRequest, match="statement"),
        transaction(services.sessions) as session,
    ):
        services.policies.change(
            session, "signing", {"meanings": meanings}, reason="forged", changed_by="test"
        )
    with services.sessions() as session:
        assert session.scalar(select(Identity).where(Identity.username == "forger")) is None


# Finding 8 -----------------------------------------------------------------------------------


@pytest.mark.req("ACC-2")
@pytest.mark.req("ALERT-1")
def test_an_officer_cannot_acknowledge_an_alert_about_themself(services: Services) -> None:
    sam = person(services, "sam", roles=(Role.SECURITY_OFFICER,))
    with transaction(services.sessions) as session:
        officer = session.get_one(Identity, sam)
        officer.status = "active"
        alert = services.alerts.raise_alert(session, "lockout", "sam locked", {}, identity=officer)
        alert_id = alert.id
    with (
        pytest.raises(Forbidden, match="another security officer"),
        transaction(services.sessions) as session,
    ):
        services.alert_service.acknowledge(
            session, alert_id, session.get_one(Identity, sam), "it was me"
        )
    with services.sessions() as session:
        assert session.get_one(Alert, alert_id).acknowledged_at is None
    [refused] = events(services, "alert:acknowledgement:refused")
    assert refused.target_id == alert_id


@pytest.mark.req("ACC-1")
def test_the_sqlite_database_file_is_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "instance" / "idgov.db"
    engine = make_engine(DatabaseSettings(url=f"sqlite:///{path}"))
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("CREATE TABLE t (x INTEGER)")
        files = [p for p in path.parent.iterdir() if p.name.startswith("idgov.db")]
        assert files
        for found in files:
            assert stat.S_IMODE(found.stat().st_mode) == 0o600, found.name
    finally:
        engine.dispose()
    os.chmod(path, 0o644)  # a file left readable by an older version is tightened
    make_engine(DatabaseSettings(url=f"sqlite:///{path}")).dispose()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.req("LNK-1")
def test_verify_needs_a_record_or_digest_and_checks_the_audience(
    services: Services, client: FlaskClient, host: tuple[str, str]
) -> None:
    client_id, token = host[0], bearer_of(client, host)
    signed = sign(client, token, body("jdoe")).get_json()["token"]
    target = record()
    check = {"token": signed, "digest": target["digest"]}

    def verify(payload: dict[str, Any]) -> Any:
        return client.post(VERIFY, json=payload, headers=bearer(token), environ_base=HOST)

    answer = problem(verify({"token": signed}), 422, "invalid-request")
    assert "digest or record" in json.dumps(answer)
    assert verify(check).get_json()["valid"] is True
    assert verify({**check, "aud": client_id}).get_json()["valid"] is True
    other = verify({**check, "aud": "another-host"}).get_json()
    assert (other["valid"], other["reasons"]) == (False, ["wrong-audience"])
    described = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]["VerifyIn"]
    assert [rule["required"] for rule in described["anyOf"]] == [["digest"], ["record"]]


@pytest.mark.req("AUD-1")
def test_a_clients_request_id_is_kept_beside_ours(
    services: Services, client: FlaskClient, host: tuple[str, str]
) -> None:
    token = bearer_of(client, host)
    response = client.post(
        SIGN,
        json=body("jdoe"),
        headers={**bearer(token), "X-Request-ID": "host-42.retry_1"},
        environ_base=HOST,
    )
    assert response.status_code == 201
    ours = response.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", ours)
    assert response.headers["X-Client-Request-ID"] == "host-42.retry_1"
    [event] = events(services, "signature:record:signed")
    assert event.request_id == ours
    assert json.loads(event.new_values)["client_request_id"] == "host-42.retry_1"


@pytest.mark.req("CMP-1")
def test_a_signing_session_ends_at_its_absolute_lifetime(
    services: Services, client: FlaskClient, host: tuple[str, str], clock: FrozenClock
) -> None:
    token = bearer_of(client, host)
    with transaction(services.sessions) as session:
        services.policies.change(
            session,
            "signing",
            {"session_absolute_hours": 1},
            reason="one hour at most",
            changed_by="test",
        )
    first = sign(client, token, body("jdoe")).get_json()["signing_session"]
    session_id = first["id"]
    for step in range(5):  # busy: never idle for 15 minutes, yet it ends after one hour
        clock.advance(timedelta(minutes=14))
        token = bearer_of(client, host)  # a host token lives shorter than this test
        answer = sign(
            client, token, body("jdoe", signing_session=session_id, record=record(f"SOP-{step}"))
        )
        if step < 4:
            assert answer.status_code == 201, answer.get_data(as_text=True)
            assert (
                answer.get_json()["signing_session"]["expires_at"] <= "2026-03-02T10:30:00.000000Z"
            )
    problem(answer, 409, "out-of-sequence")


@pytest.mark.req("PWD-4")
@pytest.mark.parametrize("guess", ["P@ssw0rd1!", "p4$$w0rd", "W3lcome!", "Passw0rd2024"])
def test_the_blocklist_sees_through_case_substitutions_and_padding(
    services: Services, guess: str
) -> None:
    from idgov.policies.documents import PasswordPolicy
    from idgov.policies.password import check_quality

    problems = check_quality(guess, PasswordPolicy(min_length=8), "someone", "Some One")
    assert "the password is in the blocklist of common passwords" in problems


@pytest.mark.req("MAN-1")
@pytest.mark.parametrize("name", ["Ada\u202eAdmin", "Ada\r\nElectronically signed by Bob"])
def test_an_admin_cannot_create_a_printed_name_that_forges_lines(
    app: Flask, services: Services, name: str
) -> None:
    prepare(services)
    admin = sign_in(app, "admin1")
    new = {"username": "forger", "printed_name": name, "email": "forger@example.com"}
    answer = problem(admin.post("/api/v1/identities", new), 422, "invalid-request")
    assert "printed_name" in json.dumps(answer)
    with services.sessions() as session:
        assert session.scalar(select(Identity).where(Identity.username == "forger")) is None


@pytest.mark.req("REV-3")
@pytest.mark.parametrize("text", FORGED)
def test_a_review_justification_is_one_printable_line(text: str) -> None:
    """Printed beside the decision in the evidence pack; the API refuses it by name."""
    with pytest.raises(ValidationError, match="justification"):
        DecisionIn.model_validate({"items": [1], "decision": "revoke", "justification": text})
    assert (
        DecisionIn.model_validate(
            {"items": [1], "decision": "revoke", "justification": "left the QA team"}
        ).justification
        == "left the QA team"
    )
