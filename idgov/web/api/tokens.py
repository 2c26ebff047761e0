"""The person's own TOTP tokens (/api/v1/me/tokens): enroll, activate, test, list (TOK-1)."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Response
from pydantic import Field

from idgov.clock import iso_utc
from idgov.db import transaction
from idgov.tokens.models import OtpToken
from idgov.tokens.services import MAX_LABEL, overdue
from idgov.web.api.openapi import api_doc
from idgov.web.api.responses import json_response
from idgov.web.api.schemas import Schema, iso_or_none
from idgov.web.auth import login_required, signed_in
from idgov.web.context import services

bp = Blueprint("api_tokens", __name__, url_prefix="/api/v1/me/tokens")
CODE_PATTERN = r"^[0-9]{6,8}$"


class EnrollmentIn(Schema):
    label: str = Field(min_length=1, max_length=MAX_LABEL, description="e.g. 'phone'")


class CodeIn(Schema):
    code: str = Field(pattern=CODE_PATTERN, description="The token's current one-time code")


class TokenOut(Schema):
    id: str
    label: str
    serial: str
    status: str = Field(description="enrolling, active, suspended, disabled or replaced")
    created_at: str
    activated_at: str | None
    test_due_at: str | None = Field(description="TOK-1: when the next periodic test is due")
    last_tested_at: str | None
    test_overdue: bool = Field(description="True: this token cannot sign until a test passes")
    failed_tests: int

    @classmethod
    def of(cls, token: OtpToken, now: datetime) -> TokenOut:
        return cls(
            id=token.id,
            label=token.label,
            serial=token.serial,
            status=token.status,
            created_at=iso_utc(token.created_at),
            activated_at=iso_or_none(token.activated_at),
            test_due_at=iso_or_none(token.test_due_at),
            last_tested_at=iso_or_none(token.last_tested_at),
            test_overdue=token.status == "active" and overdue(token, now),
            failed_tests=token.failed_tests,
        )


class EnrollmentOut(Schema):
    token: TokenOut
    otpauth_uri: str = Field(description="Holds the secret: shown once, never again")
    qr_svg: str = Field(description="The otpauth URI as a QR code (SVG)")


class TokenList(Schema):
    tokens: list[TokenOut]


class TokenTestOut(Schema):
    token: TokenOut
    result: str = Field(description="pass or fail; both are recorded")
    drift_steps: int | None = Field(description="Observed clock drift in 30-second steps")
    suspended: bool = Field(description="True: this failure suspended the token")


@bp.get("")
@login_required
@api_doc(
    summary="My tokens (never their secrets)", response=TokenList, tags=["tokens"], errors=[401]
)
def list_tokens() -> Response:
    built = services()
    with built.sessions() as session:
        found = built.tokens.list_tokens(session, signed_in()[0])
        now = built.clock.now()
        return json_response(TokenList(tokens=[TokenOut.of(t, now) for t in found]))


@bp.post("")
@login_required
@api_doc(
    summary="Start enrolling a TOTP token: returns its otpauth URI and QR code, once",
    response=EnrollmentOut,
    body=EnrollmentIn,
    tags=["tokens"],
    errors=[401, 403, 409, 422, 503],
    status=201,
)
def begin(body: EnrollmentIn) -> Response:
    built = services()
    with transaction(built.sessions) as session:
        token, uri, svg = built.tokens.begin_enrollment(session, signed_in()[0], body.label)
        out = EnrollmentOut(
            token=TokenOut.of(token, built.clock.now()), otpauth_uri=uri, qr_svg=svg
        )
    return json_response(out, 201)


@bp.post("/<id:token_id>/activation")
@login_required
@api_doc(
    summary="Complete enrollment with a valid code (the initial test); 422 on a wrong code",
    response=TokenOut,
    body=CodeIn,
    tags=["tokens"],
    errors=[401, 403, 404, 409, 422, 503],
)
def activate(token_id: str, body: CodeIn) -> Response:
    built = services()
    with transaction(built.sessions) as session:
        token = built.tokens.complete_enrollment(session, signed_in()[0], token_id, body.code)
        out = TokenOut.of(token, built.clock.now())
    return json_response(out)


@bp.post("/<id:token_id>/tests")
@login_required
@api_doc(
    summary="Periodic test (TOK-1): the result, pass or fail, is recorded and returned",
    response=TokenTestOut,
    body=CodeIn,
    tags=["tokens"],
    errors=[401, 403, 404, 409, 422, 503],
    status=201,
)
def test(token_id: str, body: CodeIn) -> Response:
    built = services()
    with transaction(built.sessions) as session:
        done = built.tokens.test(session, signed_in()[0], token_id, body.code)
        out = TokenTestOut(
            token=TokenOut.of(done.token, built.clock.now()),
            result=done.result,
            drift_steps=done.drift,
            suspended=done.suspended,
        )
    return json_response(out, 201)
