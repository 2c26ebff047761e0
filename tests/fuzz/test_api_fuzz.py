"""schemathesis over every operation of the live /api/v1/openapi.json (issue 17 finding 11):
as a person (the session cookie, and the CSRF header on writes) and as a host (a client
credentials bearer token). No 5xx, every error problem+json (RFC 9457; /oauth/token answers
RFC 6749 section 5.2 JSON, as documented), every answer as the document says.

Bounded for `make test` on a small machine (under a minute here): derandomized examples (the
same every run), EXAMPLES per operation, mode and caller, no shrinking, no example database,
no stateful phase. Each operation is a test of its own, so a failure names it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import schemathesis
from flask import Flask
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from idgov.app import create_app
from idgov.clock import FrozenClock
from idgov.config import DatabaseSettings, KeySettings, LoggingSettings, ServerSettings, Settings
from idgov.web.api.openapi import PATH_SCHEMAS, openapi_document
from idgov.web.auth import CSRF_HEADER
from idgov.wiring import build_services
from tests.functional.hosts import register, token_for
from tests.functional.people import PASSWORD, person
from tests.functional.review_support import campaign, entitlement, org
from tests.harness.database import PostgresDatabases

EXAMPLES = 12
# The callers sign in for real: no generated cookie or header stands in for the credentials.
CONFIG = schemathesis.Config.from_dict({"generation": {"with-security-parameters": False}})
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    negative_data_rejection,  # what the document refuses, the server refuses (strict types)
]


@dataclass(frozen=True)
class Fuzzed:
    """The app, and ids that exist in its database for path parameters of those names."""

    app: Flask
    known: dict[str, str]


@dataclass(frozen=True)
class Callers:
    """The headers of a signed-in administrator and of a host client."""

    person: tuple[dict[str, str], dict[str, str]]  # cookies, headers
    host: dict[str, str]


@pytest.fixture(scope="module")
def fuzzed(
    postgres_databases: PostgresDatabases | None,
    sqlite_template: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Fuzzed]:
    """One app and database for the whole fuzz (a fresh one per operation would cost more
    than the requests), with an organisation, a started campaign and a host client, so that
    half the examples name things that exist. The fuzzing administrator's own id is never
    among them: suspending or deactivating oneself is finding 12's to refuse."""
    if postgres_databases is not None:
        url = postgres_databases.create()
    else:
        path = tmp_path_factory.mktemp("fuzz") / "idgov.db"
        path.write_bytes(sqlite_template.read_bytes())
        url = f"sqlite:///{path}"
    settings = Settings(
        server=ServerSettings(secret_key="fuzz-secret-key-" + "x" * 32),
        database=DatabaseSettings(url=url),
        keys=KeySettings(passphrase="fuzz-key-passphrase"),
        logging=LoggingSettings(level="ERROR", format="json"),
    )
    built = build_services(settings, FrozenClock(datetime(2026, 3, 2, 9, 30, tzinfo=UTC)))
    team = org(built)  # fast hashing, a signature key, verified and certified people
    person(built, "fuzz.admin", roles=("admin", "security_officer", "auditor"))
    entitlement(built, "qa-approvers", {"bob": team.bob, "ghost": None})
    campaign_id = campaign(built, fallback=team.admin)
    with built.sessions() as session:
        definition_id = built.campaigns.get(session, campaign_id).definition_id
    known = {
        "identity_id": team.bob,
        "campaign_id": campaign_id,
        "definition_id": definition_id,
        "system": "fuzz-host",
        "record_type": "sop",
    }
    yield Fuzzed(create_app(services=built), known)
    built.close()
    if postgres_databases is not None:
        postgres_databases.drop(url)


@pytest.fixture(scope="module")
def api_schema(fuzzed: Fuzzed) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", fuzzed.app, config=CONFIG)


