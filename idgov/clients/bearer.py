"""Bearer tokens on host API calls: look them up, and record and raise refusals (RFC 6750)."""

from __future__ import annotations

from typing import NoReturn

from sqlalchemy.orm import Session

from idgov.audit.context import Actor, Target, audited_path
from idgov.audit.trail import AuditTrail
from idgov.clients import rules
from idgov.clients.grants import (
    BearerRefused,
    BearerVerdict,
    HostGrant,
    InsufficientScope,
    InvalidBearerToken,
    SourceNotAllowed,
)
from idgov.clients.models import HostAccessToken, HostClient
from idgov.clock import Clock
from idgov.identity.access import operation_slug

MAX_TOKEN_LENGTH = 128  # token_urlsafe(32) is 43 characters; anything longer is not ours
MAX_ID_AUDITED = 64


def client_actor(client: HostClient) -> Actor:
    """Audit events of a host's request name the host client as the actor (AUD-1)."""
    return Actor("client", client.client_id, client.name)


def client_target(client_id: str | None) -> Target:
    return Target("host-client", rules.printable(client_id or "unknown")[:MAX_ID_AUDITED])


class BearerChecks:
    """The bearer-token half of ClientRegistry (mixed in there)."""

    _clock: Clock
    _trail: AuditTrail

    def check_bearer(
        self, session: Session, token: str, scope: str | None, source: str | None
    ) -> BearerVerdict:
        """Read-only: may `token` be used from `source` for `scope` (None: any scope)?"""
        row = None
        if 0 < len(token) <= MAX_TOKEN_LENGTH:
            row = session.get(HostAccessToken, rules.digest(token))
        if row is None:
            return BearerVerdict(None, "invalid_token", "unknown token")
        client = session.get(HostClient, row.client_id)
        assert client is not None  # a foreign key
        if row.revoked_at is not None or client.disabled_at is not None:
            return BearerVerdict(None, "invalid_token", "revoked token", client)
        if self._clock.now() >= row.expires_at:
            return BearerVerdict(None, "invalid_token", "expired token", client)
        if not rules.source_allowed(client.allowed_cidrs, source):
            reason = "source address not allowed for this client (DEV-1)"
            return BearerVerdict(None, "source_not_allowed", reason, client)
        scopes = frozenset(rules.scope_list(row.scopes))
        if scope is not None and scope not in scopes:
            return BearerVerdict(None, "insufficient_scope", f"token lacks scope {scope}", client)
        return BearerVerdict(HostGrant(client, scopes))

    def refuse_bearer(
        self,
        session: Session,
        verdict: BearerVerdict,
        *,
        scope: str | None,
        operation: str,
        path: str,
        method: str,
    ) -> NoReturn:
        """Record `access:<operation>:refused` (ACC-2) and raise the matching BearerRefused,
        which `db.transaction` commits before it goes on up."""
        client = verdict.client
        self._trail.record(
            session,
            f"access:{operation_slug(operation)}:refused",
            client_target(client.client_id if client else None),
            new={
                "operation": operation,
                "method": method,
                "path": audited_path(path),
                "client_id": client.client_id if client else None,
                "required_scope": scope,
                "refusal": verdict.refusal,
            },
            reason=verdict.reason,
            actor=client_actor(client) if client else None,
        )
        raise _bearer_error(verdict, scope)

    def resolve_token(
        self, session: Session, token: str, source: str | None, *, operation: str = "api"
    ) -> HostGrant | None:
        """The grant of a live token, or None (unknown, expired, revoked). A token used from
        an address its client is not bound to is refused and audited (DEV-1)."""
        verdict = self.check_bearer(session, token, None, source)
        if verdict.refusal == "source_not_allowed":
            self.refuse_bearer(
                session, verdict, scope=None, operation=operation, path="", method=""
            )
        return verdict.grant


def _bearer_error(verdict: BearerVerdict, scope: str | None) -> BearerRefused:
    # RFC 6750 section 3.1: invalid_token is 401, insufficient_scope is 403 naming the scope.
    error: BearerRefused
    if verdict.refusal == "insufficient_scope":
        error = InsufficientScope(f"this needs the scope {scope}", required_scope=scope)
        error.challenge = f'Bearer realm="idgov", error="insufficient_scope", scope="{scope}"'
    elif verdict.refusal == "source_not_allowed":
        error = SourceNotAllowed("this client may not call from this address", reason="source")
    else:
        error = InvalidBearerToken("the access token is invalid, expired or revoked")
        error.challenge = 'Bearer realm="idgov", error="invalid_token"'
    return error
