"""OpenAPI 3.1 generated from the same pydantic schemas that validate requests."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

from flask import Flask, request
from pydantic import BaseModel, ValidationError
from werkzeug.routing import Rule

import idgov
from idgov.clients.rules import SCOPES
from idgov.errors import UnprocessableRequest
from idgov.ids import MAX_ROW_ID, UUID_LIKE
from idgov.web.api.schemas import Problem
from idgov.web.auth import COOKIE, CSRF_HEADER, PERSON_AUTH, UNSAFE_METHODS

P = ParamSpec("P")
R = TypeVar("R")
M = TypeVar("M", bound=BaseModel)
REF = "#/components/schemas/{model}"
FORM = "application/x-www-form-urlencoded"
ERROR_TEXT = {
    400: "Invalid request",
    401: "Not authenticated",
    403: "Not allowed",
    404: "Not found",
    409: "Conflict",
    413: "Request body too large",
    422: "Invalid request",
    423: "Locked",
    429: "Too many requests: wait as Retry-After says",
    503: "Unavailable",
}
# Answered by any operation: throttled (429) or a database, key or provider out of reach (503).
ANY_OPERATION = (429, 503)
# What the URL converters match (web/converters.py); anything else is a 404 from routing.
PATH_SCHEMAS: dict[str, dict[str, Any]] = {
    "id": {"type": "string", "pattern": f"^{UUID_LIKE.pattern}$"},
    "rowid": {"type": "integer", "minimum": 0, "maximum": MAX_ROW_ID},
    "default": {"type": "string", "pattern": "^[^/]+$"},
}
SECURITY_SCHEMES = {
    "session": {"type": "apiKey", "in": "cookie", "name": COOKIE},
    "csrf": {"type": "apiKey", "in": "header", "name": CSRF_HEADER},
    "host": {
        "type": "oauth2",
        "description": "A host client's bearer token (RFC 6750) by client credentials",
        "flows": {
            "clientCredentials": {
                "tokenUrl": "/oauth/token",
                "scopes": {scope: f"the {scope} API" for scope in sorted(SCOPES)},
            }
        },
    },
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
    form: type[BaseModel] | None = None
    errors_as: tuple[str, type[BaseModel]] | None = None


def api_doc(
    summary: str,
    response: type[BaseModel] | None = None,
    *,
    body: type[BaseModel] | None = None,
    tags: list[str] | None = None,
    errors: list[int] | None = None,
    status: int = 200,
    query: type[BaseModel] | None = None,
    form: type[BaseModel] | None = None,
    errors_as: tuple[str, type[BaseModel]] | None = None,
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Document a view; with `body`, validate the JSON body and pass it as `body=`; with
    `query`, validate the query string and pass it as `query=`. `form` documents a form body
    the view parses itself; `errors_as` (media type, schema) documents `errors` answered
    otherwise than as problem+json (RFC 6749 section 5.2 for /oauth/token)."""
    doc = ApiDoc(summary, response, body, tags or [], errors or [], status, query, form, errors_as)

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


PATH_PARAMETER = re.compile(r"<(?:(\w+):)?(\w+)>")


def openapi_document(app: Flask) -> dict[str, Any]:
    """The OpenAPI 3.1 description of every documented view: what the server checks (path,
    query and body schemas, who may call) and every status it answers."""
    schemas: dict[str, Any] = {}
    paths: dict[str, Any] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        view = app.view_functions[rule.endpoint]
        doc: ApiDoc | None = getattr(view, "api_doc", None)
        if doc is None:
            continue
        path = PATH_PARAMETER.sub(r"{\2}", rule.rule)  # <id:campaign_id> -> {campaign_id}
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            operation = _operation(doc, schemas)
            _describe_route(operation, rule, method, view)
            paths.setdefault(path, {})[method.lower()] = operation
    _add_schema(Problem, schemas)
    return {
        "openapi": "3.1.0",
        "info": {"title": "idgov API", "version": idgov.__version__},
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "paths": paths,
        "components": {"schemas": schemas, "securitySchemes": SECURITY_SCHEMES},
    }


def _describe_route(operation: dict[str, Any], rule: Rule, method: str, view: object) -> None:
    """What the route itself adds: path parameters (a malformed one is a 404), who may call
    (a person's session, with the CSRF header on writes; a host's scope), and the statuses
    any such operation can answer."""
    errors: set[int] = set(ANY_OPERATION)
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": PATH_SCHEMAS[kind or "default"]}
        for kind, name in PATH_PARAMETER.findall(rule.rule)
    ]
    if parameters:
        operation["parameters"] = parameters + operation.get("parameters", [])
        errors.add(404)
    if "application/json" in operation.get("requestBody", {}).get("content", {}):
        errors.update((413, 422))
    if "parameters" in operation and any(p["in"] == "query" for p in operation["parameters"]):
        errors.add(422)
    security: list[dict[str, list[str]]] = []
    scope: str | None = getattr(view, "required_scope", None)
    if scope is not None:
        security.append({"host": [scope]})
    if getattr(view, PERSON_AUTH, False):
        security.append(
            {"session": [], "csrf": []} if method in UNSAFE_METHODS else {"session": []}
        )
    if security:
        operation["security"] = security
        errors.update((401, 403))
    for status in sorted(errors - set(operation["responses"])):
        operation["responses"][str(status)] = _problem(status)


def _problem(status: int) -> dict[str, Any]:
    return {
        "description": ERROR_TEXT.get(status, "Error"),
        "content": {"application/problem+json": {"schema": {"$ref": REF.format(model="Problem")}}},
    }


def _operation(doc: ApiDoc, schemas: dict[str, Any]) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    ok: dict[str, Any] = {"description": doc.summary}
    if doc.response is not None:
        ok["content"] = {"application/json": {"schema": _add_schema(doc.response, schemas)}}
    responses[str(doc.status)] = ok
    for status in doc.errors:
        responses[str(status)] = _problem(status)
        if doc.errors_as is not None:
            media, model = doc.errors_as
            responses[str(status)]["content"] = {media: {"schema": _add_schema(model, schemas)}}
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
    bodies = {"application/json": doc.body, FORM: doc.form}
    for media, body in bodies.items():
        if body is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {media: {"schema": _add_schema(body, schemas)}},
            }
    return operation


def _add_schema(model: type[BaseModel], schemas: dict[str, Any]) -> dict[str, str]:
    schema = model.model_json_schema(ref_template=REF)
    for name, definition in schema.pop("$defs", {}).items():
        schemas[name] = definition
    schemas[model.__name__] = schema
    return {"$ref": REF.format(model=model.__name__)}
