"""OpenAPI 3.1 generated from the same pydantic schemas that validate requests."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

from flask import Flask, request
from pydantic import BaseModel, ValidationError

import idgov
from idgov.errors import UnprocessableRequest
from idgov.web.api.schemas import Problem

P = ParamSpec("P")
R = TypeVar("R")
M = TypeVar("M", bound=BaseModel)
REF = "#/components/schemas/{model}"
ERROR_TEXT = {
    400: "Invalid request",
    401: "Not authenticated",
    403: "Not allowed",
    404: "Not found",
    409: "Conflict",
    422: "Invalid request",
    503: "Unavailable",
}


@dataclass(frozen=True)
class ApiDoc:
    summary: str
    response: type[BaseModel] | None
    body: type[BaseModel] | None = None
    tags: list[str] = field(default_factory=list)
    errors: list[int] = field(default_factory=list)
    status: int = 200
    query: type[BaseModel] | None = None


def api_doc(
    summary: str,
    response: type[BaseModel] | None = None,
    *,
    body: type[BaseModel] | None = None,
    tags: list[str] | None = None,
    errors: list[int] | None = None,
    status: int = 200,
    query: type[BaseModel] | None = None,
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Document a view; with `body`, validate the JSON body and pass it as `body=`; with
    `query`, validate the query string and pass it as `query=`."""
    doc = ApiDoc(summary, response, body, tags or [], errors or [], status, query)

    def decorate(view: Callable[P, R]) -> Callable[P, R]:
        if body is None and query is None:
            view.__dict__["api_doc"] = doc
            return view

        @functools.wraps(view)
        def validated(*args: P.args, **kwargs: P.kwargs) -> R:
            if body is not None:
                kwargs["body"] = parse_body(body)
            if query is not None:
                kwargs["query"] = parse_query(query)
            return view(*args, **kwargs)

        validated.__dict__["api_doc"] = doc
        return validated

    return decorate


def parse_body(model: type[BaseModel]) -> BaseModel:
    """Validate the request's JSON body; a problem names every bad field."""
    try:
        payload = request.get_json(silent=True)
    except RecursionError:  # json raises it for deeply nested input; Flask lets it through
        raise UnprocessableRequest("the request body is nested too deeply", errors=[]) from None
    if payload is None:
        raise UnprocessableRequest("the request body must be a JSON object", errors=[])
    return _validate(model, payload)


def parse_query(model: type[M]) -> M:
    """Validate the query string (a repeated parameter counts once, its first value); a
    problem names every bad field."""
    return _validate(model, request.args.to_dict())


def _validate(model: type[M], payload: object) -> M:
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        errors = [
            {"field": ".".join(str(p) for p in err["loc"]) or "(body)", "problem": err["msg"]}
            for err in exc.errors()
        ]
        fields = ", ".join(e["field"] for e in errors)
        raise UnprocessableRequest(f"invalid fields: {fields}", errors=errors) from None


PATH_PARAMETER = re.compile(r"<(?:\w+:)?(\w+)>")


def openapi_document(app: Flask) -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    paths: dict[str, Any] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        doc: ApiDoc | None = getattr(app.view_functions[rule.endpoint], "api_doc", None)
        if doc is None:
            continue
        path = PATH_PARAMETER.sub(r"{\1}", rule.rule)  # <id:campaign_id> -> {campaign_id}
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(doc, schemas)
    _add_schema(Problem, schemas)
    return {
        "openapi": "3.1.0",
        "info": {"title": "idgov API", "version": idgov.__version__},
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "paths": paths,
        "components": {"schemas": schemas},
    }


def _operation(doc: ApiDoc, schemas: dict[str, Any]) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    ok: dict[str, Any] = {"description": doc.summary}
    if doc.response is not None:
        ok["content"] = {"application/json": {"schema": _add_schema(doc.response, schemas)}}
    responses[str(doc.status)] = ok
    problem = {"application/problem+json": {"schema": {"$ref": REF.format(model="Problem")}}}
    for status in doc.errors:
        responses[str(status)] = {
            "description": ERROR_TEXT.get(status, "Error"),
            "content": problem,
        }
    operation: dict[str, Any] = {"summary": doc.summary, "tags": doc.tags, "responses": responses}
    if doc.query is not None:
        schema = doc.query.model_json_schema()
        operation["parameters"] = [
            {
                "name": name,
                "in": "query",
                "required": name in schema.get("required", []),
                "schema": {k: v for k, v in spec.items() if k != "title"},
            }
            for name, spec in schema["properties"].items()
        ]
    if doc.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _add_schema(doc.body, schemas)}},
        }
    return operation


def _add_schema(model: type[BaseModel], schemas: dict[str, Any]) -> dict[str, str]:
    schema = model.model_json_schema(ref_template=REF)
    for name, definition in schema.pop("$defs", {}).items():
        schemas[name] = definition
    schemas[model.__name__] = schema
    return {"$ref": REF.format(model=model.__name__)}
