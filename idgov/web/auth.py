"""Who is asking: the session cookie for people, CSRF checks, login_required, roles_required."""

from __future__ import annotations

import functools
import hmac
import secrets
from collections.abc import Callable
from typing import Any, ParamSpec

from flask import Flask, Response, current_app, g, redirect, render_template, request, url_for
from flask import session as signed_cookie
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as BaseResponse

from idgov.audit.context import Actor, acting, current_audit_context
from idgov.db import reading, transaction
from idgov.errors import Forbidden, IdgovError, ServiceUnavailable, Unauthenticated
from idgov.identity.access import AccessRefused
from idgov.identity.models import Identity, IdentityStatus, Role
from idgov.sessions.models import WebSession
from idgov.web.context import services
from idgov.web.problems import problem_response

P = ParamSpec("P")
View = Callable[P, ResponseReturnValue]
COOKIE = "idgov_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
LOGIN_CSRF_KEY = "login_csrf"
PERSON_AUTH = "person_auth"  # marks views behind login_required or roles_required
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
SIGNED_IN_STATES = (IdentityStatus.ACTIVE, IdentityStatus.PENDING_VERIFICATION)
PRIVATE_ENDPOINTS = frozenset(
    {
        "login.form",
        "login.submit",
        "login.logout",
        "ceremony.page",
        "ceremony.sign",
        "ceremony.decline",
        "oidc.login",
        "oidc.sign",
        "oidc.callback",
    }
)


def register_auth(app: Flask) -> None:
    """Resolve the session cookie before every request; refuse unsafe requests made with the
    cookie but without the session's CSRF token (ACC-1)."""

    @app.before_request
    def _authenticate() -> ResponseReturnValue | None:
        g.identity, g.web_session = None, None
        if request.endpoint == "static":
            return None
        token = request.cookies.get(COOKIE)
        try:
            found = _resolve(token) if token else None
        except SQLAlchemyError:
            # Fail closed and say why: no session can be trusted without the database.
            return refuse(ServiceUnavailable("database unreachable: sessions cannot be checked"))
        if found is not None:
            g.web_session, g.identity = found
            act_as(g.identity)
        view = app.view_functions.get(request.endpoint or "")
        exempt = getattr(view, "csrf_exempt", False)
        checked = request.method in UNSAFE_METHODS and g.web_session is not None and not exempt
        if checked and not _csrf_matches(g.web_session.csrf_token):
            return refuse(Forbidden("the CSRF token is missing or does not match", reason="csrf"))
        return None

    @app.after_request
    def _private(response: BaseResponse) -> BaseResponse:
        # A person's pages are never cached: the back button after logout shows nothing.
        if current_identity() is not None or request.endpoint in PRIVATE_ENDPOINTS:
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.teardown_request
    def _forget(_exc: BaseException | None) -> None:
        for token in reversed(g.pop("actor_tokens", [])):
            current_audit_context.reset(token)

    @app.context_processor
    def _template_globals() -> dict[str, Any]:
        return {
            "current_identity": current_identity(),
            "current_roles": current_roles,
            "csrf_token": page_csrf_token,
        }


def current_roles() -> set[str]:
    """The signed-in person's roles (read when a page asks, e.g. for its navigation)."""
    identity = current_identity()
    if identity is None:
        return set()
    if "roles" not in g:  # read once per request: the role check, the navigation, templates
        built = services()
        with reading(built.sessions) as session:
            g.roles = built.identities.roles(session, identity.id)
    roles: set[str] = g.roles
    return roles


def current_identity() -> Identity | None:
    """The signed-in person of this request (a detached row), or None."""
    identity: Identity | None = g.get("identity")
    return identity


def current_web_session() -> WebSession | None:
    found: WebSession | None = g.get("web_session")
    return found


def signed_in() -> tuple[Identity, WebSession]:
    """For views behind login_required: the person and their session."""
    identity, web_session = current_identity(), current_web_session()
    assert identity is not None
    assert web_session is not None
    return identity, web_session


def me(session: Session) -> Identity:
    """The signed-in person loaded in `session`, for services that change or record them."""
    return services().identities.get(session, signed_in()[0].id)


def act_as(identity: Identity) -> None:
    """Audit events of the rest of this request name the person as the actor (AUD-1)."""
    actor = Actor("identity", identity.id, identity.printed_name)
    token = current_audit_context.set(acting(actor))
    g.setdefault("actor_tokens", []).append(token)


def csrf_exempt(view: View[P]) -> View[P]:
    """Login endpoints: the form has its own pre-session token; JSON needs a JSON body, which a
    cross-site form cannot send."""
    view.__dict__["csrf_exempt"] = True
    return view


def allowed_before_password_change(view: View[P]) -> View[P]:
    """Put under login_required: reachable while the password must still be changed."""
    view.__dict__["before_password_change"] = True
    return view


def login_required(view: View[P]) -> View[P]:
    """Anonymous: 401 problem for the API, a redirect to /login for pages (ACC-1)."""
    allowed = bool(view.__dict__.get("before_password_change"))

    @functools.wraps(view)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
        refusal = _gate(allowed)
        return refusal if refusal is not None else view(*args, **kwargs)

    guarded.__dict__[PERSON_AUTH] = True  # the OpenAPI document names the session cookie
    return guarded


