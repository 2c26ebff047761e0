"""Host systems API (/api/v1/systems): entitlement snapshots and revocations (REV-1, REV-4)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api_systems", __name__, url_prefix="/api/v1/systems")
