"""The API description is a valid OpenAPI 3.1 document that says what the server checks
(issue 17 finding 11): path parameters, strict booleans, every status, problem+json errors."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import OpenAPIV31SpecValidator

from idgov.reviews.models import Campaign
from idgov.wiring import Services
from tests.functional.api_client import sign_in
from tests.functional.people import problem
from tests.functional.review_support import Org, campaign, entitlement, org
from tests.functional.test_review_close_api import revoke_and_sign


def document(client: FlaskClient) -> dict:
    found: dict = client.get("/api/v1/openapi.json").get_json()
    return found


@pytest.mark.req("VAL-1")
def test_the_document_is_valid_openapi(client: FlaskClient) -> None:
    errors = [error.message for error in OpenAPIV31SpecValidator(document(client)).iter_errors()]
    assert errors == []


@pytest.mark.req("VAL-1")
def test_every_path_parameter_is_described_as_its_converter_matches(client: FlaskClient) -> None:
    paths = document(client)["paths"]
    close = paths["/api/v1/campaigns/{campaign_id}/close"]["post"]
    (campaign_id,) = [p for p in close["parameters"] if p["in"] == "path"]
    assert campaign_id["name"] == "campaign_id"
    assert campaign_id["required"] is True
    assert campaign_id["schema"]["pattern"] == "^[0-9A-Za-z-]{1,36}$"
    retry = paths["/api/v1/remediations/{remediation_id}/retry"]["post"]
    assert retry["parameters"][0]["schema"] == {
        "type": "integer",
        "minimum": 0,
        "maximum": 2**31 - 1,
    }


@pytest.mark.req("VAL-1")
def test_every_status_the_server_answers_is_documented(client: FlaskClient) -> None:
    found = document(client)
    for path, item in found["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            assert {"429", "503"} <= set(responses), (method, path)
            if "security" in operation:
                assert {"401", "403"} <= set(responses), (method, path)
    sync = found["paths"]["/api/v1/directories/{name}/sync"]["post"]["responses"]
    assert {"404", "413", "422"} <= set(sync)
    assert "application/problem+json" in sync["422"]["content"]
    status = found["paths"]["/api/v1/identities/{identity_id}/status"]["post"]["responses"]
    assert "409" in status


@pytest.mark.req("DEV-1")
def test_who_may_call_is_in_the_document(client: FlaskClient) -> None:
    found = document(client)
    schemes = found["components"]["securitySchemes"]
    assert schemes["session"] == {"type": "apiKey", "in": "cookie", "name": "idgov_session"}
    assert schemes["host"]["flows"]["clientCredentials"]["tokenUrl"] == "/oauth/token"
    paths = found["paths"]
    assert paths["/api/v1/signatures"]["post"]["security"] == [{"host": ["signatures"]}]
    assert paths["/api/v1/identities"]["post"]["security"] == [{"session": [], "csrf": []}]
    assert paths["/api/v1/identities"]["get"]["security"] == [{"session": []}]
    assert "security" not in paths["/healthz"]["get"]
    token = paths["/oauth/token"]["post"]
    assert "application/x-www-form-urlencoded" in token["requestBody"]["content"]
    assert "application/json" in token["responses"]["401"]["content"]  # RFC 6749 section 5.2


@pytest.mark.req("REV-5")
@pytest.mark.parametrize("flag", [0, 1, "true", "false", 1.0, None])
def test_closing_with_exceptions_takes_a_json_boolean_only(
    services: Services, app: Flask, flag: object
) -> None:
    team: Org = org(services)
    entitlement(services, "qa-approvers", {"bob": team.bob})
    campaign_id = campaign(services, fallback=team.admin)
    revoke_and_sign(services, team, campaign_id)  # closing: with_exceptions would close it
    admin = sign_in(app, "admin1")
    body = {"reason": "quarter over", "with_exceptions": flag}
    refused = problem(
        admin.post(f"/api/v1/campaigns/{campaign_id}/close", body), 422, "invalid-request"
    )
    assert refused["errors"][0]["field"] == "with_exceptions"
    with services.sessions() as session:
        found = session.get(Campaign, campaign_id)
        assert found is not None
        assert found.state == "closing"  # nothing changed


@pytest.mark.req("REV-1")
@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/directories/corp/sync", {"full": 1}),
        ("/api/v1/directories/corp/sync", {"allow_mass_deactivation": "yes"}),
        ("/api/v1/campaigns/c0ffee/decisions", {"items": [True], "decision": "certify"}),
        ("/api/v1/campaigns/c0ffee/decisions", {"items": ["7"], "decision": "certify"}),
    ],
)
def test_booleans_and_integers_in_bodies_are_strict(
    services: Services, app: Flask, path: str, body: dict
) -> None:
    org(services)
    admin = sign_in(app, "admin1")
    problem(admin.post(path, body), 422, "invalid-request")


@pytest.mark.req("REV-1")
@pytest.mark.parametrize("flag", ["1", "yes", "on", "True"])
def test_a_boolean_in_a_query_is_true_or_false(services: Services, app: Flask, flag: str) -> None:
    team: Org = org(services)
    entitlement(services, "qa-approvers", {"bob": team.bob})
    campaign_id = campaign(services, fallback=team.admin)
    admin = sign_in(app, "admin1")
    problem(admin.get(f"/api/v1/campaigns/{campaign_id}/items?mine={flag}"), 422, "invalid-request")
    assert admin.get(f"/api/v1/campaigns/{campaign_id}/items?mine=true").status_code == 200
