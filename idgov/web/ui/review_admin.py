"""Admin pages for access reviews (/admin/reviews): definitions, progress, overdue, evidence."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("review_admin", __name__, url_prefix="/admin/reviews")
