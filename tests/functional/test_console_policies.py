"""Policies in the console: every kind as a form, a change with a reason by an admin only,
refusals naming the field with nothing recorded, the version history and a diff (CHG-1, ACC-2)."""

from __future__ import annotations

import html
import json
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from idgov.audit.models import AuditEvent
from idgov.policies.documents import POLICY_MODELS, LockoutPolicy
from idgov.policies.models import PolicyVersion
from idgov.wiring import Services
from tests.functional.console_support import browser
from tests.functional.people import csrf_of, fast_hashing


@pytest.fixture
def admin(app: Flask, services: Services) -> FlaskClient:
    fast_hashing(services)
    return browser(app, services, "ada", "admin")


def versions(services: Services, kind: str) -> int:
    with services.sessions() as session:
        query = select(func.count()).select_from(PolicyVersion).where(PolicyVersion.kind == kind)
        return int(session.scalar(query) or 0)


def events(services: Services, action: str) -> list[AuditEvent]:
    with services.sessions() as session:
        query = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)
        return list(session.scalars(query))


def form_of(client: FlaskClient, kind: str) -> dict[str, str]:
    """The policy page's form as a browser would submit it unchanged (inputs, selects,
    textareas with their current values)."""
    page = client.get(f"/policies/{kind}").get_data(as_text=True)
    found = {"csrf_token": csrf_of(page)}
    base = re.search(r'name="base_version" value="([0-9]+)"', page)
    assert base, "no base_version in the form"
    found["base_version"] = base.group(1)
    for name, value in re.findall(
        r'<input id="f-[a-z_]+" name="([a-z_]+)" type="text" value="([^"]*)"', page
    ):
        found[name] = html.unescape(value)
    for name, body in re.findall(
        r'<select id="f-[a-z_]+" name="([a-z_]+)"[^>]*>(.*?)</select>', page, re.S
    ):
        chosen = re.search(r"<option(?: value=\"([^\"]*)\")? selected>([^<]*)</option>", body)
        assert chosen, name
        found[name] = chosen.group(1) if chosen.group(1) is not None else chosen.group(2)
    for name, body in re.findall(
        r'<textarea id="f-[a-z_]+" name="([a-z_]+)"[^>]*>(.*?)</textarea>', page, re.S
    ):
        found[name] = html.unescape(body)
    return found


@pytest.mark.req("CHG-1")
def test_every_kind_shows_its_values_and_profile(admin: FlaskClient) -> None:
    index = admin.get("/policies").get_data(as_text=True)
    for kind in POLICY_MODELS:
        assert f'href="/policies/{kind}"' in index
        response = admin.get(f"/policies/{kind}")
        assert response.status_code == 200, kind
        page = response.get_data(as_text=True)
        assert "gxp-classic" in page
        for name in POLICY_MODELS[kind].model_fields:
            assert f'for="f-{name}"' in page, (kind, name)  # every input labelled
    lockout = admin.get("/policies/lockout").get_data(as_text=True)
    assert 'name="max_failures" type="text" value="5"' in lockout
    assert 'name="reason"' in lockout
    assert "Record a new version" in lockout


@pytest.mark.req("CHG-1")
def test_an_admin_changes_the_lockout_policy_with_a_reason(
    admin: FlaskClient, services: Services
) -> None:
    form = form_of(admin, "lockout")
    form.update(max_failures="3", timed_unlock_minutes="30", reason="CAPA-12: fewer guesses")
    response = admin.post("/policies/lockout", data=form)
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/policies/lockout/diff?old=0&new=1")
    diff = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "Lockout policy version 1 is recorded (max failures, timed unlock minutes)" in diff
    assert "CAPA-12: fewer guesses" in diff
    rows = diff.split("<tbody>")[1]
    assert "Max failures" in rows
    assert "<code>5</code>" in rows
    assert "<code>3</code>" in rows
    assert "<code>null</code>" in rows
    assert "<code>30</code>" in rows
    assert "Attack window minutes" not in rows  # only what changed
    with services.sessions() as session:
        policy = services.policies.current(session, LockoutPolicy)
        assert (policy.max_failures, policy.timed_unlock_minutes) == (3, 30)
        stored = session.scalars(select(PolicyVersion).where(PolicyVersion.kind == "lockout")).one()
        assert stored.reason == "CAPA-12: fewer guesses"
        assert stored.changed_by == "Ada"  # the admin's printed name, as the API records it
    (event,) = events(services, "policy:lockout:changed")
    assert event.reason == "CAPA-12: fewer guesses"
    assert json.loads(event.new_values)["max_failures"] == 3
    assert json.loads(event.old_values)["max_failures"] == 5


@pytest.mark.req("CHG-1")
@pytest.mark.parametrize(
    ("changes", "field", "shown"),
    [
        ({"max_failures": "0"}, "max_failures", "greater than or equal to 1"),
        ({"max_failures": "many"}, "max_failures", "is not a whole number"),
        ({"attack_window_minutes": "99999"}, "attack_window_minutes", "less than or equal"),
        ({"max_failures": "4", "reason": "  "}, "reason", "a reason is required"),
        ({"max_failures": "4", "reason": "x" * 2001}, "reason", "at most 2000"),
        ({}, "lockout", "no value differs"),
    ],
)
def test_a_refused_change_names_the_field_and_records_nothing(
    admin: FlaskClient, services: Services, changes: dict[str, str], field: str, shown: str
) -> None:
    before = len(events(services, "policy:lockout:changed"))
    form = {**form_of(admin, "lockout"), "reason": "a reason", **changes}
    response = admin.post("/policies/lockout", data=form)
    assert response.status_code in (400, 422)
    page = html.unescape(response.get_data(as_text=True))
    assert "Nothing was changed" in page
    assert shown in page
    if field in LockoutPolicy.model_fields or field == "reason":
        assert f'id="e-{field}"' in page
        assert f'id="f-{field}"' in page.split(f'id="e-{field}"')[0]
        assert 'aria-invalid="true"' in page
    assert versions(services, "lockout") == 0
    assert len(events(services, "policy:lockout:changed")) == before


