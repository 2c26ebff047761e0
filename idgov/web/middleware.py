"""Request ids, audit context, security headers and one structured log line per request."""

from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Flask, Response, g, request

from idgov.audit.context import SYSTEM_ACTOR, AuditContext, current_audit_context
from idgov.logs import current_request_id

log = logging.getLogger("idgov.request")
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; base-uri 'none'",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def register_middleware(app: Flask, https: bool) -> None:
    @app.before_request
    def _start() -> None:
        # Our request id is always ours: a client's X-Request-ID could otherwise collide with
        # or impersonate another request in the audit trail (11.10(e)). A well-formed one is
        # kept beside it (audit values, the log line) and echoed as X-Client-Request-ID.
        incoming = request.headers.get("X-Request-ID", "")
        g.client_request_id = incoming if REQUEST_ID.match(incoming) else None
        g.request_id = uuid.uuid4().hex
        g.started = time.perf_counter()
        g.tokens = (
            current_request_id.set(g.request_id),
            current_audit_context.set(
                AuditContext(
                    SYSTEM_ACTOR,
                    g.request_id,
                    request.remote_addr,
                    client_request_id=g.client_request_id,
                )
            ),
        )

    @app.after_request
    def _finish(response: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if https:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if request.path.startswith(("/api/", "/oauth/")):
            response.headers.setdefault("Cache-Control", "no-store")
        request_id = g.get("request_id")
        if request_id:
            response.headers["X-Request-ID"] = request_id
        if g.get("client_request_id"):
            response.headers["X-Client-Request-ID"] = g.client_request_id
        log.info(
            "request",
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - g.get("started", 0.0)) * 1000, 2),
                "remote": request.remote_addr,
                "client_request_id": g.get("client_request_id"),
            },
        )
        return response

    @app.teardown_request
    def _reset(_exc: BaseException | None) -> None:
        tokens = g.pop("tokens", None)
        if tokens:
            current_request_id.reset(tokens[0])
            current_audit_context.reset(tokens[1])
