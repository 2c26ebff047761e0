"""The ceremony for people whose identity source is an OpenID provider: they re-authenticate
there, freshly, and our own code checks the ID token before anything is signed (STEP-1)."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from idgov.audit.trail import AuditTrail
from idgov.db import transaction
from idgov.errors import Forbidden, NotFound
from idgov.identity.ledger import SUBJECT, IdentifierLedger
from idgov.identity.lockout import LockoutService
from idgov.identity.models import Identity, IdentityStatus
from idgov.identity.sources import provider_of
from idgov.policies.documents import LockoutPolicy
from idgov.policies.store import PolicyStore
from idgov.providers.oidc.claims import TokenRefused, VerifiedLogin, check_claims
from idgov.providers.oidc.federation import OidcFederation, Returned
from idgov.providers.oidc.flows import FlowStart
from idgov.providers.oidc.refusals import record_refusal
from idgov.signatures.ceremony.credentials import federated_body
from idgov.signatures.ceremony.endings import Ending
from idgov.signatures.ceremony.models import RequestStatus
from idgov.signatures.ceremony.service import TERMINAL_REFUSALS, CeremonyService
from idgov.signatures.issuing import FederatedProof
from idgov.signatures.services import SignatureService
from idgov.signatures.tokens import FederatedEvidence

# Refusals that say nothing about the person (the provider's answer could not be used): they
# are audited but do not count toward the lockout.
NOT_COUNTED = frozenset({"unknown-state", "replayed", "other-browser", "flow-expired", "no-code"})


class FederatedCeremony:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        trail: AuditTrail,
        policies: PolicyStore,
        ledger: IdentifierLedger,
        lockout: LockoutService,
        federation: OidcFederation,
        ceremonies: CeremonyService,
        signatures: SignatureService,
    ) -> None:
        self._session_factory = session_factory
        self._trail = trail
        self._policies = policies
        self._ledger = ledger
        self._lockout = lockout
        self._federation = federation
        self._ceremonies = ceremonies
        self._signatures = signatures

    def begin(self, request_id: str, signer: Identity, browser_secret: str) -> str | Ending:
        """The provider's URL for a fresh login of `signer` for this request (OIDC Core 1.0
        3.1.2.1: prompt=login, max_age=0, a new nonce, login_hint), or the request's ending."""
        opened = self._ceremonies.opened(request_id)
        if isinstance(opened, Ending):
            return opened
        row, _client = opened
        provider = provider_of(signer)
        if provider is None:
            raise NotFound("this person signs with their password, not at an OpenID provider")
        if row.signer is not None and row.signer != signer.username:
            raise Forbidden(
                "this signing request is for another person: sign in as the person it names",
                reason="signer-mismatch",
            )
        start = FlowStart(provider, "sign", signing_request_id=row.id, identity_id=signer.id)
        return self._federation.begin(start, browser_secret, login_hint=signer.username)

    def complete(self, returned: Returned, source: str | None) -> Ending:
        """Check the ID token for the signing this flow was started for, then issue through
        SignatureService as a password signing would, completing the request in the same
        transaction. Refusals are audited and count as failed authentications (LOCK-1); the
        request stays open unless the person is locked or cannot sign (as for passwords)."""
        assert returned.flow.signing_request_id is not None
        assert returned.flow.identity_id is not None
        opened = self._ceremonies.opened(returned.flow.signing_request_id)
        if isinstance(opened, Ending):
            return opened
        row, client = opened
        try:
            login, username = self._checked(returned, source)
            assert login.auth_time is not None  # required for a signing
            proof = FederatedProof(
                identity_id=returned.flow.identity_id,
                username=username,
                auth_time=login.auth_time,
                evidence=FederatedEvidence(login.issuer, login.acr, login.amr),
            )
            self._signatures.sign_federated(
                federated_body(row), client, proof, finish=self._ceremonies.completer(row.id)
            )
        except TERMINAL_REFUSALS as refused:
            return self._ceremonies.fail(row.id, refused)
        return self._ceremonies.ending(row, RequestStatus.COMPLETED, "Signed.")

    def _checked(self, returned: Returned, source: str | None) -> tuple[VerifiedLogin, str]:
        """OIDC Core 1.0 3.1.3.7 and section 2 (auth_time), checked by our own code: the bound
        subject, an integer auth_time within the freshness window plus skew and not before
        this signing began (the redirect, itself after the request was created)."""
        provider, settings = returned.client.name, returned.client.settings
        with transaction(self._session_factory) as session:
            identity = session.get(Identity, returned.flow.identity_id, with_for_update=True)
            assert identity is not None  # a foreign key
            subject = self._ledger.value_of(session, SUBJECT, returned.client.issuer, identity.id)
            expect = self._federation.expectation(
                returned,
                subject=subject or "",
                fresh_seconds=settings.signing_freshness_seconds,
                not_before=returned.flow.started_at,
                # OIDC Core 1.0 3.1.3.7 step 12: the signing policy's authentication context.
                accepted_acr=tuple(settings.accepted_acr),
                required_amr=tuple(settings.required_amr),
            )
            try:
                if identity.status == IdentityStatus.LOCKED:
                    raise TokenRefused("locked", "this account is locked")
                login = check_claims(returned.claims, expect)
            except TokenRefused as refused:
                if refused.reason == "locked":
                    self._lockout.count_attempt_while_locked(session, identity, source)
                elif refused.reason not in NOT_COUNTED:
                    policy = self._policies.current(session, LockoutPolicy)
                    count = self._lockout.count_failure(session, identity, policy, source)
                    if count.consecutive >= policy.max_failures:
                        refused = TokenRefused("locked", refused.message)
                # The subject the token names, for the security unit (never the token).
                sub = returned.claims.get("sub")
                presented = sub[:255] if isinstance(sub, str) else None
                record_refusal(
                    self._trail,
                    session,
                    "signing",
                    identity,
                    provider,
                    refused,
                    source,
                    presented=presented,
                )
            self._lockout.reset(session, identity)
            return login, identity.username
