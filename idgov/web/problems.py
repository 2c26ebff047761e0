"""Every error answers as RFC 9457 problem+json, including 404, 405 and 500; a browser asking
for a page (not the API) gets the same error as a page."""

from __future__ import annotations

import logging

from flask import Flask, Response, json, render_template, request
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

from idgov.errors import PROBLEM_BASE, IdgovError, ServiceUnavailable

log = logging.getLogger("idgov.web")
DATABASE_DOWN = "idgov cannot reach its database right now; try again shortly"
DATABASE_RETRY_SECONDS = 5
DATABASE_CONFLICT = (
    "a concurrent request conflicted with this one and it was rolled back, nothing changed; "
    "try again"
)
PROBLEM_TYPES = {
    400: "invalid-request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    413: "request-too-large",
    415: "unsupported-media-type",
    422: "invalid-request",
    429: "too-many-requests",
}


def problem_response(problem: dict[str, object], status: int) -> Response:
    return Response(json.dumps(problem), status=status, mimetype="application/problem+json")


def register_problem_handlers(app: Flask) -> None:
    @app.errorhandler(IdgovError)
    def _idgov_error(error: IdgovError) -> Response:
        if error.status >= 500:
            log.error("request failed: %s", error.detail)
        response = problem_response(error.to_problem(request.path), error.status)
        if error.retry_after is not None:
            response.headers["Retry-After"] = str(error.retry_after)  # RFC 9110 10.2.3
        return response

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def _database_unavailable(error: DBAPIError) -> Response:
        # Fail closed (DESIGN.md, rules of the house): a database that cannot be reached, that
        # refuses a connection (too many clients) or drops one mid-request is a 503 the client
        # may retry (RFC 9110 section 15.6.4), never a 500; the request's transaction was not
        # committed. The log names the driver's error class only: no SQL, no parameters.
        # SQLSTATE class 40 (transaction rollback: a deadlock, a serialization failure) is
        # not an outage: the database rolled this request back to let a concurrent one
        # through; said as such, and retryable at once.
        conflict = str(getattr(error.orig, "sqlstate", "") or "").startswith("40")
        detail, retry = (
            (DATABASE_CONFLICT, 1) if conflict else (DATABASE_DOWN, DATABASE_RETRY_SECONDS)
        )
        log.error(
            "database %s: %s", "conflict" if conflict else "unavailable", type(error.orig).__name__
        )
        unavailable = ServiceUnavailable(detail, retry_after=retry)
        if wants_page():
            page = render_template("error.html", title=unavailable.title, detail=detail)
            answer = Response(page, status=503, mimetype="text/html")
            answer.headers["Retry-After"] = str(retry)
            return answer
        return _idgov_error(unavailable)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response:
        status = error.code or 500
        if wants_page():  # e.g. a link with a malformed id: 404 from the URL converters
            page = render_template("error.html", title=error.name, detail=error.description)
            return Response(page, status=status, mimetype="text/html")
        problem: dict[str, object] = {
            "type": PROBLEM_BASE + PROBLEM_TYPES.get(status, "http-error"),
            "title": error.name,
            "status": status,
            "detail": error.description or error.name,
            "instance": request.path,
        }
        response = problem_response(problem, status)
        if status == 405 and error.valid_methods:  # type: ignore[attr-defined]
            response.headers["Allow"] = ", ".join(error.valid_methods)  # type: ignore[attr-defined]
        return response

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        # Never leak internals: the detail is generic, the log has the traceback.
        log.exception("unhandled error", exc_info=error)
        problem: dict[str, object] = {
            "type": PROBLEM_BASE + "internal-error",
            "title": "Internal error",
            "status": 500,
            "detail": "The request could not be completed; it has been logged.",
            "instance": request.path,
        }
        return problem_response(problem, 500)


def wants_page() -> bool:
    """A page (not under /api/) that the client prefers as HTML over problem+json (RFC 9110
    12.5.1 Accept): browsers do; curl, scripts and hosts keep problem+json."""
    if request.path.startswith("/api/"):
        return False
    preferred = request.accept_mimetypes.best_match(["application/problem+json", "text/html"])
    return preferred == "text/html"
