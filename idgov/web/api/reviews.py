"""Access-review API (/api/v1/campaigns, /api/v1/review-definitions)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api_reviews", __name__, url_prefix="/api/v1")
