"""ACC-1: nothing is reachable anonymously except the few public routes named here; JSON writes
of a signed-in person need the session's CSRF token."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from idgov.identity.models import Identity, Role
from idgov.wiring import Services
from tests.functional.people import PASSWORD, fast_hashing, person, problem

# Public on purpose: (path, method); None stands for every method of the path.
PUBLIC: set[tuple[str, str | None]] = {
    ("/api/v1/openapi.json", None),
    ("/api/v1/session", "POST"),  # a person signs in
    ("/oauth/token", "POST"),  # a host client signs in with its credentials (DEV-1)
    ("/login", None),
    # Sign-in at an OpenID provider: the way there and back (STEP-1); the flow is bound to
    # the browser and checked by idgov before anyone is let in.
    ("/login/oidc/<name>", None),
    ("/oidc/<name>/callback", None),
    # The signing ceremony's page serves people signed in or not: it re-authenticates them
    # itself, and its forms carry a CSRF token either way.
    ("/sign/<id:request_id>", None),
    ("/sign/<id:request_id>/decline", "POST"),
    ("/sign/<id:request_id>/oidc", "POST"),
    # A reset's set-password page: the single-use link is the owner's credential (CMP-2).
    ("/account/set-password/<token>", None),
    ("/healthz", None),
    ("/readyz", None),
    ("/.well-known/jwks.json", None),
    ("/favicon.ico", None),  # browsers ask for it on every page, signed in or not
}
VARIABLE = re.compile(r"<(?:([^:<>]+):)?[^<>]+>")
DUMMY = {"rowid": "1"}  # a value each converter takes; "dummy" for the others


def is_public(rule: str, method: str) -> bool:
    return rule.startswith("/static/") or bool({(rule, None), (rule, method)} & PUBLIC)


def protected_calls(app: Flask) -> list[tuple[str, str]]:
    """Every (method, url) of the app that must refuse an anonymous caller; URL variables get
    a dummy value. OPTIONS is Flask's automatic answer listing the methods, nothing more."""
    calls = []
    for rule in app.url_map.iter_rules():
        url = VARIABLE.sub(lambda found: DUMMY.get(found.group(1) or "", "dummy"), rule.rule)
        for method in sorted((rule.methods or set()) - {"OPTIONS"}):
            if not is_public(rule.rule, method):
                calls.append((method, url))
    return sorted(calls)


@pytest.mark.req("ACC-1")
def test_every_route_refuses_anonymous_callers(app: Flask, client: FlaskClient) -> None:
    calls = protected_calls(app)
    assert ("POST", "/api/v1/identities/dummy/unlock") in calls  # the walk found the API
    assert ("GET", "/account/password") in calls  # and the pages
    for method, url in calls:
        response = client.open(url, method=method, json={})
        where = f"{method} {url}"
        if url.startswith("/api/"):
            assert response.status_code == 401, where
            assert response.mimetype == "application/problem+json", where
            if method != "HEAD":
                assert response.get_json()["type"] == "urn:idgov:problem:unauthenticated", where
        else:
            assert response.status_code in (302, 303), where
            assert urlsplit(response.headers["Location"]).path == "/login", where


@pytest.mark.req("ACC-1")
def test_public_routes_are_only_the_listed_ones(app: Flask) -> None:
    public = {
        (rule.rule, method)
        for rule in app.url_map.iter_rules()
        for method in (rule.methods or set()) - {"OPTIONS", "HEAD"}
        if is_public(rule.rule, method)
    }
    assert public == {
        ("/.well-known/jwks.json", "GET"),
        ("/account/set-password/<token>", "GET"),
        ("/account/set-password/<token>", "POST"),
        ("/api/v1/openapi.json", "GET"),
        ("/api/v1/session", "POST"),
        ("/favicon.ico", "GET"),
        ("/healthz", "GET"),
        ("/login", "GET"),
        ("/login", "POST"),
        ("/login/oidc/<name>", "GET"),
        ("/oauth/token", "POST"),
        ("/oidc/<name>/callback", "GET"),
        ("/readyz", "GET"),
        ("/sign/<id:request_id>", "GET"),
        ("/sign/<id:request_id>", "POST"),
        ("/sign/<id:request_id>/decline", "POST"),
        ("/sign/<id:request_id>/oidc", "POST"),
        ("/static/<path:filename>", "GET"),
    }


@pytest.mark.req("ACC-1")
def test_json_write_without_the_csrf_token_is_refused(
    client: FlaskClient, services: Services
) -> None:
    fast_hashing(services)
    person(services, "ada", roles=(Role.ADMIN,))
    started = client.post("/api/v1/session", json={"username": "ada", "password": PASSWORD})
    assert started.status_code == 201
    token = started.get_json()["csrf_token"]
    new = {"username": "jroe", "printed_name": "Jane Roe", "email": "jroe@example.com"}

    for headers in ({}, {"X-CSRF-Token": ""}, {"X-CSRF-Token": token[:-1]}):
        refused = problem(
            client.post("/api/v1/identities", json=new, headers=headers), 403, "forbidden"
        )
        assert refused["reason"] == "csrf"
    change = {"changes": {"max_failures": 3}, "reason": "r"}
    problem(client.patch("/api/v1/policies/lockout", json=change), 403, "forbidden")
    with services.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Identity)) == 1  # ada only

    created = client.post("/api/v1/identities", json=new, headers={"X-CSRF-Token": token})
    assert created.status_code == 201, created.get_data(as_text=True)
    assert client.get("/api/v1/identities").status_code == 200  # reads need no token
