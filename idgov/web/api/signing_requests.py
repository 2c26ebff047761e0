"""Host API of the signing ceremony: create a signing request, read its outcome (11.200)."""

from __future__ import annotations

import json

from flask import Blueprint, Response

from idgov.clock import iso_utc
from idgov.db import transaction
from idgov.signatures.ceremony.models import SigningRequest
from idgov.signatures.ceremony.schemas import SigningRequestIn, SigningRequestOut
from idgov.web.api.openapi import api_doc
from idgov.web.api.responses import json_response
from idgov.web.context import services
from idgov.web.hosts import calling_client, scope_required

bp = Blueprint("api_signing_requests", __name__)


def _answer(row: SigningRequest, status: int = 200) -> Response:
    answer = SigningRequestOut(
        id=row.id,
        status=row.status,
        ceremony_url=services().ceremonies.ceremony_url(row.id),
        created_at=iso_utc(row.created_at),
        expires_at=iso_utc(row.expires_at),
        reason=row.failure,
        result=json.loads(row.answer) if row.answer else None,
    )
    return json_response(answer, status, exclude_none=True)


@bp.post("/api/v1/signing-requests")
@scope_required("signatures")
@api_doc(
    summary="Ask a person to sign at idgov's ceremony page; the host never sees a password",
    response=SigningRequestOut,
    body=SigningRequestIn,
    tags=["signatures"],
    errors=[400, 401, 403, 422, 503],
    status=201,
)
def create(body: SigningRequestIn) -> Response:
    built = services()
    with transaction(built.sessions) as session:
        row = built.ceremonies.create(session, calling_client(), body)
    return _answer(row, 201)


@bp.get("/api/v1/signing-requests/<id:request_id>")
@scope_required("signatures")
@api_doc(
    summary="A signing request's status and, once completed, its signatures",
    response=SigningRequestOut,
    tags=["signatures"],
    errors=[401, 403, 404, 503],
)
def read(request_id: str) -> Response:
    built = services()
    with transaction(built.sessions) as session:
        row = built.ceremonies.for_client(session, calling_client(), request_id)
    return _answer(row)
