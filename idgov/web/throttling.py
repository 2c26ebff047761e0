"""Request throttles on sign-in, signing, the ceremony and the token endpoint (Flask-Limiter).

NIST SP 800-63B-4 section 3.2.2 asks for rate limiting of failed authentication attempts (at
most 100 consecutive failures per account); LOCK-1 locks far earlier (5 by default), and these
throttles slow what the lock cannot: a guesser spreading attempts over many usernames from one
address (per source) and a distributed guesser aiming at one account from many addresses (per
account: the submitted username, the OAuth client id). Each limit is a moving window kept in
the configured storage: memory:// in one process, Redis when several workers must share the
counts. A refused request is answered 429 before the view runs, so it reaches neither password
hashing nor the directory, and nothing is counted or recorded (RFC 6585 section 4).
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, Response, current_app, render_template, request
from flask_limiter import Limit, Limiter, RateLimitExceeded
from limits.errors import StorageError

from idgov.config import ThrottlingSettings
from idgov.errors import ServiceUnavailable, TooManyRequests
from idgov.providers.hashing import limit_concurrent_hashes
from idgov.web.oauth import basic_credentials
from idgov.web.problems import problem_response, wants_page

log = logging.getLogger("idgov.throttling")
STORAGE_DOWN_RETRY = 5  # seconds; a storage outage is not expected to last less
MAX_KEYED_NAME = 512


@dataclass(frozen=True)
class Throttle:
    """One throttled group of endpoints: where its account key comes from."""

    name: str  # the buckets' scope: endpoints of one group share them
    account: Callable[[], str]
    source_limit: str  # the [throttling] settings holding its limits
    account_limit: str


def _form_or_json(field: str) -> object:
    if request.mimetype == "application/json":
        body = request.get_json(silent=True)
        return body.get(field) if isinstance(body, dict) else None
    return request.form.get(field)


def account_key(raw: object) -> str:
    """The submitted name as the lookup would see it (NFKC, trimmed, case-folded), digested:
    "JDoe" and "jdoe " share one bucket, and a password typed into the username field never
    reaches the throttle storage in clear. Empty when nothing usable was submitted."""
    if not isinstance(raw, str) or not raw.strip() or len(raw) > MAX_KEYED_NAME:
        return ""
    folded = unicodedata.normalize("NFKC", raw).strip().casefold()
    return hashlib.sha256(folded.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _username() -> str:
    return account_key(_form_or_json("username"))


def _ceremony_signer() -> str:
    # The page's username field, or the signing request itself when the form has none (a
    # person already signed in, or the OpenID step): one request, one signer.
    named = _username()
    if named:
        return named
    request_id = (request.view_args or {}).get("request_id")
    return account_key(f"request:{request_id}") if request_id else ""


def _bearer_client() -> str:
    # Creating signing requests: per host credential (the bearer token, digested).
    header = request.headers.get("Authorization", "")
    return account_key("bearer:" + header) if header else ""


def _token_client() -> str:
    # RFC 6749 section 2.3.1: client_secret_basic or client_secret_post.
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "basic":
        client_id, _secret = basic_credentials(encoded)
        return account_key(client_id)
    return account_key(request.form.get("client_id"))


SIGNIN = Throttle("signin", _username, "signin_per_source", "signin_per_account")
SIGNING = Throttle("signing", _username, "signing_per_source", "signing_per_account")
CEREMONY = Throttle("ceremony", _ceremony_signer, "ceremony_per_source", "ceremony_per_account")
# Hosts create signing requests from their server's address, as they sign: the host limit.
CEREMONY_HOST = Throttle(
    "ceremony-host", _bearer_client, "signing_per_source", "ceremony_per_account"
)
TOKEN = Throttle("token", _token_client, "token_per_source", "token_per_client")
# Endpoint names (blueprint.view) and the throttle each belongs to; only these are limited.
THROTTLED: dict[str, Throttle] = {
    "login.submit": SIGNIN,
    "api_session.login": SIGNIN,
    "api_signing.sign": SIGNING,
    "ceremony.sign": CEREMONY,
    "oidc.sign": CEREMONY,
    "api_signing_requests.create": CEREMONY_HOST,
    "oauth.token": TOKEN,
}


def _throttle() -> Throttle | None:
    return THROTTLED.get(request.endpoint or "")


def source_key() -> str:
    """The client address (X-Forwarded-For only through `server.trusted_proxies`)."""
    return request.remote_addr or "unknown"


def register_throttling(app: Flask, settings: ThrottlingSettings) -> Limiter | None:
    """Throttle the endpoints in THROTTLED and size the process's password-hash gate. Call
    before the session lookup is registered, so a throttled request costs no database work."""
    limit_concurrent_hashes(settings.max_concurrent_hashes, settings.hash_wait_seconds)
    if not settings.enabled:
        return None

    def limit_of(kind: str) -> Callable[[], str]:
        def provider() -> str:
            throttle = _throttle()
            if throttle is None:
                return ""  # no limit: only the endpoints in THROTTLED are limited
            setting = throttle.account_limit if kind == "account" else throttle.source_limit
            limit: str = getattr(settings, setting)
            return limit

        return provider

    def account() -> str:
        throttle = _throttle()
        return throttle.account() if throttle else ""

    def shared_scope(kind: str) -> Callable[[str], str]:
        # Shared by every endpoint of the group: guesses through the login page and through
        # POST /api/v1/session drain one bucket.
        def scope(_endpoint: str) -> str:
            throttle = _throttle()
            return f"{throttle.name}:{kind}" if throttle else kind

        return scope

    limiter = Limiter(
        source_key,
        default_limits=[
            Limit(
                limit_of("source"),
                key_function=source_key,
                scope=shared_scope("source"),
                shared=True,
            ),
            Limit(
                limit_of("account"),
                key_function=account,
                scope=shared_scope("account"),
                shared=True,
                exempt_when=lambda: not account(),
            ),
        ],
        storage_uri=settings.storage_uri,
        storage_options=_storage_options(settings.storage_uri),
        strategy="moving-window",
        headers_enabled=False,  # Retry-After is set on the refusal itself, below
        swallow_errors=False,  # a storage failure is answered, never ignored (fail closed)
        key_prefix="idgov",
    )
    limiter.init_app(app)
    app.extensions["idgov_limiter"] = limiter
    app.register_error_handler(RateLimitExceeded, _throttled)
    app.register_error_handler(StorageError, _storage_down)
    return limiter


def _storage_options(uri: str) -> dict[str, str | int]:
    options: dict[str, str | int] = {"wrap_exceptions": True}  # StorageError, handled below
    if not uri.startswith("memory://"):
        # An unreachable Redis must be noticed at once, not hang every sign-in; a busy one
        # gets a few seconds to answer before its refusal counts as an outage.
        options.update(socket_connect_timeout=1, socket_timeout=3)
    return options


def _retry_after(error: RateLimitExceeded) -> int:
    limiter: Limiter = current_app.extensions["idgov_limiter"]
    window = error.limit.limit.get_expiry()
    try:
        hit = limiter.current_limit
        reset_at = hit.reset_at if hit is not None else time.time() + window
    except StorageError:
        reset_at = time.time() + window
    return max(1, min(window, math.ceil(reset_at - time.time())))


def _throttled(error: RateLimitExceeded) -> Response:
    refusal = TooManyRequests(
        "too many attempts: nothing was checked or counted; try again after the time in "
        "Retry-After",
        retry_after=_retry_after(error),
    )
    if wants_page():
        page = render_template("error.html", title="Too many attempts", detail=refusal.detail)
        response = Response(page, status=refusal.status, mimetype="text/html")
    else:
        response = problem_response(refusal.to_problem(request.path), refusal.status)
    response.headers["Retry-After"] = str(refusal.retry_after)  # RFC 9110 section 10.2.3
    return response


def _storage_down(error: StorageError) -> Response:
    # Fail closed: without its counts a throttle cannot tell a guesser from a person, and the
    # throttled endpoints are exactly the ones that check secrets. Logged loudly for operators.
    log.error(
        "throttle storage unreachable; refusing %s %s with 503: %s",
        request.method,
        request.path,
        error,
    )
    refusal = ServiceUnavailable(
        "request throttling is unavailable: nothing was checked; try again shortly",
        retry_after=STORAGE_DOWN_RETRY,
        reason="throttle-storage-unavailable",
    )
    response = problem_response(refusal.to_problem(request.path), refusal.status)
    response.headers["Retry-After"] = str(STORAGE_DOWN_RETRY)
    return response
