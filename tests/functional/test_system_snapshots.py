"""Host systems push full entitlement snapshots over HTTP with bearer tokens (REV-1, REV-6)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from flask.testing import FlaskClient
from flask.wrappers import Response
from sqlalchemy import func, select

from idgov.audit.models import AuditEvent
from idgov.clients.models import HostClient
from idgov.db import transaction
from idgov.entitlements.models import SYSTEM_ROLE, Entitlement, EntitlementGrant
from idgov.identity.access import AccessRefused
from idgov.reviews.models import SystemSnapshot
from idgov.web.api import systems
from idgov.web.api.system_schemas import SnapshotIn
from idgov.wiring import Services
from tests.functional.hosts import HOST_ADDRESS, bearer, register, token_for
from tests.functional.people import person, problem

URL = "/api/v1/systems/{system}/entitlements"


@pytest.fixture
def people(services: Services) -> dict[str, str]:
    return {name: person(services, name, password=None) for name in ("alice", "bob", "carol")}


@pytest.fixture
def lims(client: FlaskClient, services: Services) -> str:
    """A bearer token of the host client "lims" (scope entitlements)."""
    client_id, secret = register(services, "lims", ("entitlements",))
    return token_for(client, client_id, secret)


def push(client: FlaskClient, token: str, body: Any, system: str = "lims") -> Response:
    return client.put(
        URL.format(system=system),
        json=body,
        headers=bearer(token),
        environ_base={"REMOTE_ADDR": HOST_ADDRESS},
    )


def snapshot(**extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "roles": [
            {"name": "approver", "description": "Approves batch records", "owner": "alice"},
            {"name": "analyst", "description": "Enters results"},
        ],
        "assignments": [
            {"username": "bob", "role": "approver"},
            {"username": "Carol ", "role": "analyst"},
            {"username": "bob", "role": "analyst"},
            {"username": "ghost.user", "role": "approver"},
        ],
    }
    body.update(extra)
    return body


def holders(services: Services, system: str = "lims") -> dict[tuple[str, str], str | None]:
    """(role, account) -> identity id of the current grants of the system's roles."""
    with services.sessions() as session:
        rows = session.execute(
            select(Entitlement.key, EntitlementGrant.account, EntitlementGrant.identity_id)
            .join(Entitlement, Entitlement.id == EntitlementGrant.entitlement_id)
            .where(Entitlement.source == system, EntitlementGrant.removed_at.is_(None))
        )
        return {(row.key, row.account): row.identity_id for row in rows}


def counts(services: Services) -> tuple[int, int, int, int]:
    """Entitlements, grants, snapshots and audit events: a refused snapshot changes none."""
    with services.sessions() as session:
        return tuple(  # type: ignore[return-value]
            session.scalar(select(func.count()).select_from(table)) or 0
            for table in (Entitlement, EntitlementGrant, SystemSnapshot, AuditEvent)
        )


def actions(services: Services, prefix: str) -> list[AuditEvent]:
    with services.sessions() as session:
        query = select(AuditEvent).where(AuditEvent.action.startswith(prefix))
        return list(session.scalars(query.order_by(AuditEvent.seq)))


