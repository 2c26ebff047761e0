"""OidcFederation: send people to their OpenID provider and take them back, verified.

The flow: `begin` stores a flow (state, nonce, PKCE verifier, browser binding) and answers the
provider's authorization URL; `returned` takes the flow back once, exchanges the code and
verifies the ID token's signature. What the claims must show is decided by the caller (a
sign-in here, a signing in the ceremony) through claims.check_claims."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from idgov.audit.trail import AuditTrail
from idgov.clock import Clock
from idgov.db import transaction
from idgov.errors import NotFound, ProviderUnavailable
from idgov.identity.models import Identity
from idgov.providers.oidc.claims import Expectation, TokenRefused
from idgov.providers.oidc.client import OidcClient, ProviderDown
from idgov.providers.oidc.flows import FlowRefused, FlowStart, FlowStore, TakenFlow
from idgov.providers.oidc.refusals import record_refusal

MAX_CODE = 2000


@dataclass(frozen=True)
class Returned:
    """A callback whose flow was ours and whose ID token is the provider's (signature checked);
    the claims are not checked yet."""

    client: OidcClient
    flow: TakenFlow
    claims: dict[str, Any]


class OidcFederation:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        clock: Clock,
        trail: AuditTrail,
        clients: Mapping[str, OidcClient],
    ) -> None:
        self._session_factory = session_factory
        self._clock = clock
        self._trail = trail
        self._clients = dict(clients)
        self._flows = FlowStore(clock)

    def names(self) -> list[tuple[str, str]]:
        """(name, what people see) of every configured provider, for the sign-in page."""
        return [
            (name, client.settings.display_name or name)
            for name, client in sorted(self._clients.items())
        ]

    def client(self, name: str) -> OidcClient:
        found = self._clients.get(name)
        if found is None:
            raise NotFound(f"no OpenID provider {name[:64]!r} is configured")
        return found

    def begin(self, start: FlowStart, browser_secret: str, login_hint: str | None = None) -> str:
        """The provider's authorization URL for a new flow. A signing asks for a new login
        whatever session the provider has: `prompt=login` and `max_age=0` (OIDC Core 1.0
        3.1.2.1), with `login_hint` and the acr values policy asks for."""
        client = self.client(start.provider)
        with transaction(self._session_factory) as session:
            flow = self._flows.start(session, start, browser_secret)
            state, nonce, verifier = flow.state, flow.nonce, flow.verifier
        extra: dict[str, str] = {}
        if start.purpose == "sign":
            extra.update(prompt="login", max_age="0")
            if client.settings.acr_values:
                extra["acr_values"] = " ".join(client.settings.acr_values)
        if login_hint:
            extra["login_hint"] = login_hint
        try:
            return client.authorization_url(
                state=state, nonce=nonce, verifier=verifier, extra=extra
            )
        except ProviderDown as down:
            raise unavailable(client, down) from None

    def returned(
        self, provider: str, args: Mapping[str, str], browser_secret: str | None, source: str | None
    ) -> Returned:
        """Take the flow back (once, this browser, in time), then exchange the code and verify
        the ID token's signature. A callback that is not a good answer to a flow of ours is
        audited and refused (FederatedRefusal 401); ProviderUnavailable (503) when the
        provider cannot be asked."""
        client = self.client(provider)
        flow: TakenFlow | None = None
        try:
            with transaction(self._session_factory) as session:
                flow = self._flows.take(session, provider, args.get("state"), browser_secret)
            if "error" in args:
                # OIDC Core 1.0 3.1.2.6: the provider refused (login_required, access_denied).
                answer = args["error"][:64]
                raise TokenRefused("provider-error", f"the provider answered {answer!r}")
            code = args.get("code")
            if not code or len(code) > MAX_CODE:
                raise TokenRefused("no-code", "the provider's answer has no authorization code")
            claims = client.verified_claims(client.exchange(code, flow.verifier))
        except ProviderDown as down:
            raise unavailable(client, down) from None
        except TokenRefused as refused:
            if isinstance(refused, FlowRefused):
                flow = refused.flow
            with transaction(self._session_factory) as session:
                channel = "signing" if flow is not None and flow.purpose == "sign" else "login"
                signer = flow.identity_id if flow is not None else None
                who = session.get(Identity, signer) if signer else None
                record_refusal(self._trail, session, channel, who, provider, refused, source)
        return Returned(client, flow, claims)

    def expectation(self, returned: Returned, **signing: Any) -> Expectation:
        """What every ID token from this flow must show; `signing` adds the subject, freshness
        window and start for a signing (claims.Expectation)."""
        settings = returned.client.settings
        return Expectation(
            issuer=returned.client.issuer,
            client_id=settings.client_id,
            nonce=returned.flow.nonce,
            now=self._clock.now(),
            skew_seconds=settings.clock_skew_seconds,
            **signing,
        )


def unavailable(client: OidcClient, down: ProviderDown) -> ProviderUnavailable:
    """Fail closed (DESIGN.md, rules of the house): no fallback to another way in."""
    return ProviderUnavailable(
        f"the OpenID provider {client.name} cannot be reached: {down}",
        reason="provider-unavailable",
    )
