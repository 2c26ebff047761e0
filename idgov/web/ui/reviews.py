"""Reviewer pages (/reviews): my campaigns, the inbox, decisions, the signed sign-off (REV-3)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    flash,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask.typing import ResponseReturnValue

from idgov.counted import counted
from idgov.db import reading, transaction
from idgov.errors import IdgovError, NotFound
from idgov.ids import row_id
from idgov.policies.documents import SigningPolicy
from idgov.reviews.decisions.services import MAX_BULK
from idgov.reviews.decisions.signoff import Credentials
from idgov.reviews.queries.views import InboxFilter
from idgov.web.auth import login_required, refuse, signed_in
from idgov.web.context import services
from idgov.web.signin import MAX_PASSWORD

ASSETS = Path(__file__).resolve().parents[2] / "templates" / "reviews" / "assets"
ASSET_TYPES = {"reviews.css": "text/css", "inbox.js": "text/javascript"}
bp = Blueprint("reviews", __name__, url_prefix="/reviews")
CODE = re.compile(r"^[0-9]{6,8}$")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # tab and line breaks are fine
MAX_TEMPORARY = 64
DONE = {"certify": "certified", "revoke": "revoked"}


@bp.get("")
@login_required
def index() -> ResponseReturnValue:
    built, me = services(), signed_in()[0]
    with reading(built.sessions) as session:
        campaigns = built.review_reader.my_campaigns(session, me.id, built.clock.now())
    return render_template("reviews/index.html", campaigns=campaigns)


@bp.get("/assets/<name>")
@login_required
def asset(name: str) -> ResponseReturnValue:
    """The review pages' stylesheet and "select all" script: files, since the CSP (default-src
    'self') refuses inline ones."""
    if name not in ASSET_TYPES:
        return refuse(NotFound("no such file"))
    return send_from_directory(ASSETS, name, mimetype=ASSET_TYPES[name])


@bp.get("/<id:campaign_id>")
@login_required
def inbox(campaign_id: str) -> ResponseReturnValue:
    try:
        view = filters_of(request.args)
    except IdgovError as refused:
        return refuse(refused)
    return _inbox_page(campaign_id, view, 200)


@bp.post("/<id:campaign_id>/decisions")
@login_required
def decide(campaign_id: str) -> ResponseReturnValue:
    """Certify or revoke the checked items (or the one whose button was pressed), all or none."""
    try:
        view = filters_of(request.form)
    except IdgovError:
        view = InboxFilter()
    justification = request.form.get("justification", "")
    one = request.form.get("one", "")
    if one:
        decision, _, raw = one.partition(":")
        ids = item_ids([raw])
    else:
        decision, ids = request.form.get("decision", ""), item_ids(request.form.getlist("item"))
    problem = None
    if ids is None:
        problem = f"The items chosen are not valid (at most {MAX_BULK} at once)."
    elif not ids:
        problem = "Check at least one item, or use the buttons of a single item."
    elif CONTROL.search(justification):
        problem = "The justification must be plain text: no control characters."
    if problem is not None:
        return _inbox_page(campaign_id, view, 422, problem, ids or [], justification)
    assert ids is not None
    built, me = services(), signed_in()[0]
    try:
        with transaction(built.sessions) as session:
            count = built.decisions.decide_in_campaign(
                session, campaign_id, me.id, ids, decision, one_line(justification)
            )
    except IdgovError as refused:
        message = f"Nothing was changed: {refused.detail}."
        return _inbox_page(campaign_id, view, refused.status, message, ids, justification)
    flash(f"{counted(count, 'item')} {DONE[decision]}.")
    return redirect(url_for("reviews.inbox", campaign_id=campaign_id, **view.query()))


@bp.get("/<id:campaign_id>/signoff")
@login_required
def signoff(campaign_id: str) -> ResponseReturnValue:
    return _signoff_page(campaign_id, 200)


@bp.post("/<id:campaign_id>/signoff")
@login_required
def sign(campaign_id: str) -> ResponseReturnValue:
    """REV-3: the reviewer signs exactly the decisions the page showed (meaning: review)."""
    password = request.form.get("password", "")
    otp = request.form.get("otp", "").strip()
    temporary = request.form.get("temporary_credential", "").strip()
    if not password or len(password) > MAX_PASSWORD:
        return _signoff_page(campaign_id, 422, "Enter your password to sign.")
    if otp and not CODE.match(otp):
        return _signoff_page(campaign_id, 422, "Enter the 6-digit code your token shows now.")
    if len(temporary) > MAX_TEMPORARY or CONTROL.search(temporary):
        return _signoff_page(campaign_id, 422, "The temporary credential is not valid.")
    built, me = services(), signed_in()[0]
    try:
        with reading(built.sessions) as session:
            preview = built.review_reader.signoff_preview(session, campaign_id, me.id)
    except IdgovError as refused:
        return refuse(refused)
    if preview.digest is None or request.form.get("digest") != preview.digest:
        return _signoff_page(
            campaign_id,
            409,
            "Your decisions changed since this page was shown: check them below and sign again.",
        )
    try:
        signed = built.signoffs.sign_off(
            campaign_id,
            me.id,
            Credentials(password, otp or None, temporary or None),
            request.remote_addr,
        )
    except IdgovError as refused:
        return _signoff_page(campaign_id, refused.status, refused.detail)
    flash(f"Your review is signed: {counted(signed.item_count, 'decision')}.")
    target = url_for("reviews.signoff", campaign_id=campaign_id, _anchor=f"signoff-{signed.id}")
    return redirect(target)


def filters_of(values: Mapping[str, str]) -> InboxFilter:
    """The inbox view from query or form fields; InvalidRequest names a bad one."""
    return InboxFilter(
        group=values.get("group") or "person",
        status=values.get("status") or "all",
        flagged=values.get("flagged") in ("1", "on", "yes"),
        source=values.get("source", ""),
        q=values.get("q", ""),
    )


def item_ids(raw: Iterable[str]) -> list[int] | None:
    """Item ids from form values, or None when any is not a plausible id."""
    found = []
    for value in raw:
        number = row_id(value)
        if not number:  # None, or 0: no row has it
            return None
        found.append(number)
    return found if len(found) <= MAX_BULK else None


def _inbox_page(
    campaign_id: str,
    view: InboxFilter,
    status: int,
    error: str | None = None,
    checked: Iterable[int] = (),
    justification: str = "",
) -> Response:
    built, me = services(), signed_in()[0]
    try:
        with reading(built.sessions) as session:
            found = built.review_reader.inbox(session, campaign_id, me.id, view, built.clock.now())
    except IdgovError as refused:
        return refuse(refused)
    page = render_template(
        "reviews/inbox.html",
        inbox=found,
        campaign=found.campaign,
        error=error,
        checked=set(checked),
        justification=justification,
    )
    return Response(page, status=status, mimetype="text/html")


def _signoff_page(campaign_id: str, status: int, error: str | None = None) -> Response:
    built, me = services(), signed_in()[0]
    try:
        with reading(built.sessions) as session:
            preview = built.review_reader.signoff_preview(session, campaign_id, me.id)
            needs_otp, needs_temporary = built.review_reader.signing_inputs(session, me.id)
            meanings = built.policies.current(session, SigningPolicy).meanings
    except IdgovError as refused:
        return refuse(refused)
    statement = next((m.statement for m in meanings if m.code == "review"), "")
    page = render_template(
        "reviews/signoff.html",
        preview=preview,
        campaign=preview.campaign,
        statement=statement,
        needs_otp=needs_otp,
        needs_temporary=needs_temporary,
        error=error,
    )
    return Response(page, status=status, mimetype="text/html")


def one_line(text: str) -> str:
    """The text box's lines joined with spaces: the justification is printed as one line in
    the evidence pack (11.50(a)); other invisible characters are still refused by the service."""
    return " ".join(text.split())
