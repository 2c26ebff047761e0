"""HostAccess: change what a registered host may do (scopes) and where from (allowed
addresses), each audited with its reason (DEV-1, ACC-2, AUD-1, CHG-1)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from idgov.audit.trail import AuditTrail
from idgov.clients import rules
from idgov.clients.bearer import client_target
from idgov.clients.models import HostClient
from idgov.clients.services import revoke_live_tokens
from idgov.clock import Clock
from idgov.errors import Conflict, InvalidRequest


class HostAccess:
    """Changes to a host's scopes and allowed addresses. Works inside the caller's
    transaction; the caller passes the client locked (ClientRegistry.find(lock=True))."""

    def __init__(self, clock: Clock, trail: AuditTrail) -> None:
        self._clock = clock
        self._trail = trail

    def change_scopes(
        self, session: Session, client: HostClient, scopes: Iterable[str], *, reason: str
    ) -> tuple[list[str], int]:
        """Set the host's scopes; returns them and how many live tokens were revoked.

        A token carries the scopes it was issued with (bearer.py checks the token's own), so
        a scope taken away would outlive the change in the host's live tokens: when any scope
        is removed, those tokens are revoked at once and the host asks for new ones (ACC-2,
        fail closed). Adding scopes leaves them alone: they never held the new scope."""
        reason = _checked(client, reason)
        new, old = rules.check_scopes(scopes), rules.scope_list(client.scopes)
        if new == old:
            raise InvalidRequest("scopes: these are the host's scopes already", field="scopes")
        client.scopes = " ".join(new)
        now = self._clock.now()
        revoked = revoke_live_tokens(session, client.client_id, now) if set(old) - set(new) else 0
        self._trail.record(
            session,
            "client:scopes:changed",
            client_target(client.client_id),
            old={"scopes": old},
            new={"scopes": new, "revoked_tokens": revoked},
            reason=reason,
        )
        return new, revoked

    def change_networks(
        self, session: Session, client: HostClient, cidrs: Iterable[str], *, reason: str
    ) -> list[str]:
        """Set the networks the host may call from (none: any address). Every token use is
        checked against the client's networks as they are now (bearer.py), so the change
        applies to live tokens at once and nothing needs revoking (DEV-1)."""
        reason = _checked(client, reason)
        new = rules.check_networks(cidrs)
        old = [network for network in client.allowed_cidrs.split(",") if network]
        if new == old:
            raise InvalidRequest(
                "allowed_cidrs: these are the host's allowed addresses already",
                field="allowed_cidrs",
            )
        client.allowed_cidrs = ",".join(new)
        self._trail.record(
            session,
            "client:networks:changed",
            client_target(client.client_id),
            old={"allowed_cidrs": old},
            new={"allowed_cidrs": new},
            reason=reason,
        )
        return new


def _checked(client: HostClient, reason: str) -> str:
    if not reason.strip():
        raise InvalidRequest("reason: say why the host's access changes", field="reason")
    if client.disabled_at is not None:
        raise Conflict(f"host client {client.name!r} is disabled")
    return reason.strip()
