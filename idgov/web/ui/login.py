"""Login and logout pages (ACC-1): one message for any wrong credentials, CSRF on the form."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from idgov.errors import (
    HashingBusy,
    InvalidCredentials,
    Locked,
    NotEligible,
    ProviderUnavailable,
)
from idgov.web.auth import (
    clear_session_cookie,
    csrf_exempt,
    current_identity,
    forget_login_csrf,
    login_csrf_matches,
    set_session_cookie,
)
from idgov.web.context import services
from idgov.web.signin import MAX_PASSWORD, MAX_USERNAME, sign_in, sign_out

bp = Blueprint("login", __name__)
EXPIRED_FORM = "This sign-in form has expired or did not come from this site. Please sign in again."
MAX_NEXT = 2000


@bp.get("/login")
def form() -> ResponseReturnValue:
    if current_identity() is not None:
        return redirect(url_for("account.home"))
    return login_page(200, safe_next(request.args.get("next")))


@bp.post("/login")
@csrf_exempt  # checked here against the pre-session token in the signed cookie
def submit() -> ResponseReturnValue:
    next_url = safe_next(request.form.get("next"))
    username = request.form.get("username", "")
    password = request.form.get("password", "")
    if not login_csrf_matches():
        return login_page(403, next_url, username, EXPIRED_FORM)
    if len(username) > MAX_USERNAME:
        return login_page(
            422, next_url, "", f"The username is longer than {MAX_USERNAME} characters."
        )
    if len(password) > MAX_PASSWORD:
        return login_page(422, next_url, username, "The password is too long.")
    try:
        signed = sign_in(username, password)
    except Locked as refused:
        return login_page(423, next_url, username, refused.detail)
    except InvalidCredentials as refused:
        # LOCK-3: the same words and status for a wrong password and an unknown username.
        return login_page(401, next_url, username, refused.detail)
    except (NotEligible, ProviderUnavailable, HashingBusy) as refused:
        # The identity source's own refusal (an expired or disabled directory account, a
        # directory that cannot be reached), or every password-hash slot busy, in words.
        page = login_page(refused.status, next_url, username, refused.detail)
        if refused.retry_after is not None:
            page.headers["Retry-After"] = str(refused.retry_after)
        return page
    forget_login_csrf()
    # CMP-2: a temporary or expired password is changed before anything else.
    target = url_for("account.password") if signed.must_change_password else next_url
    response = redirect(target)
    set_session_cookie(response, signed.started.token)
    return response


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """Ends the session (the CSRF token is checked before any view runs)."""
    if sign_out():
        flash("You are signed out.")
    response = redirect(url_for("login.form"))
    clear_session_cookie(response)
    return response


def safe_next(candidate: str | None) -> str:
    """Only a path on this site: never another host (no open redirect)."""
    home = url_for("account.home")
    if not candidate or len(candidate) > MAX_NEXT:
        return home
    if not candidate.startswith("/") or candidate.startswith("//") or "\\" in candidate:
        return home
    if any(ord(char) < 32 for char in candidate):
        return home
    if candidate.split("?", 1)[0] in (url_for("login.form"), url_for("login.logout")):
        return home
    return candidate


def login_page(
    status: int, next_url: str, username: str = "", error: str | None = None
) -> Response:
    """The sign-in page: the password form, and "Sign in with NAME" for each OpenID provider."""
    page = render_template(
        "login.html",
        next_url=next_url,
        username=username,
        error=error,
        providers=services().oidc.names(),
    )
    return Response(page, status=status, mimetype="text/html")
