"""The signing ceremony page: the person sees what they sign, re-authenticates and signs here,
so the host never handles their password (11.200(a), 11.300); or declines."""

from __future__ import annotations

from flask import Blueprint, Response, make_response, redirect, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import SQLAlchemyError

from idgov.db import transaction
from idgov.errors import IdgovError, NotFound, ServiceUnavailable
from idgov.identity.models import Identity
from idgov.signatures.ceremony.credentials import Credentials
from idgov.signatures.ceremony.endings import Ending
from idgov.web.auth import csrf_exempt, current_identity, form_csrf_matches, refuse
from idgov.web.context import services
from idgov.web.signin import MAX_PASSWORD, MAX_USERNAME

bp = Blueprint("ceremony", __name__)
EXPIRED_FORM = "This form has expired or did not come from this site. Please try again."
DATABASE_DOWN = "idgov cannot reach its database right now: nothing was signed. Try again shortly."
NEEDS_OTP = frozenset({"otp-required", "otp-invalid"})
NEEDS_TEMPORARY = frozenset({"temporary-credential-required", "temporary-credential-invalid"})


@bp.get("/sign/<id:request_id>")
def page(request_id: str) -> ResponseReturnValue:
    return page_with(request_id, 200)


@bp.post("/sign/<id:request_id>")
@csrf_exempt  # checked below: the page serves people who are signed in and people who are not
def sign(request_id: str) -> ResponseReturnValue:
    if not form_csrf_matches():
        return page_with(request_id, 403, EXPIRED_FORM)
    form = request.form
    username, password = form.get("username", ""), form.get("password", "")
    if len(username) > MAX_USERNAME or len(password) > MAX_PASSWORD:
        return page_with(request_id, 422, "The username or password is too long.")
    credentials = Credentials(
        username, password, form.get("otp") or None, form.get("temporary_credential") or None
    )
    try:
        ending = services().ceremonies.complete(request_id, credentials, request.remote_addr)
    except NotFound as unknown:
        return refuse(unknown)
    except IdgovError as refused:
        # Wrong credentials (counted toward the lockout), another signer, a missing code, an
        # unreachable database: the request stays open and nothing was signed.
        reason = refused.extensions.get("reason")
        page = make_response(
            page_with(
                request_id,
                refused.status,
                refused.detail,
                username=username,
                otp=reason in NEEDS_OTP,
                temporary=reason in NEEDS_TEMPORARY,
            )
        )
        if refused.retry_after is not None:  # every hash slot busy: RFC 9110 10.2.3
            page.headers["Retry-After"] = str(refused.retry_after)
        return page
    except SQLAlchemyError:
        return page_with(request_id, 503, DATABASE_DOWN)
    return leave(ending)


def csrf_ok() -> bool:
    return form_csrf_matches()


def signer_of(request_id: str, signed_in: Identity | None) -> Identity | None:
    """Who signs this request, as its page decides (the named signer, or who is signed in)."""
    built = services()
    with transaction(built.sessions) as session:
        row = built.ceremonies.for_page(session, request_id)
        return built.ceremony_pages.signer(session, row, signed_in)


@bp.post("/sign/<id:request_id>/decline")
@csrf_exempt  # checked below, as for signing
def decline(request_id: str) -> ResponseReturnValue:
    if not form_csrf_matches():
        return page_with(request_id, 403, EXPIRED_FORM)
    try:
        ending = services().ceremonies.decline(request_id)
    except NotFound as unknown:
        return refuse(unknown)
    except SQLAlchemyError:
        return refuse(ServiceUnavailable(DATABASE_DOWN))
    return leave(ending)


def leave(ending: Ending) -> ResponseReturnValue:
    """Signed or declined: straight back to the host. Failed or expired: the page says why,
    then the browser goes back to the host."""
    if ending.status in {"completed", "declined"}:
        return redirect(ending.redirect, code=303)
    return _ended(ending, 200)


def _ended(ending: Ending, status: int) -> ResponseReturnValue:
    return render_template("signatures/ceremony_end.html", ending=ending), status


def page_with(
    request_id: str,
    status: int,
    error: str | None = None,
    *,
    username: str | None = None,
    otp: bool = False,
    temporary: bool = False,
) -> ResponseReturnValue:
    built = services()
    try:
        with transaction(built.sessions) as session:
            row = built.ceremonies.for_page(session, request_id)
            shown = built.ceremony_pages.build(session, row, current_identity())
    except NotFound as unknown:
        return refuse(unknown)
    except SQLAlchemyError:
        return refuse(ServiceUnavailable(DATABASE_DOWN))
    if shown.status != "pending":
        return _ended(built.ceremonies.ending_of(row), 409 if error else 200)
    body = render_template(
        "signatures/ceremony.html",
        page=shown,
        error=error,
        username=shown.username if shown.username_fixed else (username or shown.username or ""),
        needs_otp=shown.needs_otp or otp,
        needs_temporary=shown.needs_temporary or temporary,
        oidc_providers=built.oidc.names(),
    )
    return Response(body, status=status, mimetype="text/html")
