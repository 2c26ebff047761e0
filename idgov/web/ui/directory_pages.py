"""Directories and OpenID providers for administrators and auditors (/admin/directories):
status, recent syncs with their counts and errors, sync now, test the connection.

Roles are the API's (web/api/directories.py): `admin` and `auditor` read, only `admin`
syncs; a connection test is an operation on the directory and is the admin's too. The sync
is DirectorySync.run, exactly as `POST /api/v1/directories/{name}/sync`; it commits page by
page and records its own run (docs/architecture.md), so no transaction is opened here.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from idgov.db import reading
from idgov.errors import IdgovError, NotFound
from idgov.providers.directory.interfaces import Directory
from idgov.web.auth import refuse, roles_required
from idgov.web.context import services

bp = Blueprint("directory_pages", __name__, url_prefix="/admin/directories")
READERS = ("admin", "auditor")  # GET /api/v1/directories
OPERATORS = ("admin",)  # POST /api/v1/directories/{name}/sync
RUNS_SHOWN = 50  # as GET /api/v1/directories/{name}/runs
TEST_USERNAME = "idgov-connection-test"  # as `idgov providers test`


@bp.get("")
@roles_required(*READERS)
def index() -> ResponseReturnValue:
    built = services()
    with reading(built.sessions) as session:
        found = [
            (name, directory, next(iter(built.directory_sync.runs(session, name, limit=1)), None))
            for name, directory in built.directories.items()
        ]
        body = render_template(
            "directories/index.html", directories=found, providers=built.oidc.names()
        )
    return Response(body, mimetype="text/html")


@bp.get("/<name>")
@roles_required(*READERS)
def directory(name: str) -> ResponseReturnValue:
    try:
        found = _directory(name)
    except IdgovError as refused:
        return refuse(refused)
    return _directory_page(found, None)


@bp.post("/<name>/sync")
@roles_required(*OPERATORS)
def sync(name: str) -> ResponseReturnValue:
    """Sync now: incremental unless `full`; a mass deactivation only when allowed (fail
    closed, docs/directories.md). A refusal (unreachable, already running) is shown on the
    page; the failed run is recorded by the sync itself."""
    built = services()
    try:
        found = _directory(name)
    except IdgovError as refused:
        return refuse(refused)
    try:
        result = built.directory_sync.run(
            name,
            full=request.form.get("full") == "yes",
            allow_mass_deactivation=request.form.get("allow_mass_deactivation") == "yes",
        )
    except IdgovError as refused:
        return _directory_page(found, refused, status=refused.status)
    counts = ", ".join(f"{key} {value}" for key, value in result.counts.items())
    flash(
        f"{result.kind.capitalize()} sync of {name} {result.status} (run {result.run_id}): "
        f"{counts or 'nothing read'}."
    )
    return redirect(url_for("directory_pages.directory", name=name))


@bp.post("/<name>/test")
@roles_required(*OPERATORS)
def test(name: str) -> ResponseReturnValue:
    """Connect as the service account (TLS and certificate checks as configured) and search,
    as `idgov providers test` does; changes nothing."""
    try:
        found = _directory(name)
    except IdgovError as refused:
        return refuse(refused)
    try:
        found.find_user(TEST_USERNAME)
    except IdgovError as refused:
        return _directory_page(found, refused, status=refused.status, tested=True)
    flash(f"{name}: connected to {found.server} and searched as the service account.")
    return redirect(url_for("directory_pages.directory", name=name))


def _directory(name: str) -> Directory:
    found = services().directories.get(name)
    if found is None:
        raise NotFound(f"no directory named {name[:100]!r}", field="name")
    return found


def _directory_page(
    found: Directory, error: IdgovError | None, status: int = 200, *, tested: bool = False
) -> Response:
    built = services()
    with reading(built.sessions) as session:
        runs = built.directory_sync.runs(session, found.name, limit=RUNS_SHOWN)
        shown: list[dict[str, Any]] = [
            {"run": run, "counts": json.loads(run.counts), "problems": json.loads(run.problems)}
            for run in runs
        ]
        body = render_template(
            "directories/directory.html",
            d=found,
            s=found.settings,
            runs=shown,
            error=error,
            tested=tested,
        )
    return Response(body, status=status, mimetype="text/html")
