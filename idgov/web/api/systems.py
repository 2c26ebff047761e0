"""Host systems API (/api/v1/systems): entitlement snapshots and revocations (REV-1, REV-4)."""

from __future__ import annotations

import functools
from typing import ParamSpec

from flask import Blueprint, Response, request
from flask.typing import ResponseReturnValue

from idgov.db import transaction
from idgov.web.api.openapi import api_doc
from idgov.web.api.responses import json_response
from idgov.web.api.system_schemas import (
    DoneIn,
    RevocationList,
    RevocationOut,
    RevocationQuery,
    SnapshotIn,
    SnapshotOut,
)
from idgov.web.auth import View
from idgov.web.context import services
from idgov.web.hosts import calling_client, scope_required

P = ParamSpec("P")
bp = Blueprint("api_systems", __name__, url_prefix="/api/v1/systems")
# 200,000 assignments do not fit the app's 2 MiB request limit: a snapshot may be larger,
# once the caller is known to be a host with the entitlements scope.
SNAPSHOT_MAX_BYTES = 32 * 1024 * 1024
ERRORS = [401, 403, 404, 409, 422, 503]


def large_body(view: View[P]) -> View[P]:
    """Raise this request's body limit (Flask 3.1 per-request max_content_length)."""

    @functools.wraps(view)
    def allowed(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
        request.max_content_length = SNAPSHOT_MAX_BYTES
        return view(*args, **kwargs)

    return allowed


@bp.put("/<system>/entitlements")
@scope_required("entitlements")
@large_body
@api_doc(
    summary="Push the system's full snapshot of roles and who holds them (REV-1); usernames "
    "idgov does not know are answered as orphan findings, and revocations the snapshot no "
    "longer lists are verified (REV-4)",
    response=SnapshotOut,
    body=SnapshotIn,
    tags=["systems"],
    errors=[*ERRORS, 413],
)
def put_entitlements(system: str, body: SnapshotIn) -> Response:
    with transaction(services().sessions) as session:
        result = services().snapshots.receive(session, calling_client(), system, body)
    return json_response(SnapshotOut.of(result))


@bp.get("/<system>/revocations")
@scope_required("entitlements")
@api_doc(
    summary="Roles the system must remove after access reviews (REV-4); open ones stay listed "
    "until a snapshot no longer has them",
    response=RevocationList,
    query=RevocationQuery,
    tags=["systems"],
    errors=ERRORS,
)
def list_revocations(system: str, query: RevocationQuery) -> Response:
    status = None if query.status == "all" else query.status
    with transaction(services().sessions) as session:  # commits an audited refusal
        found = services().remediation.revocations(
            session, calling_client(), system, status, query.after, query.limit + 1
        )
    page = found[: query.limit]
    more = len(found) > query.limit
    answer = RevocationList(
        revocations=[RevocationOut.of(r) for r in page],
        next_after=page[-1].id if more else None,
    )
    return json_response(answer)


@bp.post("/<system>/revocations/<rowid:remediation_id>/done")
@scope_required("entitlements")
@api_doc(
    summary="Report a revocation carried out; the next snapshot without it verifies it (REV-4)",
    response=RevocationOut,
    body=DoneIn,
    tags=["systems"],
    errors=ERRORS,
)
def revocation_done(system: str, remediation_id: int, body: DoneIn) -> Response:
    with transaction(services().sessions) as session:
        found = services().remediation.confirm_done(
            session, calling_client(), system, remediation_id, body.note
        )
    return json_response(RevocationOut.of(found))
