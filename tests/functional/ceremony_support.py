"""Test helpers for the signing ceremony: a host with a return URL, requests, the page's form."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from idgov.db import transaction
from idgov.signatures.models import Signature
from idgov.wiring import Services
from tests.functional.hosts import HOST_ADDRESS, bearer, token_for
from tests.functional.people import PASSWORD, csrf_of
from tests.functional.signing import prepare, record, signer

RETURN_URL = "https://lims.example.com/esig/return"
PERSON = {"REMOTE_ADDR": "198.51.100.23"}  # the signer's browser (RFC 5737)


@dataclass
class Host:
    """A registered host client with a return URL, and a bearer token for it."""

    client: FlaskClient
    client_id: str
    token: str

    def create(self, **fields: Any) -> TestResponse:
        payload: dict[str, Any] = {"meaning": "approval", "return_url": RETURN_URL}
        payload.update(fields)
        if "record" not in payload and "records" not in payload:
            payload["record"] = record()
        return self.client.post(
            "/api/v1/signing-requests",
            json=payload,
            headers=bearer(self.token),
            environ_base={"REMOTE_ADDR": HOST_ADDRESS},
        )

    def created(self, **fields: Any) -> dict[str, Any]:
        response = self.create(**fields)
        assert response.status_code == 201, response.get_data(as_text=True)
        answer: dict[str, Any] = response.get_json()
        return answer

    def read(self, request_id: str) -> TestResponse:
        return self.client.get(
            f"/api/v1/signing-requests/{request_id}",
            headers=bearer(self.token),
            environ_base={"REMOTE_ADDR": HOST_ADDRESS},
        )


def host(services: Services, app: Flask, name: str = "lims") -> Host:
    """A host client registered with RETURN_URL; people jdoe (Jane Doe) and newbie (unverified)
    exist, an admin verified jdoe and jdoe certified."""
    _internal, admin = prepare(services, host=f"{name}-internal")
    signer(services, "jdoe", admin, name="Jane Doe")
    signer(services, "newbie", admin, verified=False, certified=False)
    return another_host(services, app, name)


def another_host(services: Services, app: Flask, name: str) -> Host:
    with transaction(services.sessions) as session:
        client, secret = services.clients.add(
            session, name, ["signatures"], return_urls=[RETURN_URL]
        )
    browserless = app.test_client()
    return Host(browserless, client.client_id, token_for(browserless, client.client_id, secret))


def open_page(browser: FlaskClient, request_id: str) -> tuple[TestResponse, str]:
    """The ceremony page as a browser opens it, and its form's CSRF token."""
    page = browser.get(f"/sign/{request_id}", environ_base=PERSON)
    text = page.get_data(as_text=True)
    return page, csrf_of(text) if 'name="csrf_token"' in text else ""


def submit(
    browser: FlaskClient,
    request_id: str,
    csrf: str,
    username: str = "jdoe",
    password: str = PASSWORD,
    **extra: str,
) -> TestResponse:
    form = {"csrf_token": csrf, "username": username, "password": password, **extra}
    return browser.post(f"/sign/{request_id}", data=form, environ_base=PERSON)


def sign_through(browser: FlaskClient, request_id: str, **extra: str) -> TestResponse:
    """Open the page and sign as jdoe with the right password."""
    _page, csrf = open_page(browser, request_id)
    return submit(browser, request_id, csrf, **extra)


def returned(response: TestResponse) -> tuple[str, dict[str, str]]:
    """Where a 303 sends the browser: the return URL and its query parameters."""
    assert response.status_code == 303, response.get_data(as_text=True)
    target = urlsplit(response.headers["Location"])
    query = {key: values[0] for key, values in parse_qs(target.query).items()}
    return f"{target.scheme}://{target.netloc}{target.path}", query


def signature_count(services: Services) -> int:
    with services.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Signature)) or 0)


def shorter(services: Services, minutes: int) -> None:
    """Requests wait `minutes` (signing policy), so that tests can let one lapse."""
    with transaction(services.sessions) as session:
        services.policies.change(
            session, "signing", {"request_minutes": minutes}, reason="short", changed_by="test"
        )
