"""What a token request asks for, what it gets, and how host requests are refused."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from idgov.clients.models import HostClient
from idgov.errors import RecordedRefusal

TOKEN_LIFETIME_SECONDS = 300  # short-lived: a leaked token is useless within minutes
GRANT_TYPE = "client_credentials"  # the only grant a host may use (RFC 6749 section 4.4)
TokenError = Literal[
    "invalid_request",
    "invalid_client",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
]
BearerRefusal = Literal["invalid_token", "insufficient_scope", "source_not_allowed"]


@dataclass(frozen=True)
class TokenRequest:
    """A parsed token-endpoint request (RFC 6749 section 4.4.2). `malformed` says what is
    wrong with it when it cannot be processed at all (it becomes invalid_request)."""

    client_id: str | None
    client_secret: str | None
    grant_type: str | None
    scope: str | None
    malformed: str | None = None


@dataclass(frozen=True)
class IssuedToken:
    """The RFC 6749 section 5.1 answer; `access_token` goes to the host only."""

    access_token: str
    expires_in: int
    scope: str
    token_type: str = "Bearer"  # noqa: S105 - the RFC 6750 token type, not a secret


@dataclass(frozen=True)
class HostGrant:
    """A live bearer token: whose it is and what it allows."""

    client: HostClient
    scopes: frozenset[str]


@dataclass(frozen=True)
class BearerVerdict:
    """A read-only look at a bearer token: `grant` when it may be used, else `refusal` with
    the reason audited, and the client when the token named one."""

    grant: HostGrant | None
    refusal: BearerRefusal | None = None
    reason: str = ""
    client: HostClient | None = None


class TokenRefused(RecordedRefusal):
    """A refused token request, answered as RFC 6749 section 5.2 JSON (not problem+json). The
    audit event `client:token:refused` is committed before it goes up."""

    type_slug = "invalid-request"
    title = "Token request refused"

    def __init__(self, error: TokenError, detail: str) -> None:
        super().__init__(detail, error=error)
        self.error = error
        # RFC 6749 section 5.2: 400 unless specified; failed client authentication is 401
        # with a WWW-Authenticate challenge (section 2.3.1).
        self.status = 401 if error == "invalid_client" else 400


class BearerRefused(RecordedRefusal):
    """A host API call refused (ACC-2); `challenge` is its WWW-Authenticate value, if any
    (RFC 6750 section 3)."""

    challenge: str | None = None


class InvalidBearerToken(BearerRefused):
    type_slug = "unauthenticated"
    title = "Authentication required"
    status = 401


class InsufficientScope(BearerRefused):
    type_slug = "forbidden"
    title = "Not allowed"
    status = 403


class SourceNotAllowed(BearerRefused):
    type_slug = "forbidden"
    title = "Not allowed"
    status = 403
