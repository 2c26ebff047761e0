"""Policy administration API (/api/v1/policies): view (now or at a time) and change (CHG-1)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response
from pydantic import BaseModel

from idgov.db import transaction
from idgov.errors import InvalidRequest, NotFound
from idgov.policies.documents import POLICY_MODELS
from idgov.web.api.admin_schemas import PolicyChangeIn, PolicyOut, PolicyQuery
from idgov.web.api.openapi import api_doc
from idgov.web.api.responses import json_response
from idgov.web.auth import roles_required, signed_in
from idgov.web.context import services

bp = Blueprint("api_policies", __name__, url_prefix="/api/v1/policies")
READER_ROLES = ("admin", "security_officer", "auditor")  # the console's pages use these too
CHANGER_ROLES = ("admin",)


def _model(kind: str) -> type[BaseModel]:
    if kind not in POLICY_MODELS:
        raise NotFound(f"no policy {kind!r}; policies are {', '.join(sorted(POLICY_MODELS))}")
    return POLICY_MODELS[kind]


def _moment(raw: str | None) -> datetime | None:
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidRequest("at must be an ISO 8601 time", field="at") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


@bp.get("/<kind>")
@roles_required(*READER_ROLES)
@api_doc(
    summary="The policy in force now, or at ?at=TIME (CHG-1)",
    response=PolicyOut,
    query=PolicyQuery,
    tags=["policies"],
    errors=[400, 401, 403, 404],
)
def show(kind: str, query: PolicyQuery) -> Response:
    model, moment = _model(kind), _moment(query.at)
    with services().sessions() as session:
        policy = services().policies.at(session, model, moment)
        version = services().policies.version(session, kind, moment)  # the one shown
    answer = PolicyOut(kind=kind, version=version, policy=policy.model_dump(mode="json"))
    return json_response(answer)


@bp.patch("/<kind>")
@roles_required(*CHANGER_ROLES)
@api_doc(
    summary="Change policy values with a reason; a new version",
    response=PolicyOut,
    body=PolicyChangeIn,
    tags=["policies"],
    errors=[401, 403, 404, 422],
)
def change(kind: str, body: PolicyChangeIn) -> Response:
    _model(kind)
    changed_by = signed_in()[0].printed_name
    with transaction(services().sessions) as session:
        after = services().policies.change(session, kind, body.changes, body.reason, changed_by)
        version = services().policies.version(session, kind)
    answer = PolicyOut(kind=kind, version=version, policy=after.model_dump(mode="json"))
    return json_response(answer)
