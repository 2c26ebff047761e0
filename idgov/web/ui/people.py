"""The people list and creating a person in the console (/people, /people/new; issue 15).

The readers are the API's: GET /api/v1/identities (admin, security officer, auditor) for the
list, POST /api/v1/identities (admin) for creating, through the same service
(IdentityService.create), with a reason kept in the audit event (AUD-1). A new person is
pending verification until someone other than their creator verifies them (IDV-1); a
username that was ever anyone else's is refused and alerted (UNQ-1).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from idgov.db import reading, transaction
from idgov.errors import IdgovError, InvalidRequest
from idgov.identity.creation import NewIdentity
from idgov.identity.people_query import (
    ROLES,
    STATUSES,
    PeopleCursor,
    PeopleFilter,
    PeoplePage,
    PeopleReader,
    known_sources,
)
from idgov.identity.usernames import MAX_USERNAME, normalize_username
from idgov.web.auth import roles_required
from idgov.web.context import services
from idgov.web.ui.forms import plain_field, required_reason

bp = Blueprint("people", __name__, url_prefix="/people")
READERS = ("admin", "security_officer", "auditor")  # GET /api/v1/identities
CREATORS = ("admin",)  # POST /api/v1/identities
FILTERS = ("q", "status", "source", "role")
TEXT_MAX = 200  # a printed name's length (identity/creation.py)
FORM_FIELDS = ("username", "printed_name", "email", "manager", "reason")


@bp.get("")
@roles_required(*READERS)
def index() -> ResponseReturnValue:
    """The filter form (GET: a filtered view has a URL) and one page of people by username."""
    built = services()
    values = {name: request.args.get(name, "") for name in FILTERS}
    try:
        flt = people_filter(values, _sources())
        cursor = PeopleCursor(_edge(request.args, "after"), _edge(request.args, "before"))
    except IdgovError as refused:
        return _index_page(values, None, refused, status=refused.status)
    with reading(built.sessions) as session:
        page = PeopleReader().page(session, flt, cursor)
        return _index_page(values, page, first=cursor == PeopleCursor())


@bp.get("/new")
@roles_required(*CREATORS)
def create_form() -> ResponseReturnValue:
    return _create_page({}, [])


@bp.post("/new")
@roles_required(*CREATORS)
def create() -> ResponseReturnValue:
    """Create a person as POST /api/v1/identities does; a refusal is shown on the form with
    its field, and nothing is created (a refused reuse of a username is audited and alerted,
    UNQ-1)."""
    built, form = services(), request.form
    roles = form.getlist("roles")
    try:
        reason = required_reason(form)
        with transaction(built.sessions) as session:
            new = NewIdentity(
                username=form.get("username", ""),
                printed_name=form.get("printed_name", ""),
                email=form.get("email", ""),
                manager_id=_manager_id(session, form),
                roles=tuple(roles),
            )
            person = built.identities.create(session, new, reason)
            person_id, name, username = person.id, person.printed_name, person.username
    except IdgovError as refused:
        return _create_page(form, roles, refused, status=refused.status)
    flash(
        f"{name} ({username}) is created, pending verification: another administrator or a "
        "security officer verifies who they are (IDV-1); you created them, so you cannot."
    )
    return redirect(url_for("person.show", identity_id=person_id))


def people_filter(values: Mapping[str, str], sources: tuple[str, ...]) -> PeopleFilter:
    """The filter the form asks for; InvalidRequest names the field that is wrong."""
    return PeopleFilter(
        text=plain_field(values, "q", TEXT_MAX),
        status=_choice(values, "status", STATUSES),
        source=_choice(values, "source", sources),
        role=_choice(values, "role", ROLES),
    )


def _choice(values: Mapping[str, str], field: str, allowed: tuple[str, ...]) -> str | None:
    chosen = plain_field(values, field, 100)
    if chosen is not None and chosen not in allowed:
        raise InvalidRequest(f"{field}: choose one of {', '.join(allowed)}", field=field)
    return chosen


def _edge(args: Mapping[str, str], name: str) -> str | None:
    """A page cursor: a username (the last or first of the neighbouring page)."""
    return plain_field(args, name, MAX_USERNAME)


def _manager_id(session: Session, form: Mapping[str, str]) -> str | None:
    """The manager named by username (people are chosen by what the list shows), or None."""
    typed = plain_field(form, "manager", MAX_USERNAME)
    if typed is None:
        return None
    try:
        username = normalize_username(typed)
    except InvalidRequest:
        username = None
    manager = None if username is None else services().identities.by_username(session, username)
    if manager is None:
        raise InvalidRequest(f"manager: nobody has the username {typed!r}", field="manager")
    return manager.id


def _sources() -> tuple[str, ...]:
    settings = services().settings
    return known_sources(settings.directories, settings.oidc)


def _index_page(
    values: dict[str, str],
    page: PeoplePage | None,
    error: IdgovError | None = None,
    status: int = 200,
    first: bool = False,
) -> Response:
    filters: dict[str, Any] = {name: value for name, value in values.items() if value}
    body = render_template(
        "people/index.html",
        form=values,
        page=page,
        first=first,
        error=error,
        error_field=None if error is None else error.extensions.get("field"),
        filters=filters,
        statuses=STATUSES,
        sources=_sources(),
        roles=ROLES,
        following=_link(filters, after=page.next_after) if page and page.next_after else None,
        preceding=(
            _link(filters, before=page.previous_before) if page and page.previous_before else None
        ),
        person_url=url_for("person.show", identity_id="0").removesuffix("0"),
    )
    return Response(body, status=status, mimetype="text/html")


def _link(filters: dict[str, Any], **cursor: str) -> str:
    return url_for("people.index", **{**filters, **cursor})


def _create_page(
    form: Mapping[str, str],
    chosen: list[str],
    error: IdgovError | None = None,
    status: int = 200,
) -> Response:
    body = render_template(
        "people/new.html",
        form={name: form.get(name, "") for name in FORM_FIELDS},
        chosen=chosen,
        roles=ROLES,
        error=error,
        error_field=None if error is None else error.extensions.get("field"),
    )
    return Response(body, status=status, mimetype="text/html")
