"""The person's own pages: home, password change and signature certification (TRN-1)."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from idgov.db import reading, transaction
from idgov.errors import IdgovError
from idgov.identity.certification import statement_for
from idgov.web.auth import (
    allowed_before_password_change,
    login_required,
    set_session_cookie,
    signed_in,
)
from idgov.web.context import services
from idgov.web.profile import profile_of
from idgov.web.signin import MAX_PASSWORD, change_password
from idgov.web.ui.home_blocks import home_blocks

bp = Blueprint("account", __name__)


@bp.get("/")
@login_required
def home() -> ResponseReturnValue:
    """The person's profile, and above it what waits for them in each of their roles."""
    identity, web_session = signed_in()
    profile = profile_of(identity, web_session.must_change_password)
    built = services()
    with reading(built.sessions) as session:
        blocks = home_blocks(built, session, identity, set(profile.roles))
        return render_template("home.html", profile=profile, blocks=blocks)


@bp.get("/account/password")
@login_required
@allowed_before_password_change
def password() -> ResponseReturnValue:
    return _password_page(200)


@bp.post("/account/password")
@login_required
@allowed_before_password_change
def change() -> ResponseReturnValue:
    identity, _ = signed_in()
    current = request.form.get("current_password", "")
    new = request.form.get("new_password", "")
    if new != request.form.get("repeat_password", ""):
        return _password_page(422, "The new password and its repetition are not the same.")
    if len(current) > MAX_PASSWORD:
        return _password_page(422, "The current password is not correct.")
    try:
        started = change_password(identity.id, current, new)
    except IdgovError as refused:
        problems = refused.extensions.get("problems")
        return _password_page(
            refused.status,
            refused.detail if not problems else "The new password does not meet the policy:",
            [str(problem) for problem in problems] if isinstance(problems, list) else [],
        )
    flash("Your password has been changed. Any other sessions of yours were signed out.")
    response = redirect(url_for("account.home"))
    set_session_cookie(response, started.token)
    return response


@bp.get("/account/certification")
@login_required
def certification() -> ResponseReturnValue:
    return _certification_page(200)


@bp.post("/account/certification")
@login_required
def certify() -> ResponseReturnValue:
    """TRN-1: the person records that their e-signature binds like a handwritten one."""
    identity, _ = signed_in()
    statement = statement_for(identity.printed_name)
    if request.form.get("statement") != statement:
        return _certification_page(409, "The statement has changed. Please read it again.")
    if request.form.get("acknowledge") != "yes":
        return _certification_page(422, "Tick the box to acknowledge the statement.")
    built = services()
    with transaction(built.sessions) as session:
        person = built.identities.get(session, identity.id)
        if built.identities.is_certified(session, person):
            flash("Your signature certification was already recorded.")
            return redirect(url_for("account.home"))
        built.identities.certify(session, person, statement, "web", request.remote_addr)
    flash("Your signature certification is recorded.")
    return redirect(url_for("account.home"))


def _password_page(
    status: int, error: str | None = None, problems: list[str] | None = None
) -> Response:
    identity, web_session = signed_in()
    directory = services().directories.get(identity.provider)
    page = render_template(
        "password.html",
        must_change=web_session.must_change_password,
        directory=identity.provider if identity.provider != "local" else None,
        changeable=identity.provider == "local"
        or (directory is not None and directory.settings.password_change),
        error=error,
        problems=problems or [],
    )
    return Response(page, status=status, mimetype="text/html")


def _certification_page(status: int, error: str | None = None) -> Response:
    identity, web_session = signed_in()
    profile = profile_of(identity, web_session.must_change_password)
    page = render_template(
        "certification.html",
        statement=statement_for(identity.printed_name),
        certified=profile.certified,
        error=error,
    )
    return Response(page, status=status, mimetype="text/html")
