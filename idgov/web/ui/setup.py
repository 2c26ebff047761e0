"""The set-password page a reset's link opens (CMP-2): no sign-in, the link is the owner's
alone, single use and short-lived; the owner chooses a password that can sign at once."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from idgov.db import transaction
from idgov.errors import IdgovError, NotFound
from idgov.web.auth import csrf_exempt, form_csrf_matches
from idgov.web.context import services
from idgov.web.signin import MAX_PASSWORD

bp = Blueprint("password_setup", __name__)
MAX_TOKEN = 200
EXPIRED_FORM = "This form has expired or did not come from this site. Open your link again."


@bp.get("/account/set-password/<token>")
def form(token: str) -> ResponseReturnValue:
    try:
        with services().sessions() as session:
            person = services().password_setups.open(session, token[:MAX_TOKEN])
            username = person.username
    except NotFound as refused:
        return _page(404, token, None, refused.detail)
    return _page(200, token, username)


@bp.post("/account/set-password/<token>")
@csrf_exempt  # checked here: the session's token, or the pre-session one in the signed cookie
def submit(token: str) -> ResponseReturnValue:
    new = request.form.get("new_password", "")
    if not form_csrf_matches():
        return _page(403, token, None, EXPIRED_FORM)
    if new != request.form.get("repeat_password", ""):
        return _page(422, token, None, "The new password and its repetition are not the same.")
    if len(new) > MAX_PASSWORD:
        return _page(422, token, None, "The new password is too long.")
    try:
        with transaction(services().sessions) as session:
            services().password_setups.complete(session, token[:MAX_TOKEN], new)
    except IdgovError as refused:
        problems = refused.extensions.get("problems")
        return _page(
            refused.status,
            token,
            None,
            refused.detail if not problems else "The new password does not meet the policy:",
            [str(problem) for problem in problems] if isinstance(problems, list) else [],
        )
    flash("Your password is set. Sign in with it.")
    return redirect(url_for("login.form"))


def _page(
    status: int,
    token: str,
    username: str | None,
    error: str | None = None,
    problems: list[str] | None = None,
) -> Response:
    page = render_template(
        "set_password.html",
        token=token[:MAX_TOKEN],
        username=username,
        usable=status != 404,
        error=error,
        problems=problems or [],
    )
    response = Response(page, status=status, mimetype="text/html")
    # The link is a credential: never cached, never sent on as a Referer (RFC 9110 10.1.3).
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
