"""Policies in the console (/policies): every kind as a form, changed with a reason, its
versions and a diff between any two (CHG-1, issue 15 item 4).

The same roles as the API (web/api/policies.READER_ROLES, CHANGER_ROLES): admins,
security officers and auditors read; only admins change. A change goes through
PolicyStore.change, the API's path: the model's ranges, a reason, the new version and its
audit event in one transaction; a refusal changes nothing and names the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from idgov.db import reading, transaction
from idgov.errors import Conflict, IdgovError, InvalidRequest, NotFound, UnprocessableRequest
from idgov.policies.diff import MISSING, field_changes
from idgov.policies.documents import POLICY_MODELS, default_policy
from idgov.web.api.admin_schemas import PolicyChangeIn
from idgov.web.api.policies import CHANGER_ROLES, READER_ROLES
from idgov.web.auth import current_roles, refuse, roles_required, signed_in
from idgov.web.context import services
from idgov.web.ui.policy_form import PolicyField, changes_of, fields_of

bp = Blueprint("policy_pages", __name__, url_prefix="/policies")
TITLES = {
    "password": "Password policy",
    "lockout": "Lockout policy",
    "alerting": "Alerting policy",
    "session": "Session policy",
    "signing": "Signing policy",
    "tokens": "Token policy",
}


@bp.get("")
@roles_required(*READER_ROLES)
def index() -> ResponseReturnValue:
    """Every kind with the version in force and when and why it was last changed."""
    built = services()
    with reading(built.sessions) as session:
        kinds = [(kind, TITLES[kind], built.policies.history(session, kind)[:1]) for kind in TITLES]
    return render_template("policies/index.html", kinds=kinds, profile=built.policies.profile)


@bp.get("/<kind>")
@roles_required(*READER_ROLES)
def show(kind: str) -> ResponseReturnValue:
    try:
        return _policy_page(_model(kind), kind)
    except IdgovError as refused:
        return refuse(refused)


@bp.post("/<kind>")
@roles_required(*CHANGER_ROLES)
def change(kind: str) -> ResponseReturnValue:
    """CHG-1: the changed fields with the reason as one new version; or the form again with
    each refused field named and nothing recorded."""
    built, me = services(), signed_in()[0]
    try:
        model = _model(kind)
    except IdgovError as refused:
        return refuse(refused)
    try:
        with transaction(built.sessions) as session:
            _same_version(built.policies.version(session, kind), request.form)
            current = built.policies.current(session, model).model_dump(mode="json")
            changes = changes_of(fields_of(model), request.form, current)
            if not changes:
                raise InvalidRequest("no value differs from the policy in force: nothing to record")
            body = _change_body(changes, request.form.get("reason", ""))
            built.policies.change(session, kind, body.changes, body.reason, me.printed_name)
            version = built.policies.version(session, kind)
    except Conflict as refused:  # the form shows the new version's values; the reason stays
        return _policy_page(model, kind, refused, {"reason": request.form.get("reason", "")})
    except IdgovError as refused:
        return _policy_page(model, kind, refused, request.form)
    named = ", ".join(name.replace("_", " ") for name in changes)
    flash(f"{TITLES[kind]} version {version} is recorded ({named}), with the reason given.")
    return redirect(url_for("policy_pages.diff", kind=kind, old=version - 1, new=version), 303)


@bp.get("/<kind>/history")
@roles_required(*READER_ROLES)
def history(kind: str) -> ResponseReturnValue:
    built = services()
    try:
        _model(kind)
    except IdgovError as refused:
        return refuse(refused)
    with reading(built.sessions) as session:
        versions = built.policies.history(session, kind)
    return render_template(
        "policies/history.html",
        kind=kind,
        title=TITLES[kind],
        versions=versions,
        profile=built.policies.profile,
    )


@bp.get("/<kind>/diff")
@roles_required(*READER_ROLES)
def diff(kind: str) -> ResponseReturnValue:
    """Any two versions field by field (0 is the profile's baseline); ?old=N&new=M."""
    built = services()
    try:
        _model(kind)
    except IdgovError as refused:
        return refuse(refused)
    changes, error = None, None
    with reading(built.sessions) as session:
        versions = built.policies.history(session, kind)
        try:
            before = _document(session, kind, "old")
            changes = field_changes(before, _document(session, kind, "new"))
        except IdgovError as refused:
            error = refused
    page = render_template(
        "policies/diff.html",
        kind=kind,
        title=TITLES[kind],
        form={name: request.args.get(name, "") for name in ("old", "new")},
        changes=changes,
        missing=MISSING,
        versions={v.version: v for v in versions},
        error=error,
        error_field=None if error is None else error.extensions.get("field"),
    )
    return Response(page, status=200 if error is None else error.status, mimetype="text/html")


def _policy_page(
    model: type[BaseModel],
    kind: str,
    error: IdgovError | None = None,
    form: Mapping[str, str] | None = None,
) -> Response:
    built = services()
    with reading(built.sessions) as session:
        current = built.policies.current(session, model).model_dump(mode="json")
        versions = built.policies.history(session, kind)
    baseline = default_policy(kind, built.policies.profile).model_dump(mode="json")
    fields = fields_of(model)
    problems = _problems(error, kind)
    body = render_template(
        "policies/policy.html",
        kind=kind,
        title=TITLES[kind],
        profile=built.policies.profile,
        rows=[_row(field, current, baseline, form) for field in fields],
        latest=versions[0] if versions else None,
        may_change=bool(current_roles() & set(CHANGER_ROLES)),
        error=error,
        problems=problems,
        general=[p for name, p in problems.items() if name not in {f.name for f in fields}],
        reason=(form or {}).get("reason", ""),
        version=versions[0].version if versions else 0,
    )
    return Response(body, status=200 if error is None else error.status, mimetype="text/html")


def _row(
    field: PolicyField,
    current: Mapping[str, Any],
    baseline: Mapping[str, Any],
    form: Mapping[str, str] | None,
) -> dict[str, Any]:
    value = current.get(field.name)
    return {
        "field": field,
        "value": form[field.name] if form and field.name in form else field.shown(value),
        "baseline": None
        if baseline.get(field.name) == value
        else field.shown(baseline.get(field.name)),
    }


def _problems(error: IdgovError | None, kind: str) -> dict[str, str]:
    """Each refused field's problem (the store's and the form's `errors`, or the one field a
    refusal names); a problem with the whole policy is filed under the kind."""
    if error is None:
        return {}
    listed = error.extensions.get("errors")
    if isinstance(listed, list):
        found: dict[str, str] = {}
        for item in listed:
            name = str(item["field"]).split(".")[0]
            found[name] = "; ".join(filter(None, [found.get(name), str(item["problem"])]))
        return found
    return {str(error.extensions.get("field") or kind): error.detail}


def _change_body(changes: dict[str, Any], reason: str) -> PolicyChangeIn:
    """The API's own body model, so that the reason has the API's bounds (Reason)."""
    try:
        return PolicyChangeIn(changes=changes, reason=reason.strip())
    except ValidationError:
        raise UnprocessableRequest(
            "a reason is required for a policy change (at most 2000 characters)", field="reason"
        ) from None


def _same_version(in_force: int, form: Mapping[str, str]) -> None:
    """The form was filled in on the version still in force: otherwise its unchanged fields
    would silently undo what another administrator changed meanwhile (a lost update)."""
    if form.get("base_version", "") != str(in_force):
        raise Conflict(
            f"the policy is now at version {in_force}, changed since this form was opened; "
            "its values are shown again: make the change on them",
            field="base_version",
        )


def _model(kind: str) -> type[BaseModel]:
    if kind not in POLICY_MODELS:
        raise NotFound(f"no policy {kind!r}; policies are {', '.join(TITLES)}", field="kind")
    return POLICY_MODELS[kind]


def _document(session: Session, kind: str, name: str) -> dict[str, Any]:
    """The values of the version the query's `name` (old or new) asks for; refusals name it."""
    text = request.args.get(name, "")
    if not text.isascii() or not text.isdigit() or len(text) > 9:
        raise InvalidRequest(f"{name} is a version number (0 is the baseline)", field=name)
    try:
        return services().policies.document(session, kind, int(text))
    except NotFound as missing:
        raise NotFound(missing.detail, field=name) from None
