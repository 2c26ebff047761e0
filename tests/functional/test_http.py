"""HTTP basics: health, problem+json errors, security headers, request ids, OpenAPI, JWKS."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from flask import Flask, request
from flask.testing import FlaskClient
from sqlalchemy import select

from idgov.app import MAX_REQUEST_BYTES, create_app
from idgov.audit.context import Target
from idgov.audit.models import AuditHead
from idgov.config import DatabaseSettings, LoggingSettings, ServerSettings, Settings
from idgov.db import transaction
from idgov.wiring import Services

PROBLEM = "application/problem+json"
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
UNREACHABLE_POSTGRES = "postgresql://postgres@127.0.0.1:1/idgov"


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def assert_problem(response: Any, status: int, slug: str, instance: str) -> dict[str, Any]:
    assert response.status_code == status
    assert response.mimetype == PROBLEM
    problem: dict[str, Any] = json.loads(response.get_data(as_text=True))
    assert problem["type"] == f"urn:idgov:problem:{slug}"
    assert problem["status"] == status
    assert problem["title"]
    assert problem["detail"]
    assert problem["instance"] == instance
    return problem


def test_healthz_answers_ok(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


@pytest.mark.req("LOCK-3")
def test_readyz_publishes_no_counts(client: FlaskClient, services: Services) -> None:
    """Finding 6: the anonymous /readyz published the audit event count, which moved by 1 for
    an unknown name's failure and by more for a real one's; it says only what is ready."""
    ready = {"status": "ready", "database": "ok", "audit_chain": "ok"}
    assert client.get("/readyz").get_json() == ready
    for index in range(3):
        with transaction(services.sessions) as session:
            services.trail.record(session, "test:widget:created", Target("widget", str(index)))
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == ready
    assert not re.search(rb"\d", response.get_data())  # no number of any kind


@pytest.fixture
def unreachable_app() -> Iterator[Flask]:
    settings = Settings(
        server=ServerSettings(secret_key="test-secret-key-" + "x" * 32),
        database=DatabaseSettings(url=UNREACHABLE_POSTGRES, connect_timeout_seconds=1),
        logging=LoggingSettings(level="WARNING"),
    )
    app = create_app(settings=settings)
    yield app
    app.extensions["idgov"].engine.dispose()


def test_readyz_is_503_when_the_database_is_unreachable(unreachable_app: Flask) -> None:
    response = unreachable_app.test_client().get("/readyz")
    problem = assert_problem(response, 503, "service-unavailable", "/readyz")
    assert problem["detail"] == "database unreachable"


def test_healthz_stays_up_when_the_database_is_unreachable(unreachable_app: Flask) -> None:
    assert unreachable_app.test_client().get("/healthz").status_code == 200


def test_unknown_path_is_a_404_problem(client: FlaskClient) -> None:
    problem = assert_problem(client.get("/no/such/page"), 404, "not-found", "/no/such/page")
    assert problem["title"] == "Not Found"


def test_wrong_method_is_a_405_problem_with_allow(client: FlaskClient) -> None:
    response = client.post("/healthz")
    assert_problem(response, 405, "method-not-allowed", "/healthz")
    allowed = {method.strip() for method in response.headers["Allow"].split(",")}
    assert "GET" in allowed
    assert "POST" not in allowed


@pytest.fixture
def app_with_test_routes(app: Flask) -> Flask:
    @app.get("/test-only/boom")
    def boom() -> str:
        raise RuntimeError("password=hunter2 at /srv/idgov/internal.py line 42")

    @app.post("/test-only/echo")
    def echo() -> dict[str, int]:
        return {"received": len(request.get_data())}

    return app


def test_unexpected_error_is_a_generic_500_problem(app_with_test_routes: Flask) -> None:
    response = app_with_test_routes.test_client().get("/test-only/boom")
    problem = assert_problem(response, 500, "internal-error", "/test-only/boom")
    assert problem["detail"] == "The request could not be completed; it has been logged."
    body = response.get_data(as_text=True)
    for leaked in ("hunter2", "RuntimeError", "internal.py", "Traceback"):
        assert leaked not in body


def test_request_body_over_the_limit_is_a_413_problem(app_with_test_routes: Flask) -> None:
    client = app_with_test_routes.test_client()
    fits = client.post("/test-only/echo", data=b"x" * MAX_REQUEST_BYTES)
    assert fits.get_json() == {"received": MAX_REQUEST_BYTES}
    response = client.post("/test-only/echo", data=b"x" * (MAX_REQUEST_BYTES + 1))
    assert_problem(response, 413, "request-too-large", "/test-only/echo")


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/healthz", 200),
        ("GET", "/readyz", 200),
        ("GET", "/api/v1/openapi.json", 200),
        ("GET", "/.well-known/jwks.json", 200),
        ("GET", "/missing", 404),
        ("DELETE", "/healthz", 405),
        ("GET", "/test-only/boom", 500),
    ],
)
def test_security_headers_on_every_response(
    app_with_test_routes: Flask, method: str, path: str, status: int
) -> None:
    response = app_with_test_routes.test_client().open(path, method=method)
    assert response.status_code == status
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp


def test_api_responses_are_not_cached(client: FlaskClient) -> None:
    assert client.get("/api/v1/openapi.json").headers["Cache-Control"] == "no-store"


def test_a_valid_client_request_id_is_echoed_beside_ours(client: FlaskClient) -> None:
    response = client.get("/healthz", headers={"X-Request-ID": "host-42.retry_1"})
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])  # always ours
    assert response.headers["X-Client-Request-ID"] == "host-42.retry_1"


@pytest.mark.parametrize(
    "incoming",
    ["has spaces", "a" * 65, "new\\nline", "<script>", ""],
    ids=["spaces", "too-long", "backslash", "markup", "empty"],
)
def test_invalid_request_id_is_replaced(client: FlaskClient, incoming: str) -> None:
    response = client.get("/healthz", headers={"X-Request-ID": incoming})
    replaced = response.headers["X-Request-ID"]
    assert replaced != incoming
    assert re.fullmatch(r"[0-9a-f]{32}", replaced)
    assert "X-Client-Request-ID" not in response.headers


def test_missing_request_id_is_generated_per_request(client: FlaskClient) -> None:
    first = client.get("/healthz").headers["X-Request-ID"]
    second = client.get("/healthz").headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert first != second


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs(item)


def test_openapi_document_describes_the_api(client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"] == "3.1.0"
    assert document["info"]["title"] == "idgov API"
    for path in ("/healthz", "/readyz", "/.well-known/jwks.json"):
        assert "get" in document["paths"][path], path
    readyz = document["paths"]["/readyz"]["get"]["responses"]
    assert readyz["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Readiness"
    }
    assert readyz["503"]["content"][PROBLEM]["schema"] == {"$ref": "#/components/schemas/Problem"}


def test_openapi_refs_all_resolve(client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    found = list(refs(document))
    assert found
    for ref in found:
        prefix, _, name = ref.rpartition("/")
        assert prefix == "#/components/schemas", ref
        assert name in schemas, ref


def test_openapi_problem_schema(client: FlaskClient) -> None:
    problem = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail"}
    assert set(problem["properties"]) >= {"type", "title", "status", "detail", "instance"}


def rfc7638_thumbprint(jwk: dict[str, str]) -> str:
    """Written from RFC 7638 section 3.2, independently of idgov.keys.jwk."""
    members = ("crv", "kty", "x") if jwk["kty"] == "OKP" else ("crv", "kty", "x", "y")
    text = "{" + ",".join(f'"{name}":"{jwk[name]}"' for name in members) + "}"
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@pytest.mark.req("LNK-2")
def test_jwks_publishes_keys_under_their_thumbprints(
    client: FlaskClient, services: Services
) -> None:
    with transaction(services.sessions) as session:
        audit = services.keys.create(session, "audit", reason="test")
        signature = services.keys.create(session, "signature", reason="test")
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=300"
    published = {entry["kid"]: entry for entry in response.get_json()["keys"]}
    assert set(published) == {audit.kid, signature.kid}
    for kid, entry in published.items():
        assert (entry["kty"], entry["crv"], entry["alg"], entry["use"]) == (
            "OKP",
            "Ed25519",
            "EdDSA",
            "sig",
        )
        assert kid == rfc7638_thumbprint(entry)
        assert not {"d", "private_key"} & set(entry)  # public members only
    assert published[audit.kid]["idgov_purpose"] == "audit"
    assert published[signature.kid]["idgov_purpose"] == "signature"


@pytest.mark.req("LNK-2")
@pytest.mark.req("AUD-4")
def test_published_key_verifies_a_checkpoint_offline(
    client: FlaskClient, services: Services
) -> None:
    with transaction(services.sessions) as session:
        services.keys.create(session, "audit", reason="test")
        token = services.checkpoints.issue(session).token
    jwks = client.get("/.well-known/jwks.json").get_json()

    # Everything below uses only the JWK Set, the token and the cryptography package.
    header_part, payload_part, signature_part = token.split(".")
    header = json.loads(b64url_decode(header_part))
    jwk = next(entry for entry in jwks["keys"] if entry["kid"] == header["kid"])
    assert header["alg"] == "EdDSA"
    public = Ed25519PublicKey.from_public_bytes(b64url_decode(jwk["x"]))
    public.verify(b64url_decode(signature_part), f"{header_part}.{payload_part}".encode("ascii"))

    payload = json.loads(b64url_decode(payload_part))
    with services.sessions() as session:
        head = session.execute(select(AuditHead.seq, AuditHead.hash)).one()
    assert (payload["size"], payload["head_hash"]) == (head.seq, head.hash)


def test_favicon_answers_without_a_session_and_pages_link_it(client: FlaskClient) -> None:
    with client.get("/favicon.ico") as icon:
        assert icon.status_code == 200
        assert icon.mimetype == "image/x-icon"
        assert icon.data[:4] == b"\x00\x00\x01\x00"  # an ICO header (one icon resource)
    with client.get("/static/favicon.svg") as svg:
        assert svg.status_code == 200
    page = client.get("/login").get_data(as_text=True)
    assert 'rel="icon" href="/favicon.ico"' in page
    assert 'href="/static/favicon.svg"' in page


def test_a_browser_gets_a_page_for_a_malformed_id_and_the_api_a_problem(
    client: FlaskClient,
) -> None:
    browser = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    page = client.get("/reviews/a%00b", headers=browser)  # no route: the id converter
    assert (page.status_code, page.mimetype) == (404, "text/html")
    api = client.get("/api/v1/campaigns/a%00b", headers=browser)
    assert (api.status_code, api.mimetype) == (404, "application/problem+json")
    assert client.get("/reviews/a%00b").mimetype == "application/problem+json"
