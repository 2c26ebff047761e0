"""Reviewer pages (/reviews): inbox, decisions, sign-off (REV-3)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("reviews", __name__, url_prefix="/reviews")
