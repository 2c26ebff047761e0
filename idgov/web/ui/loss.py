"""The owner's loss report page: report a lost token, card or password at once (LOSS-1)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from idgov.db import transaction
from idgov.errors import IdgovError
from idgov.tokens.loss.rules import CREDENTIALS, KINDS, LIVE_TOKEN
from idgov.tokens.models import OtpToken
from idgov.web.auth import allowed_before_password_change, login_required, signed_in
from idgov.web.context import services

bp = Blueprint("loss", __name__)


@bp.get("/account/loss-report")
@login_required
@allowed_before_password_change
def form() -> ResponseReturnValue:
    return _page(200)


@bp.post("/account/loss-report")
@login_required
@allowed_before_password_change
def report() -> ResponseReturnValue:
    """Deauthorizes in the same transaction; the report also ends this very session, so the
    person lands on the login page with the case number."""
    built, me = services(), signed_in()[0]
    token_id = request.form.get("token_id") or None
    try:
        with transaction(built.sessions) as session:
            owner = built.identities.get(session, me.id)
            case = built.loss.report(
                session,
                owner,
                owner,
                request.form.get("credential", ""),
                request.form.get("kind", ""),
                token_id=token_id,
                description=request.form.get("description") or None,
            )
    except IdgovError as refused:
        return _page(refused.status, error=refused.detail)
    flash(
        f"Reported (case {case.id}). The credential was disabled at once, security and your "
        "manager were told, and you were signed out everywhere. Security will contact you "
        "to verify your identity before a replacement."
    )
    return redirect(url_for("login.form"))


def _page(status: int, error: str | None = None) -> ResponseReturnValue:
    me = signed_in()[0]
    with services().sessions() as session:
        tokens = session.scalars(
            select(OtpToken).where(OtpToken.identity_id == me.id, OtpToken.status.in_(LIVE_TOKEN))
        ).all()
    page = render_template(
        "loss_report.html", credentials=CREDENTIALS, kinds=KINDS, tokens=tokens, error=error
    )
    return page, status
