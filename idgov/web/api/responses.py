"""The one way an API handler answers with a body: a response schema, as JSON, with a status."""

from __future__ import annotations

from flask import Response, jsonify
from pydantic import BaseModel


def json_response(model: BaseModel, status: int = 200, *, exclude_none: bool = False) -> Response:
    """`model` serialized as JSON (the schema the OpenAPI document names) with `status`;
    `exclude_none` leaves out the fields that are None (fields of one outcome only)."""
    response = jsonify(model.model_dump(exclude_none=exclude_none))
    response.status_code = status
    return response
