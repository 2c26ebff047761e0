"""Liveness (/healthz) and readiness (/readyz: database reachable, audit chain head readable).

Both are anonymous, so they publish no counts: the audit event count moved differently for a
failure against an unknown name and a real one, which told a guesser that a username exists
(LOCK-3, finding 6). Each component answers "ok", or /readyz answers 503 naming it.
"""

from __future__ import annotations

from flask import Blueprint, Response
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from idgov.audit.models import AuditHead
from idgov.errors import ServiceUnavailable
from idgov.web.api.openapi import api_doc
from idgov.web.api.responses import json_response
from idgov.web.api.schemas import Health, Readiness
from idgov.web.context import db_session
from idgov.web.problems import problem_response

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@api_doc(summary="Process is up", response=Health, tags=["operations"])
def healthz() -> Response:
    return json_response(Health(status="ok"))


@bp.get("/readyz")
@api_doc(
    summary="Database reachable and audit chain head readable",
    response=Readiness,
    tags=["operations"],
    errors=[503],
)
def readyz() -> Response:
    try:
        head = db_session().execute(select(AuditHead.seq)).first()
    except SQLAlchemyError:
        return problem_response(
            ServiceUnavailable("database unreachable").to_problem("/readyz"), 503
        )
    if head is None:
        return problem_response(
            ServiceUnavailable("audit chain head missing: run `idgov db upgrade`").to_problem(
                "/readyz"
            ),
            503,
        )
    return json_response(Readiness(status="ready", database="ok", audit_chain="ok"))
