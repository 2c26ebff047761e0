"""POST /oauth/token: bearer tokens for host clients by client credentials (RFC 6749 s. 4.4)."""

# Written directly from RFC 6749 rather than with authlib's Flask AuthorizationServer, which
# did not fit: its Basic-credential parsing lets non-UTF-8 bytes raise (a 500 for some input),
# it raises InsecureTransportError outside its error handling for plain-http URLs (a 500 on a
# development server or a proxy without trusted_proxies), it reads parameters from the query
# string too (section 2.3.1 forbids secrets in the URI), and scope defaults, source binding
# (DEV-1) and audited refusals would have needed overriding most of it. The protocol is small.

from __future__ import annotations

import base64
import binascii
import re
from typing import Literal
from urllib.parse import unquote_plus

from flask import Blueprint, Response, json, request
from pydantic import Field
from sqlalchemy.exc import SQLAlchemyError

from idgov.clients.grants import TokenRefused, TokenRequest
from idgov.db import transaction
from idgov.errors import ServiceUnavailable
from idgov.web.api.openapi import api_doc
from idgov.web.api.schemas import Schema
from idgov.web.auth import csrf_exempt
from idgov.web.context import services

bp = Blueprint("oauth", __name__)
FORM = "application/x-www-form-urlencoded"
PARAMETERS = ("grant_type", "scope", "client_id", "client_secret")
MAX_VALUE = 512  # far above any real value; longer ones are refused as malformed
VSCHARS = re.compile(r"[\x20-\x7e]+")  # RFC 6749 Appendix A: VSCHAR = %x20-7E
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}  # RFC 6749 section 5.1


class TokenResponse(Schema):
    """RFC 6749 section 5.1."""

    access_token: str = Field(description="Send as `Authorization: Bearer <token>` (RFC 6750)")
    token_type: str = Field(description="Always Bearer")
    expires_in: int = Field(description="Seconds the token stays valid")
    scope: str = Field(description="Space-separated scopes the token carries")


class TokenForm(Schema):
    """RFC 6749 section 4.4.2, form-encoded; the client authenticates with Basic (section
    2.3.1) or with client_id and client_secret here (documentation only: parsed below)."""

    grant_type: Literal["client_credentials"]
    scope: str | None = Field(default=None, max_length=MAX_VALUE)
    client_id: str | None = Field(default=None, max_length=MAX_VALUE)
    client_secret: str | None = Field(default=None, max_length=MAX_VALUE)


class TokenError(Schema):
    """RFC 6749 section 5.2."""

    error: str
    error_description: str


@bp.post("/oauth/token")
@csrf_exempt  # the client authenticates in the request itself: nothing ambient to forge
@api_doc(
    summary="Token for a host client: form body grant_type=client_credentials[&scope=...], "
    "client_secret_basic or client_secret_post; errors are RFC 6749 section 5.2 JSON",
    response=TokenResponse,
    form=TokenForm,
    tags=["oauth"],
    errors=[400, 401],
    errors_as=("application/json", TokenError),
)
def token() -> Response:
    parsed = parse_token_request()
    built = services()
    try:
        with transaction(built.sessions) as session:
            issued = built.clients.exchange(session, parsed, request.remote_addr)
    except TokenRefused as refused:
        return token_error(refused)
    except SQLAlchemyError:
        raise ServiceUnavailable("database unreachable: no token can be issued") from None
    answer = TokenResponse(
        access_token=issued.access_token,
        token_type=issued.token_type,
        expires_in=issued.expires_in,
        scope=issued.scope,
    )
    return _json(200, answer.model_dump(), NO_STORE)


def parse_token_request() -> TokenRequest:
    """The parameters of an RFC 6749 section 4.4.2 request; `malformed` when the request
    breaks section 3.2 (form body, no repeats) or section 2.3 (one authentication method)."""
    if request.mimetype != FORM:
        return TokenRequest(None, None, None, None, f"the body must be {FORM}")
    form = request.form
    values: dict[str, str | None] = {}
    for name in PARAMETERS:
        given = form.getlist(name)
        if len(given) > 1:
            return TokenRequest(None, None, None, None, f"{name} is repeated")
        if given and len(given[0]) > MAX_VALUE:
            return TokenRequest(None, None, None, None, f"{name} is too long")
        if given and not VSCHARS.fullmatch(given[0]):
            # Appendix A: every parameter here is printable ASCII. This also keeps NUL and
            # control characters out of queries and audit values (PostgreSQL refuses NUL).
            return TokenRequest(None, None, None, None, f"{name} has characters not allowed")
        values[name] = given[0] if given and given[0] else None
    grant_type, scope = values["grant_type"], values["scope"]
    header = request.headers.get("Authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() != "basic":  # client_secret_post (section 2.3.1)
        return TokenRequest(values["client_id"], values["client_secret"], grant_type, scope)
    if values["client_secret"] is not None:
        malformed = "use one client authentication method, not Basic and client_secret"
        return TokenRequest(None, None, grant_type, scope, malformed)
    client_id, secret = basic_credentials(credentials)
    if values["client_id"] is not None and values["client_id"] != client_id:
        return TokenRequest(None, None, grant_type, scope, "client_id differs from Basic")
    return TokenRequest(client_id, secret, grant_type, scope)


def basic_credentials(encoded: str) -> tuple[str | None, str | None]:
    """client_secret_basic: id and secret, each form-urlencoded, then `id:secret` in Base64
    (RFC 6749 section 2.3.1, RFC 7617). Anything undecodable is (None, None)."""
    try:
        text = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):  # UnicodeDecodeError is a ValueError
        return None, None
    client_id, colon, secret = text.partition(":")
    if not colon or len(text) > 2 * MAX_VALUE:
        return None, None
    client_id, secret = unquote_plus(client_id), unquote_plus(secret)
    if not (VSCHARS.fullmatch(client_id) and VSCHARS.fullmatch(secret)):
        return None, None  # RFC 6749 Appendix A: client_id and client_secret are *VSCHAR
    return client_id, secret


def token_error(refused: TokenRefused) -> Response:
    """RFC 6749 section 5.2: `error` and `error_description` as JSON; 401 with a Basic
    challenge when client authentication failed."""
    headers = dict(NO_STORE)
    if refused.status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="idgov", charset="UTF-8"'
    body: dict[str, object] = {"error": refused.error, "error_description": refused.detail}
    return _json(refused.status, body, headers)


def _json(status: int, body: dict[str, object], headers: dict[str, str]) -> Response:
    return Response(json.dumps(body), status=status, headers=headers, mimetype="application/json")
