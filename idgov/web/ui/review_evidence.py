"""Evidence pack downloads for admins and auditors (/admin/reviews/<id>/evidence.<format>)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("review_evidence", __name__, url_prefix="/admin/reviews")