@pytest.mark.req("REV-1")
@pytest.mark.req("REV-6")
@pytest.mark.req("AUD-1")
def test_a_snapshot_becomes_roles_and_grants_with_orphans_reported(
    client: FlaskClient, services: Services, people: dict[str, str], lims: str
) -> None:
    answer = push(client, lims, snapshot())

    assert answer.status_code == 200, answer.get_data(as_text=True)
    body = answer.get_json()
    assert body["system"] == "lims"
    assert (body["roles"], body["assignments"], body["roles_created"]) == (2, 4, 2)
    assert body["grants_added"] == 4
    assert body["unknown_usernames"] == ["ghost.user"]  # an orphan finding, not an error
    assert holders(services) == {
        ("approver", "bob"): people["bob"],
        ("analyst", "carol"): people["carol"],  # normalized: "Carol " is carol
        ("analyst", "bob"): people["bob"],
        ("approver", "ghost.user"): None,
    }
    with services.sessions() as session:
        roles = {
            e.key: e
            for e in session.scalars(select(Entitlement).where(Entitlement.source == "lims"))
        }
        kept = session.scalars(select(SystemSnapshot)).one()
    assert roles["approver"].source_type == SYSTEM_ROLE
    assert roles["approver"].description == "Approves batch records"
    assert roles["approver"].owner_id == people["alice"]
    assert roles["analyst"].owner_id is None
    normalized = {
        "assignments": [
            {"role": "analyst", "username": "bob"},
            {"role": "analyst", "username": "carol"},
            {"role": "approver", "username": "bob"},
            {"role": "approver", "username": "ghost.user"},
        ],
        "roles": [
            {"description": "Enters results", "name": "analyst", "owner": None},
            {"description": "Approves batch records", "name": "approver", "owner": "alice"},
        ],
    }
    text = json.dumps(normalized, sort_keys=True, separators=(",", ":"))
    assert kept.digest == body["digest"] == "sha256:" + hashlib.sha256(text.encode()).hexdigest()
    assert (kept.roles, kept.assignments, kept.system) == (2, 4, "lims")
    assert json.loads(kept.unknown_usernames) == ["ghost.user"]
    [received] = actions(services, "system:snapshot:received")
    assert received.actor_type == "client"  # the host is the actor (AUD-1)
    assert json.loads(received.new_values)["unknown_usernames_first"] == ["ghost.user"]
    assert len(actions(services, "entitlement:role:created")) == 2
    assert actions(services, "entitlement:orphans:changed")


@pytest.mark.req("REV-1")
def test_the_next_snapshot_removes_roles_and_ends_their_grants(
    client: FlaskClient, services: Services, people: dict[str, str], lims: str
) -> None:
    push(client, lims, snapshot())
    later = {
        "roles": [{"name": "approver", "description": "Approves and releases", "owner": "carol"}],
        "assignments": [{"username": "carol", "role": "approver"}],
    }
    answer = push(client, lims, later)

    assert answer.status_code == 200, answer.get_data(as_text=True)
    body = answer.get_json()
    assert (body["roles_updated"], body["roles_removed"]) == (1, 1)
    assert (body["grants_added"], body["grants_removed"]) == (1, 4)
    assert body["unknown_usernames"] == []
    assert holders(services) == {("approver", "carol"): people["carol"]}
    with services.sessions() as session:
        analyst = session.scalars(select(Entitlement).where(Entitlement.key == "analyst")).one()
        ended = session.scalars(
            select(EntitlementGrant).where(EntitlementGrant.removed_at.is_not(None))
        ).all()
    assert analyst.removed_at is not None  # kept, marked removed (REC-1)
    assert {g.removed_by for g in ended} == {"source"}
    [updated] = actions(services, "entitlement:role:updated")
    assert json.loads(updated.new_values) == {
        "description": "Approves and releases",
        "owner_id": people["carol"],
    }
    assert len(actions(services, "entitlement:role:removed")) == 1

    back = push(client, lims, snapshot())  # the role returns: the same entitlement, live again
    assert back.get_json()["roles_created"] == 0
    with services.sessions() as session:
        analyst = session.scalars(select(Entitlement).where(Entitlement.key == "analyst")).one()
    assert analyst.removed_at is None


def test_the_same_holdings_in_another_order_have_the_same_digest(
    client: FlaskClient, people: dict[str, str], lims: str
) -> None:
    first = push(client, lims, snapshot()).get_json()
    shuffled = snapshot()
    shuffled["roles"].reverse()
    shuffled["assignments"] = [
        {"username": row["username"].upper().strip(), "role": row["role"]}
        for row in reversed(shuffled["assignments"])
    ]
    again = push(client, lims, shuffled).get_json()
    assert again["digest"] == first["digest"]
    assert (again["grants_added"], again["grants_removed"]) == (0, 0)


def rows(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"username": username, "role": role} for username, role in pairs]


