"""Loss-report API (/api/v1/loss-reports): report, re-verify, temporary, replace (LOSS-1/2)."""

from __future__ import annotations

from typing import Any, Literal

from flask import Blueprint, Response
from pydantic import Field
from sqlalchemy.orm import Session

from idgov.db import transaction
from idgov.web.api.openapi import api_doc
from idgov.web.api.responses import json_response
from idgov.web.api.schemas import Schema
from idgov.web.auth import login_required, me, roles_required
from idgov.web.context import services

bp = Blueprint("api_loss_reports", __name__, url_prefix="/api/v1/loss-reports")
ERRORS = [401, 403, 404, 409, 422]
Id = Field(min_length=1, max_length=36)


class LossReportIn(Schema):
    owner_id: str = Id
    credential: Literal["token", "card", "password"]
    kind: Literal["lost", "stolen", "missing", "compromised"]
    token_id: str | None = Field(default=None, min_length=1, max_length=36)
    description: str | None = Field(default=None, max_length=2000)


class ReVerificationIn(Schema):
    evidence: str = Field(min_length=1, max_length=200, description="What was checked, how")


class ReplacementIn(Schema):
    token_id: str = Id


class TemporaryOut(Schema):
    case_id: str
    code: str = Field(description="Shown once; idgov keeps only its hash")
    expires_at: str | None
    uses_left: int | None


class CaseRecordOut(Schema):
    """The case with its timeline (time, actor, reason of every step) and SLA figures."""

    id: str
    owner: dict[str, str] | None
    credential: str
    kind: str
    token_id: str | None
    description: str | None
    status: str
    reported_by: dict[str, str] | None
    reported_at: str
    deauthorized_at: str
    verified_by: dict[str, str] | None
    verified_at: str | None
    verification_evidence: str | None
    temporary: dict[str, Any]
    replacement_token_id: str | None
    replaced_at: str | None
    sla: dict[str, float | None]
    timeline: list[dict[str, Any]]


def _record(session: Session, case_id: str, status: int = 200) -> Response:
    record = CaseRecordOut(**services().loss.case_record(session, case_id))
    return json_response(record, status)


@bp.post("")
@login_required
@api_doc(
    summary="Report a token, card or password lost, stolen, missing or compromised; it is "
    "deauthorized at once (LOSS-1)",
    response=CaseRecordOut,
    body=LossReportIn,
    tags=["loss"],
    errors=ERRORS,
    status=201,
)
def report(body: LossReportIn) -> Response:
    with transaction(services().sessions) as session:
        owner = services().identities.get(session, body.owner_id)
        case = services().loss.report(
            session,
            owner,
            me(session),
            body.credential,
            body.kind,
            body.token_id,
            body.description,
        )
        return _record(session, case.id, 201)


@bp.get("/<id:case_id>")
@login_required
@api_doc(
    summary="The case record: every step with time, actor and reason, and SLA figures",
    response=CaseRecordOut,
    tags=["loss"],
    errors=[401, 403, 404],
)
def get_case(case_id: str) -> Response:
    with transaction(services().sessions) as session:
        services().loss.refuse_read(session, services().loss.get(session, case_id), me(session))
        return _record(session, case_id)


@bp.post("/<id:case_id>/verification")
@roles_required("security_officer")
@api_doc(
    summary="Record re-verifying the person's identity (a second person, LOSS-2)",
    response=CaseRecordOut,
    body=ReVerificationIn,
    tags=["loss"],
    errors=ERRORS,
)
def verify(case_id: str, body: ReVerificationIn) -> Response:
    with transaction(services().sessions) as session:
        services().loss.verify_identity(session, case_id, me(session), body.evidence)
        return _record(session, case_id)


@bp.post("/<id:case_id>/temporary")
@roles_required("security_officer")
@api_doc(
    summary="Issue the temporary credential (short validity, few uses), shown once (LOSS-2)",
    response=TemporaryOut,
    tags=["loss"],
    errors=ERRORS,
    status=201,
)
def temporary(case_id: str) -> Response:
    with transaction(services().sessions) as session:
        code = services().loss.issue_temporary(session, case_id, me(session))
        case = services().loss.get(session, case_id)
        out = TemporaryOut(
            case_id=case.id,
            code=code,
            expires_at=services().loss.case_record(session, case_id)["temporary"]["expires_at"],
            uses_left=case.temporary_uses_left,
        )
    response = json_response(out, 201)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/<id:case_id>/replacement")
@login_required
@api_doc(
    summary="Complete the case with the permanent replacement token (LOSS-2)",
    response=CaseRecordOut,
    body=ReplacementIn,
    tags=["loss"],
    errors=ERRORS,
)
def replacement(case_id: str, body: ReplacementIn) -> Response:
    with transaction(services().sessions) as session:
        services().loss.complete_replacement(session, case_id, body.token_id, by=me(session))
        return _record(session, case_id)
