"""Refused sign-ins and signings through an OpenID provider: audited with their reason, then
raised as RecordedRefusals so that the event is kept (AUD-1, ACC-2)."""

from __future__ import annotations

from typing import NoReturn

from sqlalchemy.orm import Session

from idgov.audit.context import Target
from idgov.audit.trail import AuditTrail
from idgov.errors import FederatedRefusal, Locked
from idgov.identity.models import Identity
from idgov.providers.oidc.claims import TokenRefused, VerifiedLogin

LOCKED = "this account is locked after repeated failed attempts; a security officer must unlock it"
INACTIVE = "this account cannot sign in: ask your administrator"
NOT_LINKED = "you are not known to idgov yet: ask your administrator to link your account"


def refuse(
    trail: AuditTrail,
    session: Session,
    channel: str,
    identity: Identity | None,
    provider: str,
    reason: str,
    source: str | None,
    login: VerifiedLogin | None = None,
) -> NoReturn:
    """Audit a refused sign-in or signing with its reason, then raise (the event is kept)."""
    message = {"locked": LOCKED, "not-linked": NOT_LINKED}.get(reason, INACTIVE)
    refused = TokenRefused(reason, message)
    record_refusal(trail, session, channel, identity, provider, refused, source, login)


def record_refusal(
    trail: AuditTrail,
    session: Session,
    channel: str,
    identity: Identity | None,
    provider: str,
    refused: TokenRefused,
    source: str | None,
    login: VerifiedLogin | None = None,
    presented: str | None = None,
) -> NoReturn:
    """Audit the refusal with its reason and raise it (a RecordedRefusal: the event is kept)."""
    target = Target("identity", identity.id) if identity else Target("oidc-provider", provider)
    trail.record(
        session,
        f"auth:{channel}:failed",
        target,
        new={
            "method": "oidc",
            "provider": provider,
            "reason": refused.reason,
            "detail": refused.message,
            "source_address": source,
            **({"subject": login.subject, "issuer": login.issuer} if login else {}),
            **({"subject": presented} if presented and not login else {}),
        },
    )
    if refused.reason == "locked":
        raise Locked(refused.message, reason=refused.reason, recorded=True)
    raise FederatedRefusal(refused.message, reason=refused.reason)
