"""The person's token pages: list, enroll with a QR code, complete, periodic test (TOK-1)."""

from __future__ import annotations

import re

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from markupsafe import Markup

from idgov.db import transaction
from idgov.errors import IdgovError, NotFound
from idgov.tokens.models import OtpToken
from idgov.tokens.services import MAX_LABEL, CodeRefused, Enrollment, overdue
from idgov.web.auth import login_required, refuse, signed_in
from idgov.web.context import services

bp = Blueprint("tokens", __name__)
CODE = re.compile(r"^[0-9]{6,8}$")
BAD_CODE = "Enter the 6-digit code your authenticator app shows now."


@bp.get("/account/tokens")
@login_required
def index() -> ResponseReturnValue:
    return _page(200)


@bp.post("/account/tokens")
@login_required
def begin() -> ResponseReturnValue:
    label = request.form.get("label", "")
    if not label.strip() or len(label) > MAX_LABEL:
        return _page(422, error=f"Give the token a name of 1 to {MAX_LABEL} characters.")
    built = services()
    try:
        with transaction(built.sessions) as session:
            enrollment = built.tokens.begin_enrollment(session, signed_in()[0], label)
    except IdgovError as refused:
        return _page(refused.status, error=refused.detail)
    return _page(201, enrollment=enrollment)


@bp.post("/account/tokens/<id:token_id>/activation")
@login_required
def activate(token_id: str) -> ResponseReturnValue:
    code = request.form.get("code", "").strip()
    if not CODE.match(code):
        return _page(422, error=BAD_CODE, pending=token_id)
    built = services()
    try:
        with transaction(built.sessions) as session:
            token = built.tokens.complete_enrollment(session, signed_in()[0], token_id, code)
    except CodeRefused as refused:
        return _page(422, error=refused.detail, pending=token_id)
    except IdgovError as refused:
        return refuse(refused)
    flash(f"Token {token.label} ({token.serial}) is active.")
    return redirect(url_for("tokens.index"))


@bp.get("/account/tokens/<id:token_id>/test")
@login_required
def test_form(token_id: str) -> ResponseReturnValue:
    token = _own(token_id)
    if token is None:
        return refuse(NotFound("no such token of yours"))
    return _test_page(token, 200)


@bp.post("/account/tokens/<id:token_id>/test")
@login_required
def run_test(token_id: str) -> ResponseReturnValue:
    token = _own(token_id)
    if token is None:
        return refuse(NotFound("no such token of yours"))
    code = request.form.get("code", "").strip()
    if not CODE.match(code):
        return _test_page(token, 422, BAD_CODE)
    built = services()
    try:
        with transaction(built.sessions) as session:
            done = built.tokens.test(session, signed_in()[0], token_id, code)
    except IdgovError as refused:
        return _test_page(token, refused.status, refused.detail)
    if done.result == "pass":
        flash(f"Token {token.label} passed its test. The next test is due later.")
        return redirect(url_for("tokens.index"))
    if done.suspended:
        message = "The code was not right again: the token is suspended and security is told."
    else:
        message = "The code was not right. The failed test is recorded; try the current code."
    return _test_page(done.token, 422, message)


def _own(token_id: str) -> OtpToken | None:
    built = services()
    with built.sessions() as session:
        token = session.get(OtpToken, token_id)
    return token if token is not None and token.identity_id == signed_in()[0].id else None


def _page(
    status: int,
    *,
    error: str | None = None,
    enrollment: Enrollment | None = None,
    pending: str | None = None,
) -> Response:
    built = services()
    with built.sessions() as session:
        tokens = built.tokens.list_tokens(session, signed_in()[0])
    page = render_template(
        "tokens.html",
        tokens=tokens,
        now=built.clock.now(),
        overdue=overdue,
        error=error,
        enrollment=enrollment,
        # segno's SVG of our own otpauth URI: no text from the request reaches it unescaped.
        qr=Markup(enrollment.qr_svg) if enrollment else None,  # noqa: S704
        pending=pending or (enrollment.token.id if enrollment else None),
    )
    return Response(page, status=status, mimetype="text/html")


def _test_page(token: OtpToken, status: int, error: str | None = None) -> Response:
    page = render_template("token_test.html", token=token, error=error)
    return Response(page, status=status, mimetype="text/html")
