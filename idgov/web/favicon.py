"""/favicon.ico: the icon browsers ask for on every page, public like the stylesheet."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, send_from_directory

bp = Blueprint("favicon", __name__)

ONE_DAY = 24 * 60 * 60


@bp.get("/favicon.ico")
def favicon() -> Response:
    # Browsers ask here whatever the page links; without it every page logs a 404.
    return send_from_directory(
        current_app.static_folder or "static",
        "favicon.ico",
        mimetype="image/x-icon",
        max_age=ONE_DAY,
    )
