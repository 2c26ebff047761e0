"""Public, unauthenticated documents: the OpenAPI description and the JWK Set (LNK-2)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify

from idgov.web.api.openapi import api_doc, openapi_document
from idgov.web.api.schemas import JwkSet
from idgov.web.context import db_session, services

bp = Blueprint("meta", __name__)


@bp.get("/api/v1/openapi.json")
def openapi() -> Response:
    return jsonify(openapi_document(current_app))


@bp.get("/.well-known/jwks.json")
@api_doc(
    summary="Every service signing key ever used, with its validity window",
    response=JwkSet,
    tags=["keys"],
)
def jwks() -> Response:
    response = jsonify(services().keys.jwks(db_session()))
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
