"""JSON sign-in for people: POST/DELETE /api/v1/session and GET /api/v1/me (ACC-1, ACC-3)."""

from __future__ import annotations

from flask import Blueprint, Response
from pydantic import Field

from idgov.identity.models import Identity
from idgov.web.api.openapi import api_doc
from idgov.web.api.responses import json_response
from idgov.web.api.schemas import Schema
from idgov.web.auth import (
    allowed_before_password_change,
    clear_session_cookie,
    csrf_exempt,
    login_required,
    set_session_cookie,
    signed_in,
)
from idgov.web.profile import profile_of
from idgov.web.signin import MAX_PASSWORD, MAX_USERNAME, sign_in, sign_out

bp = Blueprint("api_session", __name__)


class LoginRequest(Schema):
    username: str = Field(min_length=1, max_length=MAX_USERNAME)
    password: str = Field(
        min_length=1, max_length=MAX_PASSWORD, json_schema_extra={"format": "password"}
    )


class IdentitySummary(Schema):
    id: str = Field(description="Stable identity id (never reassigned)")
    username: str
    printed_name: str
    roles: list[str]
    status: str


class SessionStarted(Schema):
    identity: IdentitySummary
    csrf_token: str = Field(
        description="Send it as the X-CSRF-Token header on every POST, PUT, PATCH and DELETE "
        "made with the session cookie"
    )
    must_change_password: bool = Field(
        description="True: only the password change and logout are reachable until it changes"
    )


class Me(Schema):
    identity: IdentitySummary
    must_change_password: bool
    verified: bool = Field(description="Identity verification recorded (IDV-1)")
    certified: bool = Field(description="Signature certification recorded (TRN-1)")
    signing_blockers: list[str] = Field(
        description="Why the person cannot sign yet, identity side; empty when nothing stops it"
    )


@bp.post("/api/v1/session")
@csrf_exempt  # a JSON body: a cross-site form cannot send one without a CORS preflight
@api_doc(
    summary="Sign a person in: sets the HttpOnly session cookie and returns the CSRF token",
    response=SessionStarted,
    body=LoginRequest,
    tags=["session"],
    errors=[401, 422, 423],
    status=201,
)
def login(body: LoginRequest) -> Response:
    signed = sign_in(body.username, body.password)
    answer = SessionStarted(
        identity=_summary(signed.identity, signed.roles),
        csrf_token=signed.started.csrf_token,
        must_change_password=signed.must_change_password,
    )
    response = json_response(answer, 201)
    set_session_cookie(response, signed.started.token)
    return response


@bp.delete("/api/v1/session")
@api_doc(
    summary="Sign out: ends the session of the cookie (needs X-CSRF-Token)",
    response=None,
    tags=["session"],
    errors=[401, 403],
    status=204,
)
@login_required
@allowed_before_password_change
def logout() -> Response:
    sign_out()
    response = Response(status=204)
    clear_session_cookie(response)
    return response


@bp.get("/api/v1/me")
@api_doc(
    summary="The signed-in person: identity, roles and what stops them from signing",
    response=Me,
    tags=["session"],
    errors=[401],
)
@login_required
@allowed_before_password_change  # read-only, about oneself: tells a client to change first
def me() -> Response:
    identity, web_session = signed_in()
    profile = profile_of(identity, web_session.must_change_password)
    answer = Me(
        identity=_summary(identity, profile.roles),
        must_change_password=profile.must_change_password,
        verified=profile.verified,
        certified=profile.certified,
        signing_blockers=profile.blockers,
    )
    return json_response(answer)


def _summary(identity: Identity, roles: list[str]) -> IdentitySummary:
    return IdentitySummary(
        id=identity.id,
        username=identity.username,
        printed_name=identity.printed_name,
        roles=roles,
        status=identity.status,
    )
