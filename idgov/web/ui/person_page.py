"""Draws a person's page (/people/<id>) for its readers: every section, and the forms the
reader's roles may use; a refused form is drawn again with its error, nothing changed."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Response, render_template
from werkzeug.datastructures import MultiDict

from idgov.db import reading
from idgov.errors import IdgovError
from idgov.identity.models import Role
from idgov.web.auth import current_roles, refuse
from idgov.web.context import services
from idgov.web.ui.console import PAGES

READERS = ("admin", "security_officer", "auditor")  # GET /api/v1/identities/{id}
# Who may use each form: the roles of the API route doing the same (web/api/identities.py);
# roles and manager have no API route, and are an administrator's, as `idgov identities`.
ACTION_ROLES: dict[str, tuple[str, ...]] = {
    "verify": ("admin", "security_officer"),  # POST .../verification (IDV-1)
    "roles": ("admin",),
    "manager": ("admin",),
    "status": ("admin",),  # POST .../status
    "rehire": ("admin",),  # POST .../rehire (UNQ-1)
    "unlock": ("security_officer",),  # POST .../unlock (LOCK-2)
    "reset": ("admin", "security_officer"),  # POST .../password-reset (CMP-2)
    "handover": ("admin", "security_officer"),  # POST .../password-reset/handover
    "sessions": ("admin", "security_officer"),  # as the reset, which also ends sessions
}
STATUS_CHOICES = ("active", "suspended", "deactivated")  # as the API's StatusIn
EVIDENCE_TYPES = ("government-id", "passport", "employee-badge", "hr-record", "in-person")


def render_person(
    identity_id: str,
    *,
    error: IdgovError | None = None,
    action: str | None = None,
    form: Mapping[str, str] | None = None,
) -> Response:
    """The page; with `error`, the refused form (`action`) shows it and keeps what was typed,
    and the answer carries the error's status code."""
    built = services()
    held = current_roles()
    opens = {page.endpoint for page in PAGES if held & set(page.roles)}
    with reading(built.sessions) as session:
        try:
            record = built.person_reader.read(session, identity_id)
        except IdgovError as refused:
            return refuse(refused)
        body = render_template(
            "people/person.html",
            r=record,
            p=record.person,
            may={name: bool(held & set(roles)) for name, roles in ACTION_ROLES.items()},
            opens=opens,
            all_roles=[role.value for role in Role],
            status_choices=[s for s in STATUS_CHOICES if s != record.person.status],
            evidence_types=EVIDENCE_TYPES,
            action=action,
            form=form if form is not None else MultiDict(),
            error=error,
            error_field=None if error is None else error.extensions.get("field"),
        )
    return Response(body, status=200 if error is None else error.status, mimetype="text/html")
