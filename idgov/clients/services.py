"""ClientRegistry: register host clients, rotate and disable them, issue and check tokens."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import NoReturn

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from idgov.audit.trail import AuditTrail
from idgov.clients import rules
from idgov.clients.bearer import MAX_ID_AUDITED, BearerChecks, client_actor, client_target
from idgov.clients.grants import (
    GRANT_TYPE,
    TOKEN_LIFETIME_SECONDS,
    IssuedToken,
    TokenError,
    TokenRefused,
    TokenRequest,
)
from idgov.clients.guessing import TokenGuessing
from idgov.clients.models import INTERNAL_CLIENT_IDS, HostAccessToken, HostClient
from idgov.clients.return_urls import check_return_urls, stored
from idgov.clock import Clock, iso_utc
from idgov.errors import Conflict, NotFound

MAX_SECRET_LENGTH = 128


class ClientRegistry(BearerChecks):
    """Host systems registered as OAuth 2.0 confidential clients (DEV-1). Every method works
    inside the caller's transaction; secrets and tokens are stored as SHA-256 digests only."""

    def __init__(self, clock: Clock, trail: AuditTrail, guessing: TokenGuessing) -> None:
        self._clock = clock
        self._trail = trail
        self._guessing = guessing

    # --- registration -----------------------------------------------------------------------

    def add(
        self,
        session: Session,
        name: str,
        scopes: Iterable[str],
        allowed_cidrs: Iterable[str] = (),
        *,
        return_urls: Iterable[str] = (),
        reason: str | None = None,
    ) -> tuple[HostClient, str]:
        """Register a host; returns it and its secret, which exists nowhere else afterwards."""
        name = rules.check_name(name)
        granted, networks = rules.check_scopes(scopes), rules.check_networks(allowed_cidrs)
        returns = check_return_urls(return_urls)
        taken = select(HostClient.client_id).where(func.lower(HostClient.name) == name.lower())
        if session.scalar(taken) is not None:
            raise Conflict(f"name: a host client named {name!r} exists already", field="name")
        secret, now = secrets.token_urlsafe(32), self._clock.now()
        client = HostClient(
            client_id="cl_" + secrets.token_urlsafe(12),
            name=name,
            secret_hash=rules.digest(secret),
            scopes=" ".join(granted),
            allowed_cidrs=",".join(networks),
            return_urls=stored(returns),
            created_at=now,
            secret_rotated_at=now,
            disabled_at=None,
        )
        session.add(client)
        session.flush()
        self._trail.record(
            session,
            "client:host:registered",
            client_target(client.client_id),
            new={
                "name": name,
                "scopes": granted,
                "allowed_cidrs": networks,
                "return_urls": returns,
            },
            reason=reason,
        )
        return client, secret

    def list(self, session: Session) -> list[HostClient]:
        """Registered hosts, without the rows idgov signs for itself (review sign-offs)."""
        return list(
            session.scalars(
                select(HostClient)
                .where(HostClient.client_id.not_in(INTERNAL_CLIENT_IDS))
                .order_by(HostClient.created_at)
            )
        )

    def find(self, session: Session, name_or_id: str, *, lock: bool = False) -> HostClient:
        """By client_id or by name; NotFound otherwise."""
        query = select(HostClient).where(
            or_(HostClient.client_id == name_or_id, HostClient.name == name_or_id)
        )
        found = session.scalar(query.with_for_update() if lock else query)
        if found is None:
            raise NotFound(f"no host client {name_or_id[:100]!r}")
        return found

    def rotate_secret(
        self, session: Session, name_or_id: str, *, reason: str | None = None
    ) -> tuple[HostClient, str]:
        """A new secret; the old one stops working at once and live tokens are revoked, since
        a rotation usually means the old secret may be known to someone else."""
        client = self._active(session, name_or_id)
        secret, now = secrets.token_urlsafe(32), self._clock.now()
        old = iso_utc(client.secret_rotated_at)
        client.secret_hash, client.secret_rotated_at = rules.digest(secret), now
        revoked = revoke_live_tokens(session, client.client_id, now)
        self._trail.record(
            session,
            "client:secret:rotated",
            client_target(client.client_id),
            old={"secret_rotated_at": old},
            new={"secret_rotated_at": iso_utc(now), "revoked_tokens": revoked},
            reason=reason,
        )
        return client, secret

    def disable(self, session: Session, name_or_id: str, *, reason: str) -> HostClient:
        """The client can get no token and its live tokens stop working (REC-1: never
        deleted; its signatures keep naming it)."""
        client = self._active(session, name_or_id)
        now = self._clock.now()
        client.disabled_at = now
        revoked = revoke_live_tokens(session, client.client_id, now)
        self._trail.record(
            session,
            "client:host:disabled",
            client_target(client.client_id),
            old={"disabled_at": None},
            new={"disabled_at": iso_utc(now), "revoked_tokens": revoked},
            reason=reason,
        )
        return client

    def authenticate(self, session: Session, client_id: str, secret: str) -> HostClient | None:
        """The enabled client whose secret this is, or None (RFC 6749 section 2.3.1)."""
        return self._credentials(session, client_id, secret)[0]

    # --- tokens (RFC 6749 section 4.4) ------------------------------------------------------

    def exchange(self, session: Session, request: TokenRequest, source: str | None) -> IssuedToken:
        """The token endpoint: checks the request, authenticates the client and issues a
        token; each refusal is audited (`client:token:refused`) and raised as TokenRefused."""
        claimed = request.client_id
        if request.malformed:
            self._refuse(session, claimed, None, "invalid_request", request.malformed)
        if not request.grant_type:
            self._refuse(session, claimed, None, "invalid_request", "grant_type is required")
        if request.grant_type != GRANT_TYPE:
            self._refuse(
                session,
                claimed,
                None,
                "unsupported_grant_type",
                "only grant_type=client_credentials is supported",
            )
        client, why = self._credentials(session, claimed, request.client_secret)
        if client is None:
            # The host hears only that authentication failed; the trail says why: in the
            # source's aggregate when anonymous refusals are aggregated (finding 3).
            counted = self._guessing.record(session, claimed, why, source)
            if counted.aggregated:
                raise TokenRefused("invalid_client", "client authentication failed")
            claimed = counted.name  # an unknown id only as its pseudonym (finding 7)
            self._refuse(
                session,
                claimed,
                None,
                "invalid_client",
                "client authentication failed",
                audit_reason=f"client authentication failed: {why}",
            )
        wanted = (request.scope or "").split()
        granted = wanted or rules.scope_list(client.scopes)
        token, expires_in = self.issue_token(session, client, granted, source)
        return IssuedToken(token, expires_in, " ".join(sorted(set(granted))))

    def issue_token(
        self,
        session: Session,
        client: HostClient,
        scopes_requested: Iterable[str],
        source: str | None,
    ) -> tuple[str, int]:
        """An opaque bearer token for `client`, stored hashed, valid TOKEN_LIFETIME_SECONDS.
        Refused (TokenRefused, audited) for a disabled client, a source address outside its
        networks (DEV-1) or a scope it does not hold."""
        wanted = sorted(set(scopes_requested))
        # The row lock orders this after a concurrent disable or rotation (PostgreSQL).
        client = (
            session.get(HostClient, client.client_id, with_for_update=True, populate_existing=True)
            or client
        )
        if client.disabled_at is not None:
            self._refuse(
                session, client.client_id, None, "invalid_client", "the client is disabled"
            )
        if not rules.source_allowed(client.allowed_cidrs, source):
            self._refuse(
                session,
                client.client_id,
                client,
                "unauthorized_client",
                "this client may not request tokens from this address",
                audit_reason="source address not allowed for this client (DEV-1)",
            )
        held = set(rules.scope_list(client.scopes))
        if not wanted or not held.issuperset(wanted):
            self._refuse(
                session,
                client.client_id,
                client,
                "invalid_scope",
                f"this client may request only: {' '.join(sorted(held))}",
                requested=wanted,
            )
        token, now = secrets.token_urlsafe(32), self._clock.now()
        hashed, expires_at = rules.digest(token), now + timedelta(seconds=TOKEN_LIFETIME_SECONDS)
        session.add(
            HostAccessToken(
                token_hash=hashed,
                client_id=client.client_id,
                scopes=" ".join(wanted),
                issued_at=now,
                expires_at=expires_at,
                revoked_at=None,
            )
        )
        self._trail.record(
            session,
            "client:token:issued",
            client_target(client.client_id),
            new={"token_ref": hashed[:16], "scopes": wanted, "expires_at": iso_utc(expires_at)},
            actor=client_actor(client),
        )
        return token, TOKEN_LIFETIME_SECONDS

    # --- internals --------------------------------------------------------------------------

    def _active(self, session: Session, name_or_id: str) -> HostClient:
        client = self.find(session, name_or_id, lock=True)
        if client.disabled_at is not None:
            raise Conflict(f"host client {client.name!r} is disabled")
        return client

    def _credentials(
        self, session: Session, client_id: str | None, secret: str | None
    ) -> tuple[HostClient | None, str]:
        """The enabled client these credentials authenticate, or None and why not."""
        if not client_id or not secret:
            return None, "no client credentials"
        if len(client_id) > MAX_ID_AUDITED or rules.printable(client_id) != client_id:
            return None, "unknown client"  # not ours: ids are 19 printable characters
        if len(secret) > MAX_SECRET_LENGTH:
            return None, "wrong secret"  # ours are 43 characters
        client = session.get(HostClient, client_id)
        if client is None:
            return None, "unknown client"
        if client.disabled_at is not None:
            return None, "client disabled"
        if not rules.digest_matches(secret, client.secret_hash):
            return None, "wrong secret"
        return client, ""

    def _refuse(
        self,
        session: Session,
        client_id: str | None,
        client: HostClient | None,
        error: TokenError,
        detail: str,
        *,
        audit_reason: str | None = None,
        requested: Sequence[str] | None = None,
    ) -> NoReturn:
        audited: dict[str, object] = {
            "error": error,
            "client_id": rules.printable(client_id or "")[:MAX_ID_AUDITED] or None,
        }
        if requested is not None:
            audited["requested_scopes"] = [rules.printable(s)[:100] for s in requested[:20]]
        self._trail.record(
            session,
            "client:token:refused",
            client_target(client_id),
            new=audited,
            reason=audit_reason or detail,
            actor=client_actor(client) if client else None,
        )
        raise TokenRefused(error, detail)


def revoke_live_tokens(session: Session, client_id: str, now: datetime) -> int:
    """Revoke the client's unexpired tokens; how many were live."""
    live = (
        update(HostAccessToken)
        .where(HostAccessToken.client_id == client_id)
        .where(HostAccessToken.revoked_at.is_(None))
        .where(HostAccessToken.expires_at > now)
        .values(revoked_at=now)
    )
    return int(session.execute(live).rowcount)  # type: ignore[attr-defined]