ROLES = [{"name": "approver"}, {"name": "analyst"}]
BAD_SNAPSHOTS = {
    "duplicate rows": (
        {"roles": ROLES, "assignments": rows(("bob", "approver"), ("BOB", "approver"))},
        "duplicate assignments: bob/approver",
        "assignments[1]",
    ),
    "duplicate roles": (
        {"roles": [*ROLES, {"name": "approver"}], "assignments": []},
        "duplicate roles: approver",
        "roles[2].name",
    ),
    "unknown roles": (
        {"roles": ROLES, "assignments": rows(("bob", "auditor"), ("carol", "qa"))},
        "unknown roles: auditor, qa",
        "assignments[0].role",
    ),
    "unknown owner": (
        {"roles": [{"name": "approver", "owner": "nobody"}], "assignments": []},
        "unknown owner usernames: nobody",
        "roles[0].owner",
    ),
    "invalid username": (
        {"roles": ROLES, "assignments": rows(("bob smith", "approver"))},
        "1 assignment with an invalid username",
        "assignments[0].username",
    ),
    "padded role name": (
        {"roles": [{"name": " approver"}], "assignments": []},
        "1 invalid role fields",
        "roles[0].name",
    ),
    "NUL in a description": (
        {"roles": [{"name": "approver", "description": "a\x00b"}], "assignments": []},
        "1 invalid role fields",
        "roles[0].description",
    ),
    "missing assignments": ({"roles": ROLES}, "invalid fields: assignments", "assignments"),
    "unknown field": (
        {"roles": ROLES, "assignments": [], "extra": 1},
        "invalid fields: extra",
        "extra",
    ),
    "wrong type": (
        {"roles": ROLES, "assignments": [{"username": 7, "role": "approver"}]},
        "invalid fields: assignments.0.username",
        "assignments.0.username",
    ),
}


@pytest.mark.req("REV-1")
@pytest.mark.parametrize("case", sorted(BAD_SNAPSHOTS))
def test_a_bad_snapshot_is_refused_naming_the_field_and_changes_nothing(
    client: FlaskClient, services: Services, people: dict[str, str], lims: str, case: str
) -> None:
    push(client, lims, snapshot())
    before = counts(services)
    body, detail, field = BAD_SNAPSHOTS[case]

    refused = problem(push(client, lims, body), 422, "invalid-request")

    assert detail in refused["detail"]
    assert field in [error["field"] for error in refused["errors"]]
    assert counts(services) == before


def test_more_than_200000_assignments_are_refused(
    client: FlaskClient, services: Services, lims: str
) -> None:
    """Larger than the app's 2 MiB request limit: allowed in, refused by count."""
    before = counts(services)
    body = {
        "roles": [{"name": "r"}],
        "assignments": [{"username": f"u{i}", "role": "r"} for i in range(200_001)],
    }
    refused = problem(push(client, lims, body), 422, "invalid-request")
    assert refused["errors"][0]["field"] == "assignments"
    assert counts(services) == before


def test_a_snapshot_over_2_mib_is_taken(client: FlaskClient, services: Services, lims: str) -> None:
    body = {
        "roles": [{"name": "reader"}],
        "assignments": [{"username": f"account.{i:06d}", "role": "reader"} for i in range(50_000)],
    }
    assert len(json.dumps(body)) > 2 * 1024 * 1024
    answer = push(client, lims, body)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.get_json()["grants_added"] == 50_000
    assert len(answer.get_json()["unknown_usernames"]) == 50_000


@pytest.mark.req("ACC-2")
def test_another_hosts_system_is_unknown_and_unchanged(
    client: FlaskClient, services: Services, people: dict[str, str], lims: str
) -> None:
    eqms_id, eqms_secret = register(services, "eqms", ("entitlements",))
    eqms = token_for(client, eqms_id, eqms_secret)
    push(client, eqms, snapshot(), system="EQMS")  # its own name, in any case
    before = counts(services)

    other = problem(push(client, lims, snapshot(), system="eqms"), 404, "not-found")
    absent = problem(push(client, lims, snapshot(), system="nosuch"), 404, "not-found")

    assert other["detail"] == absent["detail"] == "unknown system"  # nothing revealed
    assert counts(services)[:3] == before[:3]
    refusals = actions(services, "access:host-system:refused")  # audited (ACC-2)
    assert [json.loads(e.new_values)["system"] for e in refusals] == ["eqms", "nosuch"]
    assert counts(services)[3] == before[3] + 2
    with services.sessions() as session:
        assert session.scalars(select(SystemSnapshot.system)).all() == ["eqms"]


