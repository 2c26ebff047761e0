"""Host systems for administrators (/admin/hosts): register, rotate, disable, scopes,
allowed addresses, return URLs, and what each host did lately (DEV-1, AUD-1).

Who may open them follows docs/sessions-and-access.md, "Roles": `admin` manages host
clients. Every change goes through ClientRegistry, HostAccess or ReturnUrls, as `idgov
clients` does, with a reason kept in the trail. A client secret is shown once, on the page
that answers the registration or the rotation, and never again; that page is sent with
`Cache-Control: no-store` (RFC 9111 section 5.2.2.5) so no browser or proxy keeps a copy.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from idgov.audit.browse import Cursor
from idgov.audit.export import ExportFilter
from idgov.clients.bearer import client_target
from idgov.clients.grants import TOKEN_LIFETIME_SECONDS
from idgov.clients.models import HostClient
from idgov.clients.return_urls import MAX_RETURN_URLS, registered
from idgov.clients.rules import MAX_NETWORKS, SCOPES, scope_list
from idgov.db import reading, transaction
from idgov.errors import IdgovError, InvalidRequest
from idgov.web.auth import refuse, roles_required
from idgov.web.context import services
from idgov.web.ui.forms import plain_field, required_reason

bp = Blueprint("host_systems", __name__, url_prefix="/admin/hosts")
MANAGERS = ("admin",)  # docs/sessions-and-access.md: admin "manage[s] host clients"
LINE_MAX = 2000  # one allowed network or return URL
CALLS_SHOWN = 20


@bp.get("")
@roles_required(*MANAGERS)
def index() -> ResponseReturnValue:
    return _index_page({}, None)


@bp.post("")
@roles_required(*MANAGERS)
def register() -> ResponseReturnValue:
    """Register a host (DEV-1); the answer shows its secret once and is never cached."""
    built, form = services(), request.form
    try:
        reason = required_reason(form)
        with transaction(built.sessions) as session:
            client, secret = built.clients.add(
                session,
                plain_field(form, "name", 100) or "",
                form.getlist("scopes"),
                lines(form, "allowed_cidrs", MAX_NETWORKS),
                return_urls=lines(form, "return_urls", MAX_RETURN_URLS),
                reason=reason,
            )
            client_id, name = client.client_id, client.name
    except IdgovError as refused:
        return _index_page(form, refused, status=refused.status)
    return _secret_page(client_id, name, secret, "registered")


@bp.get("/<client_id>")
@roles_required(*MANAGERS)
def host(client_id: str) -> ResponseReturnValue:
    built = services()
    with reading(built.sessions) as session:
        try:
            client = built.clients.find(session, client_id)
        except IdgovError as refused:
            return refuse(refused)
        return _host_page(session, client, {}, None)


@bp.post("/<client_id>/rotate")
@roles_required(*MANAGERS)
def rotate(client_id: str) -> ResponseReturnValue:
    """A new secret: the old one and the host's live tokens stop working at once."""
    built = services()
    try:
        reason = required_reason(request.form)
        with transaction(built.sessions) as session:
            client, secret = built.clients.rotate_secret(session, client_id, reason=reason)
            found_id, name = client.client_id, client.name
    except IdgovError as refused:
        return _refused_on_host(client_id, refused, "rotate")
    return _secret_page(found_id, name, secret, "rotated")


@bp.post("/<client_id>/disable")
@roles_required(*MANAGERS)
def disable(client_id: str) -> ResponseReturnValue:
    """No more tokens; live ones stop working. The host stays on record (REC-1)."""
    built = services()
    try:
        reason = required_reason(request.form)
        with transaction(built.sessions) as session:
            client = built.clients.disable(session, client_id, reason=reason)
            found_id, name = client.client_id, client.name
    except IdgovError as refused:
        return _refused_on_host(client_id, refused, "disable")
    flash(f"Host {name} is disabled, recorded as client:host:disabled with your reason.")
    return redirect(url_for("host_systems.host", client_id=found_id))


@bp.post("/<client_id>/return-urls")
@roles_required(*MANAGERS)
def return_urls(client_id: str) -> ResponseReturnValue:
    """Replace where the signing ceremony may send people back (none: remove all)."""

    def change(session: Session, client: HostClient, reason: str) -> str:
        wanted = lines(request.form, "return_urls", MAX_RETURN_URLS)
        urls = services().return_urls.replace(session, client, wanted, reason=reason)
        return f"now has {len(urls)} return URL(s), recorded as client:return-urls:changed"

    return _change_host(client_id, "return_urls", change)


