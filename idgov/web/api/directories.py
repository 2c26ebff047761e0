"""Directories API (/api/v1/directories): configured directories, their syncs, a sync now."""

from __future__ import annotations

import json

from flask import Blueprint, Response

from idgov.clock import iso_utc
from idgov.errors import NotFound
from idgov.providers.directory.models import DirectorySyncRun
from idgov.web.api.directory_schemas import (
    DirectoryList,
    DirectoryOut,
    SyncIn,
    SyncRunList,
    SyncRunOut,
)
from idgov.web.api.openapi import api_doc
from idgov.web.api.responses import json_response
from idgov.web.auth import roles_required
from idgov.web.context import services

bp = Blueprint("api_directories", __name__, url_prefix="/api/v1/directories")


def run_out(run: DirectorySyncRun) -> SyncRunOut:
    return SyncRunOut(
        id=run.id,
        provider=run.provider,
        kind=run.kind,
        status=run.status,
        started_at=iso_utc(run.started_at),
        finished_at=iso_utc(run.finished_at),
        server=run.server,
        counts=json.loads(run.counts),
        problems=json.loads(run.problems),
        error=run.error,
    )


@bp.get("")
@roles_required("admin", "auditor")
@api_doc(
    summary="Configured directories and their last sync",
    response=DirectoryList,
    tags=["directories"],
    errors=[401, 403],
)
def list_directories() -> Response:
    built = services()
    found = []
    with built.sessions() as session:
        for name, directory in built.directories.items():
            last = built.directory_sync.runs(session, name, limit=1)
            settings = directory.settings
            found.append(
                DirectoryOut(
                    name=name,
                    preset=settings.preset,
                    urls=settings.urls,
                    tls=settings.tls,
                    verify_certificate=settings.verify_certificate,
                    user_base=settings.user_base,
                    group_base=settings.group_base,
                    sync_interval_minutes=settings.sync_interval_minutes,
                    full_sync_hours=settings.full_sync_hours,
                    password_change=settings.password_change,
                    group_write_back=settings.group_write_back,
                    last_sync=run_out(last[0]) if last else None,
                )
            )
    return json_response(DirectoryList(directories=found))


@bp.get("/<name>/runs")
@roles_required("admin", "auditor")
@api_doc(
    summary="Recent syncs of one directory, newest first",
    response=SyncRunList,
    tags=["directories"],
    errors=[401, 403, 404],
)
def list_runs(name: str) -> Response:
    built = services()
    if name not in built.directories:
        raise NotFound(f"no directory named {name!r}")
    with built.sessions() as session:
        runs = built.directory_sync.runs(session, name, limit=50)
        return json_response(SyncRunList(runs=[run_out(run) for run in runs]))


@bp.post("/<name>/sync")
@roles_required("admin")
@api_doc(
    summary="Sync a directory now (incremental unless full)",
    response=SyncRunOut,
    body=SyncIn,
    tags=["directories"],
    errors=[400, 401, 403, 404, 409, 503],
)
def sync(name: str, body: SyncIn) -> Response:
    built = services()
    result = built.directory_sync.run(
        name, full=body.full, allow_mass_deactivation=body.allow_mass_deactivation
    )
    with built.sessions() as session:
        run = session.get(DirectorySyncRun, result.run_id)
        assert run is not None
        return json_response(run_out(run))
