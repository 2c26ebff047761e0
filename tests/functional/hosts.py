"""Test helpers: registered host clients, Basic credentials, tokens, and a scope-guarded route."""

from __future__ import annotations

import base64
import json
from typing import Any

from flask import Flask, jsonify
from flask.testing import FlaskClient
from flask.wrappers import Response
from sqlalchemy import select

from idgov.audit.context import Target
from idgov.audit.models import AuditEvent
from idgov.db import transaction
from idgov.web.context import services as current_services
from idgov.web.hosts import current_client, current_grant, scope_required
from idgov.wiring import Services

HOST_ADDRESS = "192.0.2.10"  # inside 192.0.2.0/24 (RFC 5737 documentation range)
OUTSIDE_ADDRESS = "203.0.113.9"
FORM = "application/x-www-form-urlencoded"


def register(
    services: Services,
    name: str = "lims",
    scopes: tuple[str, ...] = ("signatures",),
    networks: tuple[str, ...] = (),
) -> tuple[str, str]:
    """A host client; returns its client_id and secret."""
    with transaction(services.sessions) as session:
        client, secret = services.clients.add(session, name, scopes, networks)
    return client.client_id, secret


def basic(client_id: str, secret: str) -> dict[str, str]:
    raw = f"{client_id}:{secret}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode("ascii")}


def request_token(
    client: FlaskClient,
    client_id: str,
    secret: str,
    *,
    scope: str | None = None,
    address: str = HOST_ADDRESS,
) -> Response:
    data = {"grant_type": "client_credentials"}
    if scope is not None:
        data["scope"] = scope
    return client.post(
        "/oauth/token",
        data=data,
        headers=basic(client_id, secret),
        environ_base={"REMOTE_ADDR": address},
    )


def token_for(client: FlaskClient, client_id: str, secret: str, scope: str | None = None) -> str:
    response = request_token(client, client_id, secret, scope=scope)
    assert response.status_code == 200, response.get_data(as_text=True)
    token: str = response.get_json()["access_token"]
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def add_host_routes(app: Flask) -> Flask:
    """Test-only JSON routes behind scope_required: one per scope. Each writes an audit event,
    so tests can see whom it names as the actor."""

    @app.post("/api/v1/test-only/host/signatures")
    @scope_required("signatures")
    def signatures_route() -> Response:
        return _answer("signatures")

    @app.get("/api/v1/test-only/host/entitlements")
    @scope_required("entitlements")
    def entitlements_route() -> Response:
        return _answer("entitlements")

    @app.get("/api/v1/test-only/host/records/<record_id>")
    @scope_required("signatures")
    def record_route(record_id: str) -> Response:
        return _answer("signatures")

    return app


def _answer(scope: str) -> Response:
    client, grant = current_client(), current_grant()
    assert client is not None
    assert grant is not None
    built = current_services()
    with transaction(built.sessions) as session:
        built.trail.record(session, "test:host:called", Target("host-client", client.client_id))
    return jsonify({"client_id": client.client_id, "scope": scope, "scopes": sorted(grant.scopes)})


def audit_events(services: Services, prefix: str) -> list[AuditEvent]:
    with services.sessions() as session:
        query = select(AuditEvent).where(AuditEvent.action.startswith(prefix))
        return list(session.scalars(query.order_by(AuditEvent.seq)))


def values(event: AuditEvent) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(event.new_values)
    return found


def all_audit_text(services: Services) -> str:
    with services.sessions() as session:
        rows = session.scalars(select(AuditEvent)).all()
    return " ".join(f"{e.old_values} {e.new_values} {e.reason}" for e in rows)


def token_error(response: Response, status: int, error: str) -> dict[str, str]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    body: dict[str, str] = response.get_json()
    assert body["error"] == error, body
    assert body["error_description"]
    return body
