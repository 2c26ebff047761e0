"""Reading and verifying signatures: GET /api/v1/signatures[/<id>], POST .../verify (LNK-1)."""

from __future__ import annotations

import functools
from typing import ParamSpec

from flask import Blueprint, Response, request
from flask.typing import ResponseReturnValue

from idgov.signatures.documents import SignatureDocument
from idgov.signatures.verification import RecordKey
from idgov.web.api.openapi import api_doc
from idgov.web.api.responses import json_response
from idgov.web.api.signature_schemas import (
    SignatureDetail,
    SignatureList,
    SignatureQuery,
    VerifyIn,
    VerifyOut,
)
from idgov.web.auth import PERSON_AUTH, View, current_identity, roles_required
from idgov.web.context import db_session, services
from idgov.web.hosts import current_client, scope_required

P = ParamSpec("P")
bp = Blueprint("api_signature_reads", __name__, url_prefix="/api/v1/signatures")
READER_ROLES = ("auditor", "admin")
ERRORS = [401, 403, 422, 503]


def host_or_reader(view: View[P]) -> View[P]:
    """A host with the `signatures` scope (its bearer token decides), or a signed-in auditor
    or administrator. Without a person's session the caller is taken for a host, so an
    anonymous call gets the RFC 6750 challenge."""
    as_host = scope_required("signatures")(view)
    as_person = roles_required(*READER_ROLES)(view)

    @functools.wraps(view)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
        person = current_identity() is not None and "Authorization" not in request.headers
        return (as_person if person else as_host)(*args, **kwargs)

    guarded.__dict__.update(as_host.__dict__, **{PERSON_AUTH: True})  # both, in the document
    return guarded


def _own_client_id() -> str | None:
    """A host reads only its own signatures; a person (auditor, admin) reads them all."""
    client = current_client()
    return None if client is None else client.client_id


def _detail(document: SignatureDocument) -> SignatureDetail:
    return SignatureDetail.model_validate(document.as_dict())


@bp.post("/verify")
@host_or_reader
@api_doc(
    summary="Check a signature token: valid, or the reasons it is not (LNK-1, LNK-2)",
    response=VerifyOut,
    body=VerifyIn,
    tags=["signatures"],
    errors=ERRORS,
)
def verify(body: VerifyIn) -> Response:
    record = None if body.record is None else RecordKey(**body.record.model_dump())
    result = services().signature_verifier.verify(
        db_session(), body.token, body.digest, record, body.aud
    )
    document = result.document
    answer = VerifyOut(
        valid=result.valid,
        reasons=result.reasons,
        signature=None if document is None else _detail(document),
    )
    return json_response(answer)


@bp.get("/<id:signature_id>")
@host_or_reader
@api_doc(
    summary="One signature with its manifestation, record and token",
    response=SignatureDetail,
    tags=["signatures"],
    errors=[401, 403, 404, 503],
)
def get_signature(signature_id: str) -> Response:
    document = services().signature_reader.get(db_session(), signature_id, _own_client_id())
    return json_response(_detail(document))


@bp.get("")
@host_or_reader
@api_doc(
    summary="Every signature of a record, in signing order",
    response=SignatureList,
    query=SignatureQuery,
    tags=["signatures"],
    errors=ERRORS,
)
def record_signatures(query: SignatureQuery) -> Response:
    documents = services().signature_reader.for_record(
        db_session(), query.type, query.id, query.version, _own_client_id()
    )
    return json_response(SignatureList(signatures=[_detail(d) for d in documents]))
