"""Authorization requests in flight: started with fresh state, nonce and PKCE verifier, bound to
the browser, and taken back exactly once by the callback (OIDC Core 1.0 3.1.2.1, RFC 6749 10.12)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from idgov.clock import Clock
from idgov.providers.oidc.claims import TokenRefused
from idgov.providers.oidc.models import OidcFlow

FLOW_MINUTES = 10
MAX_STATE = 64


@dataclass(frozen=True)
class FlowStart:
    """What a new flow is for: a sign-in (`next_url`) or a signing (request and signer)."""

    provider: str
    purpose: str  # "login" or "sign"
    next_url: str | None = None
    signing_request_id: str | None = None
    identity_id: str | None = None


@dataclass(frozen=True)
class TakenFlow:
    """A flow taken back by its callback (a snapshot: the row is marked used)."""

    state: str
    purpose: str
    nonce: str
    verifier: str
    started_at: datetime
    next_url: str | None
    signing_request_id: str | None
    identity_id: str | None


class FlowRefused(TokenRefused):
    """A callback refused for its flow; `flow` is that flow when it exists (so that the
    refusal is audited for the person and purpose it was started for)."""

    def __init__(self, reason: str, message: str, flow: TakenFlow | None = None) -> None:
        super().__init__(reason, message)
        self.flow = flow


def browser_hash(browser_secret: str) -> str:
    return hashlib.sha256(browser_secret.encode("utf-8")).hexdigest()


def new_browser_secret() -> str:
    return secrets.token_urlsafe(32)


class FlowStore:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def start(self, session: Session, start: FlowStart, browser_secret: str) -> OidcFlow:
        """A new flow with its own state, nonce (3.1.2.1) and PKCE verifier (RFC 7636 4.1)."""
        now = self._clock.now()
        flow = OidcFlow(
            state=secrets.token_urlsafe(32),
            provider=start.provider,
            purpose=start.purpose,
            nonce=secrets.token_urlsafe(32),
            verifier=secrets.token_urlsafe(64),
            browser_hash=browser_hash(browser_secret),
            next_url=start.next_url,
            signing_request_id=start.signing_request_id,
            identity_id=start.identity_id,
            created_at=now,
            expires_at=now + timedelta(minutes=FLOW_MINUTES),
        )
        session.add(flow)
        session.flush()
        return flow

    def take(
        self, session: Session, provider: str, state: object, browser_secret: str | None
    ) -> TakenFlow:
        """The flow this callback answers, marked used in the caller's transaction. Refused
        (TokenRefused): an unknown or used state (a replayed callback), another provider's,
        another browser's (login CSRF, RFC 6749 10.12), or an expired one."""
        if not isinstance(state, str) or not state or len(state) > MAX_STATE:
            raise FlowRefused("unknown-state", "this sign-in is unknown: start again")
        flow = session.get(OidcFlow, state, with_for_update=True, populate_existing=True)
        if flow is None or flow.provider != provider:
            raise FlowRefused("unknown-state", "this sign-in is unknown: start again")
        taken = TakenFlow(
            flow.state,
            flow.purpose,
            flow.nonce,
            flow.verifier,
            flow.created_at,
            flow.next_url,
            flow.signing_request_id,
            flow.identity_id,
        )
        if flow.used_at is not None:
            raise FlowRefused("replayed", "this sign-in was used already: start again", taken)
        if browser_secret is None or not secrets.compare_digest(
            flow.browser_hash, browser_hash(browser_secret)
        ):
            raise FlowRefused("other-browser", "this sign-in was started in another browser", taken)
        now = self._clock.now()
        flow.used_at = now
        if now >= flow.expires_at:
            raise FlowRefused("flow-expired", "this sign-in took too long: start again", taken)
        return taken
