"""Admin pages for access reviews (/admin/reviews): definitions, progress, overdue, evidence."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from idgov.counted import counted, plural
from idgov.db import reading, transaction
from idgov.errors import IdgovError, InvalidRequest
from idgov.identity.models import Role
from idgov.ids import plausible_id
from idgov.reviews.campaigns.definition import DAYS, NAME_MAX, NewDefinition
from idgov.reviews.campaigns.schedule import QUARTERLY
from idgov.reviews.models import ReviewerRule
from idgov.reviews.queries.views import scope_text
from idgov.web.auth import refuse, roles_required, signed_in
from idgov.web.context import services

bp = Blueprint("review_admin", __name__, url_prefix="/admin/reviews")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
SCOPE_KINDS = {
    "all": "Everything in every source",
    "directories": "Whole directories (every group)",
    "systems": "Host systems (their roles)",
    "groups": "Single directory groups, written DIRECTORY/GROUP",
}
RULES = {
    ReviewerRule.MANAGER.value: "The holder's manager",
    ReviewerRule.OWNER.value: "The entitlement's owner",
    ReviewerRule.MANAGER_THEN_OWNER.value: "The manager, then the entitlement's owner",
}
EVIDENCE = ("pdf", "csv", "json")


@bp.get("")
@roles_required("admin", "auditor")
def index() -> ResponseReturnValue:
    return _index_page(200)


@bp.post("/definitions")
@roles_required("admin")
def define() -> ResponseReturnValue:
    """REV-1: a campaign definition from the form; errors name the field, nothing is kept."""
    built, me = services(), signed_in()[0]
    try:
        with transaction(built.sessions) as session:
            new = definition_of(session, request.form)
            definition = built.campaigns.define(session, new, me.username)
            name = definition.name
    except IdgovError as refused:
        return _index_page(refused.status, refused.detail, request.form)
    flash(f"Campaign definition {name} is created.")
    return redirect(url_for("review_admin.index"))


@bp.post("/definitions/<id:definition_id>/start")
@roles_required("admin")
def start(definition_id: str) -> ResponseReturnValue:
    """REV-1 on demand: draft a campaign and start it (the population frozen), or nothing."""
    built, me = services(), signed_in()[0]
    try:
        with transaction(built.sessions) as session:
            campaign = built.campaigns.launch(session, definition_id, me.username)
            campaign_id, name, count = campaign.id, campaign.name, campaign.item_count
    except IdgovError as refused:
        return _index_page(refused.status, f"The campaign was not started: {refused.detail}.")
    flash(f"Campaign {name} is started with {counted(count, 'item')}.")
    return redirect(url_for("review_admin.campaign", campaign_id=campaign_id))


@bp.get("/<id:campaign_id>")
@roles_required("admin", "auditor")
def campaign(campaign_id: str) -> ResponseReturnValue:
    built = services()
    try:
        with reading(built.sessions) as session:
            detail = built.review_reader.campaign_detail(session, campaign_id, built.clock.now())
    except IdgovError as refused:
        return refuse(refused)
    here = url_for("review_admin.campaign", campaign_id=detail.campaign.id)
    return render_template(
        "reviews/admin_campaign.html",
        detail=detail,
        campaign=detail.campaign,
        scope=scope_text(detail.campaign.scope),
        rules=RULES,
        evidence=[(kind.upper(), f"{here}/evidence.{kind}") for kind in EVIDENCE],
    )


@bp.post("/<id:campaign_id>/close")
@roles_required("admin")
def close(campaign_id: str) -> ResponseReturnValue:
    """Close from the page (SEQ-1, REV-5): the reason is required; unverified revocations
    stay open unless the admin closes with them as exceptions."""
    built, me = services(), signed_in()[0]
    reason = request.form.get("reason", "")
    with_exceptions = request.form.get("with_exceptions") == "yes"
    try:
        outcome = built.closer.close(
            campaign_id, me.username, reason, with_exceptions=with_exceptions
        )
    except IdgovError as refused:
        flash(f"The campaign was not closed: {refused.detail}")
        return redirect(url_for("review_admin.campaign", campaign_id=campaign_id))
    if outcome.closed:
        flash("The campaign is closed and its evidence pack sealed.")
    else:
        flash(
            f"The campaign is closing: {counted(outcome.unverified, 'revocation')} "
            f"{plural(outcome.unverified, 'is', 'are')} not verified yet. "
            "Close again once they are, or with them as exceptions."
        )
    return redirect(url_for("review_admin.campaign", campaign_id=campaign_id))


@bp.post("/remediations/<rowid:remediation_id>/retry")
@roles_required("admin")
def retry(remediation_id: int) -> ResponseReturnValue:
    """REV-4: a failed revocation is tried again once its cause is fixed (the reason says what)."""
    built = services()
    campaign_id = request.form.get("campaign", "")
    try:
        with transaction(built.sessions) as session:
            built.remediation.retry(session, remediation_id, request.form.get("reason", ""))
        flash(f"Revocation {remediation_id} is tried again at the worker's next run.")
    except IdgovError as refused:
        flash(f"Revocation {remediation_id} was not retried: {refused.detail}")
    if not plausible_id(campaign_id):
        return redirect(url_for("review_admin.index"))
    return redirect(url_for("review_admin.campaign", campaign_id=campaign_id))


def definition_of(session: Session, form: Mapping[str, str]) -> NewDefinition:
    """A NewDefinition from the form fields; InvalidRequest names the field that is wrong."""
    kind = form.get("scope_kind", "")
    if kind not in SCOPE_KINDS:
        raise InvalidRequest("choose what the campaign covers", field="scope")
    names = [n.strip() for n in re.split(r"[,\n]", _text(form, "scope_names", 20_000)) if n.strip()]
    username = _text(form, "fallback_reviewer", 256).strip()
    fallback = services().identities.by_username(session, username) if username else None
    if fallback is None:
        raise InvalidRequest(
            "the fallback reviewer must be the username of an identity", field="fallback_reviewer"
        )
    on_schedule = form.get("schedule_kind", "scheduled") != "on-demand"
    schedule = _text(form, "schedule", 100).strip() or QUARTERLY
    return NewDefinition(
        name=_text(form, "name", NAME_MAX),
        scope={"all": True} if kind == "all" else {kind: names},
        reviewer_rule=form.get("reviewer_rule", ""),
        fallback_reviewer_id=fallback.id,
        duration_days=_number(form, "duration_days", DAYS["duration_days"].default),
        reminder_days=_number(form, "reminder_days", DAYS["reminder_days"].default),
        schedule=schedule if on_schedule else None,
        certify_justification=form.get("certify_justification") in ("1", "on", "yes"),
    )


def _text(form: Mapping[str, str], field: str, limit: int) -> str:
    value = form.get(field, "")
    if len(value) > limit or CONTROL.search(value):
        raise InvalidRequest(f"{field}: at most {limit} characters of plain text", field=field)
    return value


def _number(form: Mapping[str, str], field: str, default: int) -> int:
    value = form.get(field, "").strip()
    if not value:
        return default
    if not value.isascii() or not value.isdigit() or len(value) > 6:
        raise InvalidRequest(f"{field} must be a whole number of days", field=field)
    return int(value)


def _index_page(
    status: int, error: str | None = None, form: Mapping[str, str] | None = None
) -> Response:
    built, me = services(), signed_in()[0]
    with reading(built.sessions) as session:
        definitions = built.review_reader.definitions(session)
        campaigns = built.review_reader.campaigns_with_progress(session, built.clock.now())
        can_edit = Role.ADMIN.value in built.identities.roles(session, me.id)
    values: dict[str, Any] = dict(form.items()) if form is not None else {}
    page = render_template(
        "reviews/admin.html",
        definitions=definitions,
        campaigns=campaigns,
        can_edit=can_edit,
        error=error,
        form=values,
        scope_kinds=SCOPE_KINDS,
        rules=RULES,
        quarterly=QUARTERLY,
        scope_text=scope_text,
        days=DAYS,
    )
    return Response(page, status=status, mimetype="text/html")