@pytest.mark.req("ACC-2")
def test_the_entitlements_scope_is_required(client: FlaskClient, services: Services) -> None:
    signer_id, signer_secret = register(services, "lims", ("signatures", "entitlements"))
    narrow = token_for(client, signer_id, signer_secret, scope="signatures")
    refused = problem(push(client, narrow, snapshot()), 403, "forbidden")
    assert "entitlements" in refused["detail"]
    anonymous = client.put(URL.format(system="lims"), json=snapshot())
    problem(anonymous, 401, "unauthenticated")
    for path in ("/revocations", "/revocations/1/done"):
        method = "GET" if path == "/revocations" else "POST"
        url = f"/api/v1/systems/lims{path}"
        response = client.open(url, method=method, json={}, headers=bearer(narrow))
        problem(response, 403, "forbidden")
    with services.sessions() as session:
        assert session.scalar(select(func.count()).select_from(SystemSnapshot)) == 0


def test_the_host_endpoints_are_in_the_openapi_document(client: FlaskClient) -> None:
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "put" in paths["/api/v1/systems/{system}/entitlements"]
    listing = paths["/api/v1/systems/{system}/revocations"]["get"]
    assert {p["name"] for p in listing["parameters"]} == {"system", "status", "after", "limit"}
    assert "post" in paths["/api/v1/systems/{system}/revocations/{remediation_id}/done"]


def test_a_body_too_large_or_not_json_is_refused(
    client: FlaskClient, services: Services, lims: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    headers = {**bearer(lims), "Content-Type": "application/json"}
    for data in ("not json", "[1]", ""):
        answer = client.put(
            URL.format(system="lims"),
            data=data,
            headers=headers,
            environ_base={"REMOTE_ADDR": HOST_ADDRESS},
        )
        problem(answer, 422, "invalid-request")
    monkeypatch.setattr(systems, "SNAPSHOT_MAX_BYTES", 1000)
    problem(
        push(client, lims, snapshot(assignments=rows(("bob", "r")) * 100)), 413, "request-too-large"
    )
    with services.sessions() as session:
        assert session.scalar(select(func.count()).select_from(SystemSnapshot)) == 0


def test_odd_revocation_paging_and_notes_are_refused_naming_the_field(
    client: FlaskClient, services: Services, lims: str
) -> None:
    base, env = "/api/v1/systems/lims/revocations", {"REMOTE_ADDR": HOST_ADDRESS}
    for after in (2**31, 2**63):  # overflowed INTEGER on PostgreSQL and SQLite: a 500
        answer = client.get(f"{base}?after={after}", headers=bearer(lims), environ_base=env)
        assert problem(answer, 422, "invalid-request")["errors"][0]["field"] == "after"
    before = counts(services)
    for note in ("\x00", "a\x01b"):
        answer = client.post(
            f"{base}/1/done", json={"note": note}, headers=bearer(lims), environ_base=env
        )
        assert problem(answer, 422, "invalid-request")["errors"][0]["field"] == "note"
    for odd in ("2147483648", "%D9%A1", "99999999999"):  # beyond INTEGER; Arabic-Indic one
        answer = client.post(f"{base}/{odd}/done", json={}, headers=bearer(lims), environ_base=env)
        problem(answer, 404, "not-found")
    nested = "[" * 5000 + "]" * 5000  # json's decoder recurses: a RecursionError, not a 500
    answer = client.put(
        "/api/v1/systems/lims/entitlements",
        data=nested,
        content_type="application/json",
        headers=bearer(lims),
        environ_base=env,
    )
    assert "nested too deeply" in problem(answer, 422, "invalid-request")["detail"]
    assert counts(services) == before


@pytest.mark.req("ACC-2")
def test_the_service_itself_refuses_a_host_without_the_scope(
    services: Services, people: dict[str, str]
) -> None:
    client_id, _secret = register(services, "lims", ("signatures",))
    with services.sessions() as session:
        host = session.get(HostClient, client_id)
        assert host is not None
        session.expunge(host)
    with pytest.raises(AccessRefused), transaction(services.sessions) as session:
        services.snapshots.receive(session, host, "lims", SnapshotIn.model_validate(snapshot()))
    [refused] = actions(services, "access:host-system:refused")  # kept: a recorded refusal
    assert json.loads(refused.new_values)["refusal"] == "no entitlements scope"
    assert counts(services)[:3] == (0, 0, 0)
