"""Who is calling, for host APIs: bearer tokens (RFC 6750), scopes and source addresses."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import ParamSpec

from flask import Response, g, request
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import SQLAlchemyError

from idgov.audit.context import acting, current_audit_context
from idgov.clients.bearer import client_actor
from idgov.clients.grants import BearerRefused, HostGrant
from idgov.clients.models import HostClient
from idgov.clients.rules import SCOPES
from idgov.db import reading, transaction
from idgov.errors import IdgovError, ServiceUnavailable, Unauthenticated
from idgov.web.context import services
from idgov.web.problems import problem_response

P = ParamSpec("P")
View = Callable[P, ResponseReturnValue]
# RFC 6750 section 2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
BEARER = re.compile(r"Bearer +([A-Za-z0-9\-._~+/]+=*) *", re.IGNORECASE)
CHALLENGE = 'Bearer realm="idgov"'


def scope_required(scope: str) -> Callable[[View[P]], View[P]]:
    """A host API view: needs `Authorization: Bearer <token>` with `scope`, used from an
    address the client is bound to (DEV-1). Refusals are problem+json and audited (ACC-2);
    the audit actor of the request is then the host client. Unknown scopes fail at import."""
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}")

    def decorate(view: View[P]) -> View[P]:
        @functools.wraps(view)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
            grant = _authorize(scope)
            if isinstance(grant, Response):
                return grant
            _act_as(grant)
            return view(*args, **kwargs)

        guarded.__dict__["required_scope"] = scope
        return guarded

    return decorate


def current_client() -> HostClient | None:
    """The host client of this request (a detached row), or None."""
    grant: HostGrant | None = g.get("host_grant")
    return grant.client if grant else None


def calling_client() -> HostClient:
    """For views behind scope_required: the host client, which is always there."""
    client = current_client()
    if client is None:  # scope_required let the request through: never happens
        raise Unauthenticated("a bearer token is required")
    return client


def current_grant() -> HostGrant | None:
    """The host client and the scopes its token carries, or None."""
    grant: HostGrant | None = g.get("host_grant")
    return grant


def _authorize(scope: str) -> HostGrant | Response:
    found = BEARER.fullmatch(request.headers.get("Authorization", ""))
    if found is None:
        # RFC 6750 section 3.1: no credentials at all gets a challenge without an error code;
        # like an anonymous page request, it is not audited.
        return _refuse(Unauthenticated("a bearer token is required"), CHALLENGE)
    built, source = services(), request.remote_addr
    try:
        # A read-only look first: the common case takes no write lock (as web/auth.py does).
        with reading(built.sessions) as session:
            verdict = built.clients.check_bearer(session, found.group(1), scope, source)
        if verdict.grant is not None:
            return verdict.grant
        with transaction(built.sessions) as session:
            built.clients.refuse_bearer(
                session,
                verdict,
                scope=scope,
                operation=request.endpoint or request.path,
                path=request.path,
                method=request.method,
            )
    except BearerRefused as refused:
        return _refuse(refused, refused.challenge)
    except SQLAlchemyError:
        # Fail closed and say why: no token can be trusted without the database.
        return _refuse(ServiceUnavailable("database unreachable: tokens cannot be checked"))
    raise AssertionError("refuse_bearer returned")  # pragma: no cover


def _act_as(grant: HostGrant) -> None:
    """Audit events of the rest of this request name the host client as the actor. The
    token joins web/auth.py's `actor_tokens`, which its teardown resets."""
    g.host_grant = grant
    context = acting(client_actor(grant.client))
    g.setdefault("actor_tokens", []).append(current_audit_context.set(context))


def _refuse(error: IdgovError, challenge: str | None = None) -> Response:
    response = problem_response(error.to_problem(request.path), error.status)
    if challenge:
        response.headers["WWW-Authenticate"] = challenge
    return response
