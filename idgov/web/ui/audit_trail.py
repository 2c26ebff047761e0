"""The audit trail for auditors (/audit): filter, page, read an event, verify, export (AUD-1..4).

Who may open it follows docs/sessions-and-access.md: the `auditor` role reads the trail and
its exports. Every page only reads; "verify now" is a POST: it runs the whole walk, then
records who verified and the outcome (`audit:chain:verified`, AUD-3), which the auditor's home
page shows as the chain's last verification.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, BinaryIO, cast
from urllib.parse import urlencode

from flask import Blueprint, Response, render_template, request, send_file, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from idgov.audit.browse import Cursor, TrailPage, pretty
from idgov.audit.chain_state import record_verification
from idgov.audit.checkpoints import CheckpointClaim, compare_with_checkpoint
from idgov.audit.context import ACTION_PATTERN
from idgov.audit.export import AuditExporter, ExportFilter
from idgov.clock import iso_utc
from idgov.db import reading, transaction
from idgov.errors import IdgovError, InvalidRequest, NotFound
from idgov.exports.streams import FORMATS
from idgov.web.auth import refuse, roles_required
from idgov.web.context import services
from idgov.web.ui.forms import plain_field

bp = Blueprint("audit_trail", __name__, url_prefix="/audit")
READERS = ("auditor",)  # docs/sessions-and-access.md, "Roles"
FILTERS = ("since", "until", "actor", "target", "action")
EXPORTS = ("csv", "json", "pdf", "html")
MIMETYPES = {
    "csv": "text/csv",
    "json": "application/json",
    "pdf": "application/pdf",
    "html": "text/html",
}
SPOOL_BYTES = 8 * 1024 * 1024  # bigger copies go to a temporary file before they are sent
TARGET_MAX = 265  # target_type (64) + ":" + target_id (200)


@bp.get("")
@roles_required(*READERS)
def index() -> ResponseReturnValue:
    """Filters (a GET form: a filtered view has a URL) and one page, newest first."""
    built = services()
    values = {name: request.args.get(name, "") for name in FILTERS}
    with reading(built.sessions) as session:
        try:
            selection = selection_of(session, values)
            cursor = Cursor(_seq(request.args, "before"), _seq(request.args, "after"))
        except IdgovError as refused:
            return _index_page(values, None, refused, status=refused.status)
        page = built.trail_reader.page(session, selection, cursor)
        return _index_page(values, page)


@bp.get("/events/<rowid:seq>")
@roles_required(*READERS)
def event(seq: int) -> ResponseReturnValue:
    """One event: every field, its old and new values in full, its hash and previous hash."""
    built = services()
    with reading(built.sessions) as session:
        try:
            found = built.trail_reader.event(session, seq)
        except IdgovError as refused:
            return refuse(refused)
        return render_template(
            "audit/event.html",
            e=found,
            old=pretty(found.old_values),
            new=pretty(found.new_values),
            back=_back_link(),
        )


@bp.post("/verify")
@roles_required(*READERS)
def verify() -> ResponseReturnValue:
    """Walk the whole chain now (AUD-3) and compare it with the newest checkpoint (AUD-4)."""
    built = services()
    with reading(built.sessions) as session:
        latest = built.checkpoints.latest(session)
    claim = None
    if latest is not None:
        claim = CheckpointClaim(
            latest.size, latest.head_hash, iso_utc(latest.issued_at), latest.kid
        )
    report = built.verifier.verify(frozenset() if claim is None else frozenset({claim.size}))
    mismatch = None if claim is None else compare_with_checkpoint(report, claim)
    with transaction(built.sessions) as session:
        record_verification(session, built.trail, report, mismatch)
    page = render_template(
        "audit/verify.html",
        report=report,
        checkpoint=claim,
        mismatch=mismatch,
        checked_at=built.clock.now(),
    )
    ok = report.ok and mismatch is None
    return Response(page, status=200 if ok else 409, mimetype="text/html")


@bp.get("/checkpoints")
@roles_required(*READERS)
def checkpoints() -> ResponseReturnValue:
    built = services()
    with reading(built.sessions) as session:
        found = built.trail_reader.checkpoints(session)
        return render_template("audit/checkpoints.html", checkpoints=found)


@bp.get("/export.<fmt>")
@roles_required(*READERS)
def export(fmt: str) -> ResponseReturnValue:
    """Exactly the filtered events as CSV, JSON, PDF or HTML (EXP-1), with the chain's state
    as `idgov audit export` states it. The copy is made whole before the first byte is sent,
    so a refusal (a PDF of too many events) is a page, never a cut-off file."""
    if fmt not in EXPORTS:
        return refuse(NotFound(f"exports come as {', '.join(EXPORTS)}", field="format"))
    built = services()
    values = {name: request.args.get(name, "") for name in FILTERS}
    with reading(built.sessions) as session:
        try:
            selection = selection_of(session, values)
        except IdgovError as refused:
            return _index_page(values, None, refused, status=refused.status)
    exporter = AuditExporter(built.engine, built.clock, built.settings.server.base_url)
    spool = cast(BinaryIO, tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES))  # noqa: SIM115
    try:
        exporter.write(fmt if fmt in FORMATS else "csv", selection, spool, built.verifier.verify())
    except ValueError as refused:
        spool.close()
        error = InvalidRequest(str(refused), field="format")
        return _index_page(values, None, error, status=400)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    stamp = built.clock.now().strftime("%Y%m%dT%H%M%SZ")
    return send_file(
        spool,
        mimetype=MIMETYPES[fmt],
        as_attachment=True,
        download_name=f"audit-trail-{stamp}.{fmt}",
        conditional=False,
        etag=False,
        max_age=0,
    )


def selection_of(session: Session, values: Mapping[str, str]) -> ExportFilter:
    """The filter the form asks for; InvalidRequest names the field that is wrong (bad time,
    unknown actor, malformed action), and the page shows it on that field."""
    since = _moment(values, "since")
    until = _moment(values, "until")
    if since is not None and until is not None and until <= since:
        raise InvalidRequest("'To' must be later than 'From'", field="until")
    actor = plain_field(values, "actor", 200)
    target = plain_field(values, "target", TARGET_MAX)
    action = plain_field(values, "action", 100)
    if action is not None and not ACTION_PATTERN.match(action):
        raise InvalidRequest(
            "an action is area:subject:action, e.g. identity:roles:changed", field="action"
        )
    actor_id = None if actor is None else services().trail_reader.actor_id(session, actor)
    return ExportFilter(since, until, actor_id, target, action)


def _moment(values: Mapping[str, str], field: str) -> datetime | None:
    """A time typed in the form: UTC unless it names its zone (2026-03-02, 2026-03-02T09:30)."""
    text = values.get(field, "").strip()
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T", 1))
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError):  # OverflowError: year 1 or 9999 moved across a zone
        raise InvalidRequest(
            f"{text[:40]!r} is not a time: write YYYY-MM-DD or YYYY-MM-DDTHH:MM (UTC)",
            field=field,
        ) from None


def _seq(args: Mapping[str, str], name: str) -> int | None:
    text = args.get(name, "")
    if not text:
        return None
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        raise InvalidRequest(f"{name} is a sequence number", field=name)
    return int(text)


def _index_page(
    values: dict[str, str],
    page: TrailPage | None,
    error: IdgovError | None = None,
    status: int = 200,
) -> Response:
    filters: dict[str, Any] = {name: value for name, value in values.items() if value}
    body = render_template(
        "audit/trail.html",
        form=values,
        page=page,
        error=error,
        error_field=None if error is None else error.extensions.get("field"),
        filters=filters,
        older=None if page is None or page.older is None else _link(filters, before=page.older),
        newer=None if page is None or page.newer is None else _link(filters, after=page.newer),
        exports=[
            (kind.upper(), url_for("audit_trail.export", fmt=kind, **filters)) for kind in EXPORTS
        ],
        event_url=url_for("audit_trail.event", seq=1).removesuffix("1"),
        event_query=f"?{urlencode(filters)}" if filters else "",
    )
    return Response(body, status=status, mimetype="text/html")


def _link(filters: dict[str, Any], **cursor: int) -> str:
    return url_for("audit_trail.index", **{**filters, **cursor})


def _back_link() -> str:
    """Back to the filtered list the event was opened from (only this page's own filters)."""
    kept: dict[str, Any] = {
        name: request.args[name] for name in (*FILTERS, "before", "after") if request.args.get(name)
    }
    return url_for("audit_trail.index", **kept)
