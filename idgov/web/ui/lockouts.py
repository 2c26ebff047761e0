"""Locked people for security officers (/lockouts): who waits for an unlock, and the unlock
itself with a reason (LOCK-2), through the same service and role as
POST /api/v1/identities/<id>/unlock."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from idgov.db import reading, transaction
from idgov.errors import IdgovError
from idgov.web.auth import me, roles_required
from idgov.web.context import services

bp = Blueprint("lockouts", __name__, url_prefix="/lockouts")
OFFICERS = ("security_officer",)  # as the unlock API
SHOWN = 200


@bp.get("")
@roles_required(*OFFICERS)
def index() -> ResponseReturnValue:
    return _page()


@bp.post("/<id:identity_id>/unlock")
@roles_required(*OFFICERS)
def unlock(identity_id: str) -> ResponseReturnValue:
    """LOCK-2: a security officer unlocks with a reason; the open lockout alerts about the
    person are acknowledged with it (identity/lock_alerts.py)."""
    reason = request.form.get("reason", "")
    built = services()
    try:
        with transaction(built.sessions) as session:
            person = built.identities.get(session, identity_id)
            built.lockout.unlock(session, person, me(session), reason)
            username, status = person.username, person.status.replace("_", " ")
    except IdgovError as refused:
        return _page(identity_id, refused, reason)
    flash(
        f"{username} is unlocked (now {status}), recorded in the audit trail with your "
        f"reason: {reason.strip()}"
    )
    return redirect(url_for("lockouts.index"), code=303)


def _page(
    failed_id: str | None = None, error: IdgovError | None = None, reason: str = ""
) -> Response:
    """The locked people, newest lock first; a refused unlock is shown on its own form."""
    built = services()
    with reading(built.sessions) as session:
        total, people = built.lockout.locked(session, SHOWN)
    page = render_template(
        "alerts/lockouts.html",
        total=total,
        people=people,
        failed_id=failed_id,
        error=error,
        error_field=None if error is None else error.extensions.get("field"),
        reason=reason,
    )
    return Response(page, status=200 if error is None else error.status, mimetype="text/html")
