"""Host signing API: POST /api/v1/signatures and declared signing orders (11.50, 11.200, SEQ-1)."""

from __future__ import annotations

from flask import Blueprint, Response, request

from idgov.clock import iso_utc
from idgov.signatures.requests import (
    BatchOut,
    SequenceIn,
    SequenceOut,
    SignatureOut,
    SigningAnswer,
    SignRequest,
    answer_for,
)
from idgov.signatures.sequencing import DeclaredSequence
from idgov.web.api.openapi import api_doc
from idgov.web.api.responses import json_response
from idgov.web.context import services
from idgov.web.hosts import calling_client, scope_required

bp = Blueprint("api_signing", __name__)
SIGNING_ERRORS = [400, 401, 403, 409, 422, 423, 503]


@bp.post("/api/v1/signatures")
@scope_required("signatures")
@api_doc(
    summary="Sign a record, or a batch of records all or none, after re-authentication",
    response=SigningAnswer,
    body=SignRequest,
    tags=["signatures"],
    errors=SIGNING_ERRORS,
    status=201,
)
def sign(body: SignRequest) -> Response:
    outcome = services().signatures.sign(body, calling_client(), request.remote_addr)
    answer: SignatureOut | BatchOut = answer_for(outcome)
    return json_response(answer, 201)


def _sequence(declared: DeclaredSequence) -> Response:
    answer = SequenceOut(
        record_type=declared.record_type,
        meanings=declared.meanings,
        allow_same_signer=declared.allow_same_signer,
        declared_at=iso_utc(declared.declared_at),
    )
    return json_response(answer)


@bp.put("/api/v1/sequences/<record_type>")
@scope_required("signatures")
@api_doc(
    summary="Declare this client's signing order for a record type (SEQ-1)",
    response=SequenceOut,
    body=SequenceIn,
    tags=["signatures"],
    errors=[401, 403, 422, 503],
)
def declare_sequence(record_type: str, body: SequenceIn) -> Response:
    declared = services().signatures.declare_sequence(
        calling_client(), record_type, body.meanings, body.allow_same_signer
    )
    return _sequence(declared)


@bp.get("/api/v1/sequences/<record_type>")
@scope_required("signatures")
@api_doc(
    summary="This client's declared signing order for a record type",
    response=SequenceOut,
    tags=["signatures"],
    errors=[401, 403, 404, 422, 503],
)
def get_sequence(record_type: str) -> Response:
    return _sequence(services().signatures.sequence(calling_client(), record_type))
