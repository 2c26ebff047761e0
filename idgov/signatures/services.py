"""SignatureService: step-up e-signatures that host applications request (11.50, 11.70, 11.200)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Protocol

from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from idgov.audit.context import Actor
from idgov.audit.trail import AuditTrail
from idgov.clock import Clock
from idgov.db import reading, transaction
from idgov.errors import (
    Conflict,
    KeyUnavailable,
    NotEligible,
    NotFound,
    OutOfSequence,
    ProviderUnavailable,
)
from idgov.identity.authentication import AuthenticationService, AuthResult
from idgov.identity.services import IdentityService
from idgov.keys.store import KeyStore
from idgov.policies.documents import Meaning, SigningPolicy
from idgov.policies.store import PolicyStore
from idgov.providers.interfaces import CredentialState
from idgov.signatures import checks
from idgov.signatures.components import FEDERATED_COMPONENTS, SigningComponents
from idgov.signatures.interfaces import NoLossCases, NoTokens, OtpVerifier, TemporaryCredentials
from idgov.signatures.issuing import (
    FederatedProof,
    HostRef,
    SessionState,
    SignatureIssuer,
    Signer,
    SigningKeyPair,
    SigningOutcome,
)
from idgov.signatures.requests import SigningBody, SignRequest
from idgov.signatures.sequencing import DeclaredSequence, SequenceRules
from idgov.signatures.sessions import SigningSessions
from idgov.signatures.tokens import Authentication, RecordRef

NO_KEY = "no signature key is active: create one with `idgov keys rotate --purpose signature`"
DATABASE_DOWN = "the database cannot be reached: nothing was signed"
CONCURRENT = "another declaration for this record type was made at the same moment: send it again"


class HostClientLike(Protocol):
    """What the service needs of the calling host client (DEV-1)."""

    @property
    def client_id(self) -> str: ...

    @property
    def name(self) -> str: ...


class SignatureService:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        clock: Clock,
        trail: AuditTrail,
        policies: PolicyStore,
        identities: IdentityService,
        auth: AuthenticationService,
        keys: KeyStore,
        issuer: str,
        otp: OtpVerifier | None = None,
        temporary: TemporaryCredentials | None = None,
    ) -> None:
        self._session_factory = session_factory
        self._clock = clock
        self._trail = trail
        self._policies = policies
        self._identities = identities
        self._auth = auth
        self._keys = keys
        self._otp: OtpVerifier = otp or NoTokens()
        self._temporary = temporary
        self._loss: TemporaryCredentials = temporary or NoLossCases()
        self._components = SigningComponents(self._otp, temporary)
        self._issuer = SignatureIssuer(trail, issuer)
        self._signing_sessions = SigningSessions()
        self._sequences = SequenceRules(trail)

    def sign(
        self,
        request: SignRequest,
        client: HostClientLike,
        source: str | None,
        finish: Callable[[Session, SigningOutcome], None] | None = None,
    ) -> SigningOutcome:
        """Sign one record, or a batch all or nothing, after re-authentication (11.200(a)(1)).

        Refusals: invalid-credentials 401 and locked 423 (the attempt counts toward the
        lockout, LOCK-1), not-eligible 403 with `reasons`, out-of-sequence 409 (SEQ-1, or a
        signing session not the caller's or ended), invalid-request 422, provider-unavailable
        503 (no key, database down). Signatures, the session step and one audit event per
        signature commit together or not at all (AUD-1), and with whatever `finish` writes in
        the same transaction (the ceremony marks its request completed there; raising in
        `finish` undoes the signing).
        """
        host = HostRef(client.client_id, client.name)
        with _fail_closed():
            prepared = self._prepare(request, host)
            # Every attempt goes through the one authentication path, so a wrong signing
            # password counts toward the lockout like a wrong login password (LOCK-1).
            auth = self._auth.authenticate(
                request.username, request.password, channel="signing", source=source
            )
            return self._issue(request, host, auth, prepared, finish)

    def sign_federated(
        self,
        body: SigningBody,
        client: HostClientLike,
        proof: FederatedProof,
        finish: Callable[[Session, SigningOutcome], None] | None = None,
    ) -> SigningOutcome:
        """Sign after a re-authentication at an OpenID provider that the caller has verified
        (STEP-1: a fresh `auth_time` for the bound subject, OIDC Core 1.0 3.1.3.7). Everything
        after authentication is as in `sign`: eligibility, sequencing, one transaction with
        the audit events and `finish`, the same refusals."""
        host = HostRef(client.client_id, client.name)
        with _fail_closed():
            prepared = self._prepare(body, host)
            auth = AuthResult(proof.identity_id, proof.username, CredentialState())
            return self._issue(body, host, auth, prepared, finish, proof)

    def _issue(
        self,
        request: SigningBody,
        host: HostRef,
        auth: AuthResult,
        prepared: tuple[Meaning, SigningPolicy, SigningKeyPair],
        finish: Callable[[Session, SigningOutcome], None] | None,
        proof: FederatedProof | None = None,
    ) -> SigningOutcome:
        """Issue for an authenticated signer: the signatures, the session step and their audit
        events, and what `finish` writes, in one transaction (AUD-1)."""
        try:
            with transaction(self._session_factory) as session:
                outcome = self._signed(session, request, host, auth, prepared, proof)
                if finish is not None:
                    finish(session, outcome)
                return outcome
        except (NotEligible, OutOfSequence) as refused:
            # ACC-2: a refused signing is audited, with why, in a transaction of its own.
            first = request.targets[0]
            with transaction(self._session_factory) as session:
                self._issuer.record_refusal(
                    session,
                    Signer(auth.identity_id, auth.username, ""),
                    host,
                    request.meaning,
                    (len(request.targets), first.type, first.id, first.version),
                    refused,
                )
            raise

    def signing_inputs(self, session: Session, identity_id: str) -> tuple[bool, bool]:
        """What a first signing of this person asks besides the password, as `sign` decides:
        (a token's one-time code, a temporary credential) (CMP-1, LOSS-2)."""
        temporary = self._temporary is not None and self._temporary.temporary_issued(
            session, identity_id
        )
        return (not temporary and self._otp.holds_token(session, identity_id)), temporary

    def declare_sequence(
        self, client: HostClientLike, record_type: str, meanings: list[str], allow_same: bool
    ) -> DeclaredSequence:
        """SEQ-1: declare (or replace) the client's signing order for a record type."""
        record_type = checks.record_type_of(record_type)
        try:
            with _fail_closed(), transaction(self._session_factory) as session:
                policy = self._policies.current(session, SigningPolicy)
                usable = {m.code for m in checks.usable_meanings(policy, client.name)}
                return self._sequences.declare(
                    session,
                    client_id=client.client_id,
                    record_type=record_type,
                    meanings=meanings,
                    allow_same_signer=allow_same,
                    usable=usable,
                    now=self._clock.now(),
                    actor=Actor("client", client.client_id, client.name),
                )
        except IntegrityError:
            # Two first declarations at once: the unique (client, record type) keeps one.
            raise Conflict(CONCURRENT, field="record_type") from None

    def sequence(self, client: HostClientLike, record_type: str) -> DeclaredSequence:
        record_type = checks.record_type_of(record_type)
        with _fail_closed(), self._session_factory() as session:
            found = self._sequences.get(session, client.client_id, record_type)
        if found is None:
            raise NotFound(f"no signing order is declared for {record_type!r} records")
        return found

    def _prepare(
        self, request: SigningBody, host: HostRef
    ) -> tuple[Meaning, SigningPolicy, SigningKeyPair]:
        """Checks that need no password: meaning, batch, key; a refusal here costs nothing."""
        with reading(self._session_factory) as session:
            policy = self._policies.current(session, SigningPolicy)
            meaning = checks.usable_meaning(policy, request.meaning, host.name)
            checks.check_batch(request.targets, policy)
            key = self._keys.active(session, "signature")
        if key is None:
            raise ProviderUnavailable(NO_KEY, reason="key-unavailable")
        return meaning, policy, SigningKeyPair(key, self._keys.private_key(key))

    def _signed(
        self,
        session: Session,
        request: SigningBody,
        host: HostRef,
        auth: AuthResult,
        prepared: tuple[Meaning, SigningPolicy, SigningKeyPair],
        proof: FederatedProof | None,
    ) -> SigningOutcome:
        meaning, policy, keys = prepared
        identity = self._identities.get(session, auth.identity_id)
        holds_token = self._otp.holds_token(session, identity.id)
        roles = self._identities.roles(session, identity.id)
        checks.refuse_ineligible(
            status=identity.status,
            verified=self._identities.is_verified(session, identity),
            certified=self._identities.is_certified(session, identity),
            credential=auth.credential,
            missing_token=checks.needs_token(policy, roles) and not holds_token,
            credential_loss=self._loss.signing_blocked(session, identity.id),  # LOSS-1
            token_blockers=self._otp.signing_blockers(session, identity.id) if holds_token else (),
        )
        now, idle = self._clock.now(), timedelta(minutes=policy.session_idle_minutes)
        lifetime = timedelta(hours=policy.session_absolute_hours)
        continued = None
        # A federated signer re-authenticates at the provider for every signing: no session.
        if isinstance(request, SignRequest) and request.session_id is not None:
            continued = self._signing_sessions.resume(
                session,
                request.session_id,
                identity_id=identity.id,
                client_id=host.client_id,
                now=now,
                idle=idle,
                lifetime=lifetime,
            )
        first = continued is None
        if proof is not None or not isinstance(request, SignRequest):
            components = FEDERATED_COMPONENTS
        else:
            components = self._components.used(session, request, identity, holds_token, first)
        records = [RecordRef(r.type, r.id, r.version, r.digest, r.title) for r in request.targets]
        self._sequences.check(
            session,
            client_id=host.client_id,
            identity_id=identity.id,
            meaning=meaning.code,
            records=records,
        )
        row = continued or self._signing_sessions.start(
            session, identity_id=identity.id, client_id=host.client_id, now=now
        )
        seq = self._signing_sessions.advance(session, row, now, idle, lifetime)
        signer = Signer(identity.id, identity.username, identity.printed_name)
        issued, batch = self._issuer.issue(
            session,
            signer=signer,
            host=host,
            meaning=meaning,
            reason=request.reason,
            records=records,
            # 11.200(a)(1): which components this signing used, and its step in the session.
            authn=Authentication(
                components,
                proof.auth_time if proof else now,
                row.id,
                seq,
                proof.evidence if proof else None,
            ),
            signed_at=now,  # MAN-1: the server's clock; client clock fields were dropped
            keys=keys,
            batched=request.records is not None,
        )
        return SigningOutcome(issued, SessionState(row.id, seq, row.expires_at), batch, signer)


@contextmanager
def _fail_closed() -> Iterator[None]:
    """Fail closed: no key or no database means no signature, said as 503, never a 500."""
    try:
        yield
    except KeyUnavailable as exc:
        raise ProviderUnavailable(exc.detail, reason="key-unavailable") from None
    except (OperationalError, InterfaceError):
        raise ProviderUnavailable(DATABASE_DOWN, reason="database-unavailable") from None
