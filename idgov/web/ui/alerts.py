"""Alerts for security officers (/alerts): the open queue, one alert with its deliveries,
acknowledge with a note, re-notify, and the attack view (ALERT-1, LOCK-3).

The same roles as the alerts API (web/api/alerts.py): security officers and auditors read,
only security officers act; the service checks again and refuses an officer an alert about
themself (ACC-2), which the form shows.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from idgov.alerts.delivery import shown_recipient
from idgov.alerts.services import MAX_NOTE, STATUSES, AlertStatus
from idgov.audit.browse import pretty
from idgov.clock import iso_utc
from idgov.db import reading, transaction
from idgov.errors import IdgovError, InvalidRequest
from idgov.identity.models import Role
from idgov.web.auth import me, refuse, roles_required, signed_in
from idgov.web.context import services

bp = Blueprint("alert_pages", __name__, url_prefix="/alerts")
READERS = ("security_officer", "auditor")  # as GET /api/v1/alerts
OFFICERS = ("security_officer",)  # as POST /api/v1/alerts/<id>/acknowledgement
QUEUE_SIZE = 200
FORMS = ("acknowledge", "renotify")


@bp.get("")
@roles_required(*READERS)
def queue() -> ResponseReturnValue:
    """Open alerts most urgent first, then newest (?status=acknowledged|all: newest first)."""
    status = request.args.get("status", "open")
    built = services()
    with reading(built.sessions) as session:
        try:
            listings = built.alert_service.list(
                session, _status(status), QUEUE_SIZE, urgent_first=status == "open"
            )
        except IdgovError as refused:
            return refuse(refused)
        return render_template(
            "alerts/queue.html", listings=listings, status=status, statuses=STATUSES
        )


@bp.get("/<id:alert_id>")
@roles_required(*READERS)
def alert(alert_id: str) -> ResponseReturnValue:
    return _alert_page(alert_id)


@bp.post("/<id:alert_id>/acknowledge")
@roles_required(*OFFICERS)
def acknowledge(alert_id: str) -> ResponseReturnValue:
    """ALERT-1: acknowledged with a note, audited; re-notification stops."""
    note = request.form.get("note", "")
    built = services()
    try:
        with transaction(built.sessions) as session:
            done = built.alert_service.acknowledge(session, alert_id, me(session), note)
            when = iso_utc(done.acknowledged_at) if done.acknowledged_at else ""
    except IdgovError as refused:
        return _alert_page(alert_id, "acknowledge", refused, request.form)
    flash(f"Acknowledged at {when}, recorded in the audit trail with your note: {note.strip()}")
    return redirect(url_for("alert_pages.alert", alert_id=alert_id), code=303)


@bp.post("/<id:alert_id>/renotify")
@roles_required(*OFFICERS)
def renotify(alert_id: str) -> ResponseReturnValue:
    """ALERT-1: every recipient is told again now, with a reason, audited."""
    reason = request.form.get("reason", "")
    built = services()
    try:
        with transaction(built.sessions) as session:
            done = built.alert_service.renotify(session, alert_id, me(session), reason)
            round_ = done.notify_round
    except IdgovError as refused:
        return _alert_page(alert_id, "renotify", refused, request.form)
    flash(
        f"Notification {round_} queued for every recipient, recorded in the audit trail "
        f"with your reason: {reason.strip()}"
    )
    return redirect(url_for("alert_pages.alert", alert_id=alert_id), code=303)


@bp.get("/attacks")
@roles_required(*READERS)
def attacks() -> ResponseReturnValue:
    """LOCK-3: failures by source address and by unknown username (pseudonyms), and the
    anonymous refusals' windows, over the last `hours`."""
    text = request.args.get("hours", "24").strip()
    built = services()
    with reading(built.sessions) as session:
        try:
            if not text.isascii() or not text.isdigit() or len(text) > 4:
                raise InvalidRequest("hours is a whole number of hours", field="hours")
            view = built.attack_reader.view(session, int(text))
        except IdgovError as refused:
            page = render_template(
                "alerts/attacks.html", view=None, hours=text, error=refused, error_field="hours"
            )
            return Response(page, status=refused.status, mimetype="text/html")
        return render_template("alerts/attacks.html", view=view, hours=text, error=None)


def _status(text: str) -> AlertStatus:
    if text not in STATUSES:
        raise InvalidRequest(f"status must be one of {', '.join(STATUSES)}", field="status")
    return text  # type: ignore[return-value]  # one of STATUSES, the Literal's values


def _alert_page(
    alert_id: str,
    form_name: str | None = None,
    error: IdgovError | None = None,
    form: Mapping[str, str] | None = None,
) -> Response:
    """The alert, its deliveries per recipient and channel, and the officer's forms; a
    refusal is shown on the form it came from, on the field it names."""
    built, signed = services(), signed_in()[0]
    with reading(built.sessions) as session:
        try:
            listing = built.alert_service.listing(session, alert_id)
            deliveries = built.alert_service.deliveries(session, alert_id)
        except IdgovError as refused:
            return refuse(refused)
        officer = Role.SECURITY_OFFICER.value in built.identities.roles(session, signed.id)
    page = render_template(
        "alerts/alert.html",
        listing=listing,
        a=listing.alert,
        details=pretty(listing.alert.details),
        deliveries=[(d, shown_recipient(d.channel, d.recipient)) for d in deliveries],
        officer=officer,
        about_me=listing.alert.identity_id == signed.id,
        form_name=form_name,
        error=error,
        error_field=None if error is None else error.extensions.get("field"),
        form=dict(form or {}),
        max_note=MAX_NOTE,
    )
    return Response(page, status=200 if error is None else error.status, mimetype="text/html")