@pytest.fixture(scope="module")
def callers(fuzzed: Fuzzed) -> Callers:
    built = fuzzed.app.extensions["idgov"]
    client = fuzzed.app.test_client()
    client_id, secret = register(built, "fuzz-host", ("signatures", "entitlements"))
    token = token_for(client, client_id, secret, "signatures entitlements")
    return Callers(person_credentials(fuzzed.app), {"Authorization": f"Bearer {token}"})


def person_credentials(app: Flask) -> tuple[dict[str, str], dict[str, str]]:
    """Cookies and headers of a new session of the administrator."""
    answer = app.test_client().post(
        "/api/v1/session", json={"username": "fuzz.admin", "password": PASSWORD}
    )
    assert answer.status_code == 201, answer.get_data(as_text=True)
    name, _, value = answer.headers["Set-Cookie"].split(";", 1)[0].partition("=")
    return {name: value}, {CSRF_HEADER: answer.get_json()["csrf_token"]}


def documented_operations() -> list[tuple[str, str, GenerationMode, str]]:
    """(method, path, mode, caller) of every documented operation, read when the tests are
    collected from an app that connects to nothing (the document needs no database): valid
    input, and for operations that take any, input the document says is invalid; as each
    kind of caller the operation admits (a person, a host, or anyone)."""
    settings = Settings(
        server=ServerSettings(secret_key="collect-secret-key-" + "x" * 32),
        database=DatabaseSettings(url="sqlite://"),
        keys=KeySettings(passphrase="collect-key-passphrase"),
    )
    document = openapi_document(create_app(settings))
    return [
        (method, path, mode, caller)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        for mode in GenerationMode
        if mode is GenerationMode.POSITIVE or _negatable(operation)
        for caller in _callers(operation)
    ]


def _negatable(operation: dict[str, Any]) -> bool:
    """Input that can break the document: a body, a query, a constrained path parameter."""
    parameters = operation.get("parameters", [])
    return "requestBody" in operation or any(
        p["in"] != "path" or p["schema"] != PATH_SCHEMAS["default"] for p in parameters
    )


def _callers(operation: dict[str, Any]) -> list[str]:
    kinds = [name for requirement in operation.get("security", []) for name in requirement]
    return [kind for kind in ("host", "session") if kind in kinds] or ["anyone"]


@pytest.mark.req("ACC-1")
@pytest.mark.parametrize(("method", "path", "mode", "caller"), documented_operations())
def test_every_operation_answers_as_documented(
    api_schema: schemathesis.BaseSchema,
    fuzzed: Fuzzed,
    callers: Callers,
    method: str,
    path: str,
    mode: GenerationMode,
    caller: str,
) -> None:
    operation = api_schema[path][method]
    named = {p["name"] for p in operation.definition.raw.get("parameters", []) if p["in"] == "path"}
    known = {name: value for name, value in fuzzed.known.items() if name in named}
    cases = operation.as_strategy(generation_mode=mode)
    if known and mode is GenerationMode.POSITIVE:  # half the examples on things that exist
        cases = cases | operation.as_strategy(generation_mode=mode, path_parameters=known)
    signs_out = (method, path) == ("delete", "/api/v1/session")

    @hypothesis.settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
        suppress_health_check=list(hypothesis.HealthCheck),
    )
    @hypothesis.given(case=cases)
    def answers_as_documented(case: schemathesis.Case) -> None:
        cookies: dict[str, str] = {}
        headers: dict[str, str] = {}
        if caller == "host":
            headers = callers.host
        elif caller == "session":
            cookies, headers = person_credentials(fuzzed.app) if signs_out else callers.person
        response = case.call(headers=headers, cookies=cookies)
        case.validate_response(response, checks=CHECKS)
        if response.status_code >= 400 and path != "/oauth/token":
            media = {k.lower(): v for k, v in response.headers.items()}["content-type"][0]
            assert media.startswith("application/problem+json"), response.text

    answers_as_documented()
