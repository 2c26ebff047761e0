"""Host systems in the console (/admin/hosts): register with the secret shown once, rotate,
disable, return URLs, recent calls; admins only, refusals named on the form (DEV-1, AUD-1,
ACC-2)."""

from __future__ import annotations

import html
import json
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from idgov.audit.models import AuditEvent
from idgov.wiring import Services
from tests.functional.console_support import browser
from tests.functional.hosts import register, request_token
from tests.functional.people import fast_hashing, page_csrf

SECRET = re.compile(r'<code id="client-secret">([^<]+)</code>')
CLIENT_ID = re.compile(r'<code id="client-id">([^<]+)</code>')


@pytest.fixture
def admin(app: Flask, services: Services) -> FlaskClient:
    fast_hashing(services)
    return browser(app, services, "ada", "admin")


def post(
    client: FlaskClient, path: str, **form: str | list[str]
) -> tuple[int, str, dict[str, str]]:
    data = {"csrf_token": page_csrf(client, "/admin/hosts"), **form}
    answer = client.post(path, data=data)
    return answer.status_code, answer.get_data(as_text=True), dict(answer.headers)


def hosts(services: Services) -> int:
    with services.sessions() as session:
        return len(services.clients.list(session))  # not the rows idgov signs for itself


def last_event(services: Services, action: str) -> AuditEvent:
    with services.sessions() as session:
        found = session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq.desc())
        ).first()
        assert found is not None, action
        return found


@pytest.mark.req("DEV-1")
def test_an_admin_registers_a_host_and_sees_its_secret_once_never_cached(
    admin: FlaskClient, client: FlaskClient, services: Services
) -> None:
    status, page, headers = post(
        admin,
        "/admin/hosts",
        name="lims",
        scopes=["signatures", "entitlements"],
        allowed_cidrs="192.0.2.0/24\n",
        return_urls="https://lims.example.com/done",
        reason="LIMS go-live, change CR-12",
    )
    assert status == 200, page
    assert headers["Cache-Control"] == "no-store"
    client_id, secret = CLIENT_ID.search(page), SECRET.search(page)
    assert client_id is not None
    assert secret is not None
    assert request_token(client, client_id[1], secret[1]).status_code == 200
    event = last_event(services, "client:host:registered")
    assert event.reason == "LIMS go-live, change CR-12"
    assert json.loads(event.new_values)["allowed_cidrs"] == ["192.0.2.0/24"]
    shown = admin.get(f"/admin/hosts/{client_id[1]}").get_data(as_text=True)
    assert secret[1] not in shown
    assert secret[1] not in admin.get("/admin/hosts").get_data(as_text=True)
    assert "client:token:issued" in shown  # the token request is among its recent calls
    assert "192.0.2.0/24" in shown
    assert "https://lims.example.com/done" in shown


@pytest.mark.req("DEV-1")
@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"name": "lims", "reason": "go-live"}, "scopes"),
        ({"name": "bad name!", "scopes": "signatures", "reason": "go-live"}, "name"),
        (
            {"name": "lims", "scopes": "signatures", "allowed_cidrs": "10.0.0.1/8", "reason": "r"},
            "allowed_cidrs",
        ),
        (
            {
                "name": "lims",
                "scopes": "signatures",
                "return_urls": "http://x.example",
                "reason": "r",
            },
            "return_urls",
        ),
        ({"name": "lims", "scopes": "signatures"}, "reason"),
        ({"name": "lims", "scopes": "signatures", "reason": "a\x00b"}, "reason"),
    ],
)
def test_a_refused_registration_names_the_field_and_registers_nothing(
    admin: FlaskClient, services: Services, form: dict[str, str], field: str
) -> None:
    status, page, _headers = post(admin, "/admin/hosts", **form)
    assert status == 400, page
    assert f'id="e-{field}"' in page or f'id="new-{field}-error"' in page
    assert field == "scopes" or 'aria-invalid="true"' in page
    assert "client-secret" not in page
    assert hosts(services) == 0