def roles_required(*roles: str) -> Callable[[View[P]], View[P]]:
    """Signed in and holding one of `roles`, or 403 with an `access:...:refused` audit event
    (ACC-2). Unknown role names fail when the module is imported."""
    wanted = tuple(Role(role).value for role in roles)
    if not wanted:
        raise ValueError("roles_required needs at least one role")

    def decorate(view: View[P]) -> View[P]:
        @functools.wraps(view)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
            refusal = _gate(allowed=False)
            if refusal is not None:
                return refusal
            refusal = _check_roles(signed_in()[0], wanted)
            return refusal if refusal is not None else view(*args, **kwargs)

        guarded.__dict__[PERSON_AUTH] = True
        return guarded

    return decorate


def refuse(error: IdgovError) -> Response:
    """problem+json for the API; a plain error page for people."""
    if wants_json():
        return problem_response(error.to_problem(request.path), error.status)
    page = render_template("error.html", title=error.title, detail=error.detail)
    return Response(page, status=error.status, mimetype="text/html")


def wants_json() -> bool:
    return request.path.startswith("/api/")


def set_session_cookie(response: BaseResponse, token: str) -> None:
    # HttpOnly: no script reads it; SameSite=Lax: not sent on cross-site POSTs; Secure over
    # https. No max-age: it ends with the browser, and the server enforces ACC-3 regardless.
    response.set_cookie(
        COOKIE,
        token,
        httponly=True,
        samesite="Lax",
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
        path="/",
    )


def clear_session_cookie(response: BaseResponse) -> None:
    response.delete_cookie(
        COOKIE,
        path="/",
        httponly=True,
        samesite="Lax",
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
    )


def page_csrf_token() -> str:
    """The token forms carry: the session's, or before login a token in the signed cookie."""
    web_session = current_web_session()
    if web_session is not None:
        return web_session.csrf_token
    token = signed_cookie.get(LOGIN_CSRF_KEY)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        signed_cookie[LOGIN_CSRF_KEY] = token
    return token


def login_csrf_matches() -> bool:
    """The login form's token against the one in the signed pre-session cookie."""
    expected = signed_cookie.get(LOGIN_CSRF_KEY)
    return isinstance(expected, str) and _csrf_matches(expected)


def form_csrf_matches() -> bool:
    """For a page open to people signed in or not (the signing ceremony): the form's token
    against the session's, or before login against the signed pre-session cookie's."""
    web_session = current_web_session()
    if web_session is not None:
        return _csrf_matches(web_session.csrf_token)
    return login_csrf_matches()


def forget_login_csrf() -> None:
    signed_cookie.pop(LOGIN_CSRF_KEY, None)


def _csrf_matches(expected: str) -> bool:
    supplied = request.headers.get(CSRF_HEADER)
    if supplied is None and request.mimetype in FORM_TYPES:
        supplied = request.form.get(CSRF_FIELD)
    if not supplied or not expected:
        return False
    return hmac.compare_digest(supplied.encode("utf-8"), expected.encode("utf-8"))


def _gate(allowed: bool) -> BaseResponse | None:
    identity, web_session = current_identity(), current_web_session()
    if identity is None or web_session is None:
        if wants_json():
            return refuse(Unauthenticated("sign in first: this needs an authenticated identity"))
        return redirect(url_for("login.form", next=_here()))
    if web_session.must_change_password and not allowed:
        if wants_json():
            return refuse(
                Forbidden("the password must be changed first", reason="password-change-required")
            )
        return redirect(url_for("account.password"))
    return None


def _check_roles(identity: Identity, wanted: tuple[str, ...]) -> Response | None:
    if current_roles() & set(wanted):
        return None  # the common case takes no write lock
    built = services()
    try:
        with transaction(built.sessions) as session:
            built.access.require_roles(  # checks again, and records the refusal (ACC-2)
                session,
                identity,
                wanted,
                operation=request.endpoint or request.path,
                path=request.path,
                method=request.method,
            )
    except AccessRefused as refused:
        return refuse(refused)
    return None


def _here() -> str:
    query = request.query_string.decode("utf-8", "replace")
    return f"{request.path}?{query}" if query else request.path


def _resolve(token: str) -> tuple[WebSession, Identity] | None:
    """A read-only look first; a write transaction only when the session must be touched or
    expired, so most requests never take a write lock."""
    built = services()
    with reading(built.sessions) as session:
        found = built.web_sessions.check(session, token)
        row = found.row
        identity = built.identities.get(session, row.identity_id) if row else None
    if found.verdict in ("touch", "idle", "expired"):
        with transaction(built.sessions) as session:
            row = built.web_sessions.resolve(session, token)
            identity = built.identities.get(session, row.identity_id) if row else None
    if row is None or identity is None or identity.status not in SIGNED_IN_STATES:
        return None  # fail closed, even if a revocation was somehow missed
    return row, identity