@bp.post("/<client_id>/scopes")
@roles_required(*MANAGERS)
def scopes(client_id: str) -> ResponseReturnValue:
    """What the host may do; a scope taken away also ends its live tokens (ACC-2)."""

    def change(session: Session, client: HostClient, reason: str) -> str:
        wanted = request.form.getlist("scopes")
        new, revoked = services().host_access.change_scopes(session, client, wanted, reason=reason)
        ended = f"; {revoked} live token(s) revoked" if revoked else ""
        return f"now has the scopes {', '.join(new)}{ended}, recorded as client:scopes:changed"

    return _change_host(client_id, "scopes", change)


@bp.post("/<client_id>/networks")
@roles_required(*MANAGERS)
def networks(client_id: str) -> ResponseReturnValue:
    """Where the host may call from; checked at every call, so at once (DEV-1)."""

    def change(session: Session, client: HostClient, reason: str) -> str:
        wanted = lines(request.form, "allowed_cidrs", MAX_NETWORKS)
        new = services().host_access.change_networks(session, client, wanted, reason=reason)
        where = ", ".join(new) or "any address"
        return f"may now call from {where}, recorded as client:networks:changed"

    return _change_host(client_id, "networks", change)


def _change_host(
    client_id: str, action: str, change: Callable[[Session, HostClient, str], str]
) -> ResponseReturnValue:
    """Apply `change` to the locked host with the form's reason in one transaction; a refusal
    is shown on the form that was sent, and nothing changed."""
    built = services()
    try:
        reason = required_reason(request.form)
        with transaction(built.sessions) as session:
            client = built.clients.find(session, client_id, lock=True)
            done = change(session, client, reason)
            found_id, name = client.client_id, client.name
    except IdgovError as refused:
        return _refused_on_host(client_id, refused, action)
    flash(f"Host {name} {done} with your reason.")
    return redirect(url_for("host_systems.host", client_id=found_id))


def lines(form: Mapping[str, str], field: str, most: int) -> list[str]:
    """One value a line of a text area; blank lines skipped. The service checks each value;
    this only bounds the text so that a huge paste is refused naming the field."""
    text = form.get(field, "")
    found = [line.strip() for line in text.splitlines() if line.strip()]
    if len(found) > most or any(len(line) > LINE_MAX for line in found):
        raise InvalidRequest(
            f"{field}: at most {most} lines of at most {LINE_MAX} characters", field=field
        )
    return found


def _index_page(form: Mapping[str, Any], error: IdgovError | None, status: int = 200) -> Response:
    built = services()
    with reading(built.sessions) as session:
        hosts = built.clients.list(session)
        body = render_template(
            "hosts/index.html",
            hosts=hosts,
            scopes=sorted(SCOPES),
            chosen=set(form.getlist("scopes")) if hasattr(form, "getlist") else set(),
            form=form,
            error=error,
            error_field=None if error is None else error.extensions.get("field"),
            scope_list=scope_list,
            registered=registered,
        )
    return Response(body, status=status, mimetype="text/html")


def _host_page(
    session: Session,
    client: HostClient,
    form: Mapping[str, Any],
    error: IdgovError | None,
    action: str | None = None,
    status: int = 200,
) -> Response:
    """The host, its settings, its forms, and its recent calls from the trail: what it did
    (the actor is the host client) and what was done to it (the target is the host)."""
    reader = services().trail_reader
    target = client_target(client.client_id)
    calls = reader.page(session, ExportFilter(actor=client.client_id), Cursor())
    changes = reader.page(session, ExportFilter(target=f"{target.type}:{target.id}"), Cursor())
    body = render_template(
        "hosts/host.html",
        client=client,
        scopes=scope_list(client.scopes),
        all_scopes=sorted(SCOPES),
        networks=[n for n in client.allowed_cidrs.split(",") if n],
        urls=registered(client),
        calls=calls.events[:CALLS_SHOWN],
        changes=changes.events[:CALLS_SHOWN],
        form=form,
        error=error,
        error_field=None if error is None else error.extensions.get("field"),
        action=action,
    )
    return Response(body, status=status, mimetype="text/html")


def _refused_on_host(client_id: str, error: IdgovError, action: str) -> ResponseReturnValue:
    """The host's page again with the refusal on the form that was sent; nothing changed."""
    built = services()
    with reading(built.sessions) as session:
        try:
            client = built.clients.find(session, client_id)
        except IdgovError as missing:
            return refuse(missing)
        return _host_page(session, client, request.form, error, action, error.status)


def _secret_page(client_id: str, name: str, secret: str, what: str) -> Response:
    body = render_template(
        "hosts/secret.html",
        client_id=client_id,
        name=name,
        secret=secret,
        what=what,
        lifetime=TOKEN_LIFETIME_SECONDS,
    )
    answer = Response(body, status=200, mimetype="text/html")
    answer.headers["Cache-Control"] = "no-store"
    answer.headers["Pragma"] = "no-cache"
    return answer