@pytest.mark.req("DEV-1")
def test_rotating_shows_the_new_secret_once_and_the_old_one_stops_working(
    admin: FlaskClient, client: FlaskClient, services: Services
) -> None:
    client_id, old = register(services)
    status, page, headers = post(admin, f"/admin/hosts/{client_id}/rotate", reason="leaked")
    assert (status, headers["Cache-Control"]) == (200, "no-store")
    new = SECRET.search(page)
    assert new is not None
    assert new[1] != old
    assert request_token(client, client_id, old).status_code == 401
    assert request_token(client, client_id, new[1]).status_code == 200
    assert last_event(services, "client:secret:rotated").reason == "leaked"


@pytest.mark.req("AUD-1")
def test_disable_and_return_urls_need_a_reason_and_record_it(
    admin: FlaskClient, client: FlaskClient, services: Services
) -> None:
    client_id, secret = register(services)
    status, page, _ = post(admin, f"/admin/hosts/{client_id}/disable", reason="  ")
    assert status == 400
    assert 'id="disable-reason-error"' in page
    assert request_token(client, client_id, secret).status_code == 200  # nothing changed

    urls = "https://lims.example.com/a\nhttps://lims.example.com/b"
    status, page, _ = post(admin, f"/admin/hosts/{client_id}/return-urls", return_urls=urls)
    assert status == 400
    assert 'id="urls-reason-error"' in page
    status, page, _ = post(
        admin, f"/admin/hosts/{client_id}/return-urls", return_urls="ftp://x", reason="r"
    )
    assert status == 400
    assert 'id="urls-return_urls-error"' in page
    answer = admin.post(
        f"/admin/hosts/{client_id}/return-urls",
        data={"csrf_token": page_csrf(admin, "/admin/hosts"), "return_urls": urls, "reason": "SOP"},
        follow_redirects=True,
    )
    assert "2 return URL(s)" in answer.get_data(as_text=True)
    assert last_event(services, "client:return-urls:changed").reason == "SOP"

    answer = admin.post(
        f"/admin/hosts/{client_id}/disable",
        data={"csrf_token": page_csrf(admin, "/admin/hosts"), "reason": "retired"},
        follow_redirects=True,
    )
    assert "is disabled, recorded as client:host:disabled" in html.unescape(
        answer.get_data(as_text=True)
    )
    assert request_token(client, client_id, secret).status_code == 401
    assert last_event(services, "client:host:disabled").reason == "retired"
    status, page, _ = post(admin, f"/admin/hosts/{client_id}/rotate", reason="again")
    assert status == 409
    assert "is disabled" in html.unescape(page)


@pytest.mark.req("ACC-2")
@pytest.mark.parametrize("role", ["auditor", "security_officer", "reviewer"])
def test_only_admins_manage_hosts(
    app: Flask, services: Services, client: FlaskClient, role: str
) -> None:
    fast_hashing(services)
    client_id, secret = register(services)
    other = browser(app, services, f"not-admin-{role}", role)
    token = page_csrf(other)
    for path, form in [
        ("/admin/hosts", {"name": "x", "scopes": "signatures", "reason": "r"}),
        (f"/admin/hosts/{client_id}/rotate", {"reason": "r"}),
        (f"/admin/hosts/{client_id}/disable", {"reason": "r"}),
        (f"/admin/hosts/{client_id}/return-urls", {"reason": "r"}),
    ]:
        assert other.post(path, data={"csrf_token": token, **form}).status_code == 403, path
    assert other.get(f"/admin/hosts/{client_id}").status_code == 403
    assert hosts(services) == 1
    assert request_token(client, client_id, secret).status_code == 200


@pytest.mark.req("ACC-2")
def test_a_change_without_the_csrf_token_is_refused(admin: FlaskClient, services: Services) -> None:
    client_id, _ = register(services)
    answer = admin.post(f"/admin/hosts/{client_id}/disable", data={"reason": "r"})
    assert answer.status_code == 403
    assert admin.get("/admin/hosts/no-such-host").status_code == 404
