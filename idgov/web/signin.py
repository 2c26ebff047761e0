"""Signing people in and out, shared by the login page and the JSON session endpoints."""

from __future__ import annotations

from dataclasses import dataclass

from flask import g, request

from idgov.db import transaction
from idgov.errors import InvalidCredentials
from idgov.identity.models import Identity
from idgov.sessions.services import StartedSession
from idgov.web.auth import COOKIE, act_as, current_web_session
from idgov.web.context import services

MAX_USERNAME = 256
MAX_PASSWORD = 4096


@dataclass(frozen=True)
class SignedIn:
    identity: Identity
    roles: list[str]
    started: StartedSession
    must_change_password: bool


def sign_in(username: object, password: object) -> SignedIn:
    """Authenticate (InvalidCredentials 401 / Locked 423 go on up, recorded), then
    start a session. A session the browser already had is ended first: a login never keeps
    an old token alive (session fixation)."""
    source = request.remote_addr
    result = services().auth.authenticate(username, password, channel="login", source=source)
    return start_session(result.identity_id, result.credential.must_change)


def start_session(identity_id: str, must_change: bool = False) -> SignedIn:
    """A new session for an authenticated identity (by password or at an OpenID provider),
    ending the one this browser had."""
    built = services()
    source = request.remote_addr
    with transaction(built.sessions) as session:
        identity = built.identities.get(session, identity_id)
        act_as(identity)
        old_token = request.cookies.get(COOKIE)
        if old_token:
            built.web_sessions.end(session, old_token)
        started = built.web_sessions.start(
            session, identity.id, source, must_change_password=must_change
        )
        roles = sorted(built.identities.roles(session, identity.id))
    g.identity = identity
    return SignedIn(identity, roles, started, must_change)


def sign_out() -> bool:
    """End this request's session; False when there was none."""
    web_session = current_web_session()
    token = request.cookies.get(COOKIE)
    if web_session is None or not token:
        return False
    with transaction(services().sessions) as session:
        return services().web_sessions.end(session, token)


def change_password(identity_id: str, current: object, new: object) -> StartedSession:
    """The person's own password change, then every session of theirs is revoked (ACC-3),
    this one included, and they carry on in a fresh session with a new token: one
    transaction, so a refused change revokes nothing."""
    built = services()
    with built.sessions() as session:
        username = built.identities.get(session, identity_id).username
    # The current password is checked through the lockout path first, so that the change form
    # cannot be used to guess a password without counting toward the lock (LOCK-1).
    try:
        built.auth.authenticate(
            username, current, channel="password-change", source=request.remote_addr
        )
    except InvalidCredentials:
        raise InvalidCredentials("the current password is not correct") from None
    with transaction(built.sessions) as session:
        identity = built.identities.get(session, identity_id)
        if identity.provider == "local":
            built.passwords.change(session, identity, current, new)
        else:
            assert isinstance(current, str)  # authenticated just above
            built.directory_passwords.change(session, identity, current, new)
        # LocalPasswords revokes too when wired with the session service; a second call finds
        # nothing left and records nothing.
        built.web_sessions.revoke_all(session, identity.id, "password-change")
        return built.web_sessions.start(session, identity.id, request.remote_addr)