@pytest.mark.req("CHG-1")
def test_a_whole_policy_rule_is_shown_above_the_form(
    admin: FlaskClient, services: Services
) -> None:
    form = {**form_of(admin, "password"), "min_length": "40", "max_length": "20", "reason": "r"}
    response = admin.post("/policies/password", data=form)
    assert response.status_code == 422
    page = html.unescape(response.get_data(as_text=True))
    assert "max_length must not be below min_length" in page
    assert versions(services, "password") == 1  # fast_hashing's only


@pytest.mark.req("CHG-1")
def test_lists_and_json_fields_round_trip(admin: FlaskClient, services: Services) -> None:
    form = form_of(admin, "alerting")
    form.update(security_emails="sec@example.org, soc@example.org", reason="new SOC mailbox")
    assert admin.post("/policies/alerting", data=form).status_code == 303
    form = form_of(admin, "signing")
    assert form["meanings"].startswith("[")
    form.update(meanings='[{"code": "review", "statement": "I reviewed it."}]', reason="one")
    assert admin.post("/policies/signing", data=form).status_code == 303
    form = form_of(admin, "signing")
    form.update(meanings="[{broken", reason="bad")
    refused = admin.post("/policies/signing", data=form)
    assert refused.status_code == 422
    assert "not valid JSON" in refused.get_data(as_text=True)
    with services.sessions() as session:
        alerting = services.policies.current(session, POLICY_MODELS["alerting"])
        assert alerting.model_dump()["security_emails"] == ["sec@example.org", "soc@example.org"]


@pytest.mark.req("CHG-1")
def test_history_and_a_diff_between_any_two_versions(
    admin: FlaskClient, services: Services
) -> None:
    for n, reason in ((4, "reason one"), (6, "reason two"), (7, "reason three")):
        form = {**form_of(admin, "lockout"), "max_failures": str(n), "reason": reason}
        assert admin.post("/policies/lockout", data=form).status_code == 303
    history = admin.get("/policies/lockout/history").get_data(as_text=True)
    assert history.index("reason three") < history.index("reason two") < history.index("reason one")
    assert "<caption>" in history
    diff = admin.get("/policies/lockout/diff?old=1&new=3").get_data(as_text=True)
    assert "<code>4</code>" in diff
    assert "<code>7</code>" in diff
    same = admin.get("/policies/lockout/diff?old=2&new=2").get_data(as_text=True)
    assert "The two versions hold the same values." in same
    missing = admin.get("/policies/lockout/diff?old=1&new=9")
    assert missing.status_code == 404
    assert 'id="e-new"' in missing.get_data(as_text=True)
    assert "has no version 9" in missing.get_data(as_text=True)
    bad = admin.get("/policies/lockout/diff?old=x&new=1")
    assert bad.status_code == 400
    assert 'id="e-old"' in bad.get_data(as_text=True)
    assert admin.get("/policies/nonsense").status_code == 404


@pytest.mark.req("ACC-2")
@pytest.mark.parametrize("role", ["security_officer", "auditor"])
def test_readers_see_the_policy_but_only_an_admin_changes_it(
    app: Flask, services: Services, role: str
) -> None:
    fast_hashing(services)
    reader = browser(app, services, f"reader-{role}", role)
    page = reader.get("/policies/lockout").get_data(as_text=True)
    assert "<fieldset disabled>" in page
    assert "Record a new version" not in page
    assert reader.get("/policies/lockout/history").status_code == 200
    form = {"csrf_token": csrf_of(page), "max_failures": "2", "reason": "sneaky"}
    assert reader.post("/policies/lockout", data=form).status_code == 403
    assert versions(services, "lockout") == 0
    nobody = browser(app, services, "plain-person")
    assert nobody.get("/policies/lockout").status_code == 403


@pytest.mark.req("ACC-2")
def test_a_change_without_the_csrf_token_is_refused(admin: FlaskClient, services: Services) -> None:
    form = {**form_of(admin, "lockout"), "max_failures": "2", "reason": "r"}
    del form["csrf_token"]
    assert admin.post("/policies/lockout", data=form).status_code in (400, 403)
    assert versions(services, "lockout") == 0


@pytest.mark.req("CHG-1")
def test_a_form_opened_before_another_change_does_not_undo_it(
    admin: FlaskClient, services: Services
) -> None:
    stale = form_of(admin, "lockout")
    fresh = {**form_of(admin, "lockout"), "max_failures": "3", "reason": "first admin"}
    assert admin.post("/policies/lockout", data=fresh).status_code == 303
    stale.update(attack_window_minutes="30", reason="second admin")  # max_failures still 5
    response = admin.post("/policies/lockout", data=stale)
    assert response.status_code == 409
    page = html.unescape(response.get_data(as_text=True))
    assert "now at version 1" in page
    assert 'name="max_failures" type="text" value="3"' in page  # the new values shown
    assert "second admin</textarea>" in page
    with services.sessions() as session:
        policy = services.policies.current(session, LockoutPolicy)
        assert (policy.max_failures, policy.attack_window_minutes) == (3, 15)
    assert versions(services, "lockout") == 1
