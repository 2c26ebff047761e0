"""A person's page for administrators, security officers and auditors (/people/<id>).

The readers are the API's (GET /api/v1/identities/{id}: admin, security officer, auditor).
"""

from __future__ import annotations

from flask import Blueprint, Response, render_template
from flask.typing import ResponseReturnValue

from idgov.db import reading
from idgov.errors import IdgovError
from idgov.web.auth import refuse, roles_required
from idgov.web.context import services

bp = Blueprint("person", __name__, url_prefix="/people")
READERS = ("admin", "security_officer", "auditor")  # GET /api/v1/identities/{id}


@bp.get("/<id:identity_id>")
@roles_required(*READERS)
def show(identity_id: str) -> ResponseReturnValue:
    built = services()
    with reading(built.sessions) as session:
        try:
            identity = built.identities.get(session, identity_id)
        except IdgovError as refused:
            return refuse(refused)
        manager_id = identity.manager_id
        manager = built.identities.get(session, manager_id) if manager_id else None
        body = render_template(
            "people/person.html",
            person=identity,
            roles=sorted(built.identities.roles(session, identity.id)),
            manager=manager,
        )
    return Response(body, mimetype="text/html")
