"""A person's page for administrators, security officers and auditors (/people/<id>):
everything about them, and the actions their roles allow (web/ui/person_actions.py).

The readers are the API's (GET /api/v1/identities/{id}: admin, security officer, auditor).
"""

from __future__ import annotations

from flask import Blueprint
from flask.typing import ResponseReturnValue

from idgov.web.auth import roles_required
from idgov.web.ui.person_page import READERS, render_person

bp = Blueprint("person", __name__, url_prefix="/people")


@bp.get("/<id:identity_id>")
@roles_required(*READERS)
def show(identity_id: str) -> ResponseReturnValue:
    return render_person(identity_id)
