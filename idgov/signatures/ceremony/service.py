"""CeremonyService: signing requests from hosts, completed by the person at idgov (11.200)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from idgov.audit.context import Actor, Target
from idgov.audit.trail import AuditTrail
from idgov.clients.models import HostClient
from idgov.clients.return_urls import is_registered, outcome_url
from idgov.clock import Clock, iso_utc
from idgov.db import reading, transaction
from idgov.errors import (
    Conflict,
    Forbidden,
    IdgovError,
    Locked,
    NotEligible,
    NotFound,
    OutOfSequence,
    UnprocessableRequest,
)
from idgov.identity.usernames import normalize_username
from idgov.policies.documents import SigningPolicy
from idgov.policies.store import PolicyStore
from idgov.signatures import checks
from idgov.signatures.ceremony.credentials import Credentials, signing_body, typed_username
from idgov.signatures.ceremony.endings import Ending, finished_message
from idgov.signatures.ceremony.models import RequestStatus, SigningRequest
from idgov.signatures.ceremony.schemas import SigningRequestIn
from idgov.signatures.issuing import SigningOutcome
from idgov.signatures.requests import answer_for
from idgov.signatures.services import HostClientLike, SignatureService

# Outcomes that end the request: the person cannot sign it however often they try.
TERMINAL_REFUSALS = (Locked, NotEligible, OutOfSequence)
UNKNOWN = "this signing request does not exist"
MAX_FAILURE = 200


class CeremonyService:
    """Signing requests (DESIGN.md, "The signing ceremony"): a host creates one, the person
    opens its page, re-authenticates and signs, declines, or lets it expire; each request ends
    once, audited (AUD-1)."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        clock: Clock,
        trail: AuditTrail,
        policies: PolicyStore,
        signatures: SignatureService,
        base_url: str,
    ) -> None:
        self._session_factory = session_factory
        self._clock = clock
        self._trail = trail
        self._policies = policies
        self._signatures = signatures
        self._base_url = base_url.rstrip("/")

    def ceremony_url(self, request_id: str) -> str:
        return f"{self._base_url}/sign/{request_id}"

    def create(
        self, session: Session, client: HostClient, body: SigningRequestIn
    ) -> SigningRequest:
        """A pending request: the meaning usable by this host, the batch within policy, the
        return URL registered for this host (exact match; an open redirector otherwise)."""
        if not is_registered(client, body.return_url):
            raise UnprocessableRequest(
                "return_url is not one of this client's registered return URLs "
                "(idgov clients set-return-urls)",
                field="return_url",
            )
        policy = self._policies.current(session, SigningPolicy)
        checks.usable_meaning(policy, body.meaning, client.name)
        checks.check_batch(body.targets, policy)
        signer = normalize_username(body.signer) if body.signer is not None else None
        now = self._clock.now()
        row = SigningRequest(
            id=str(uuid.uuid4()),
            client_id=client.client_id,
            status=RequestStatus.PENDING,
            meaning=body.meaning,
            reason=body.reason,
            records=json.dumps([record.model_dump() for record in body.targets]),
            batched=body.records is not None,
            signer=signer,
            return_url=body.return_url,
            state=body.state,
            created_at=now,
            expires_at=now + timedelta(minutes=policy.request_minutes),
        )
        session.add(row)
        session.flush()
        self._audit(session, row, "created", records=len(body.targets), signer=signer)
        return row

    def for_client(
        self, session: Session, client: HostClientLike, request_id: str
    ) -> SigningRequest:
        """The request, to the client that created it only (anyone else: not found)."""
        row = self._find(session, request_id)
        if row is None or row.client_id != client.client_id:
            raise NotFound(UNKNOWN)
        self._expire_if_due(session, row)
        return row

    def for_page(self, session: Session, request_id: str) -> SigningRequest:
        """The request as the ceremony page shows it; a lapsed one is expired first."""
        row = self._find(session, request_id)
        if row is None:
            raise NotFound(UNKNOWN)
        self._expire_if_due(session, row)
        return row

    def complete(self, request_id: str, credentials: Credentials, source: str | None) -> Ending:
        """Sign the request's records as `POST /api/v1/signatures` would, through the same
        service (eligibility, lockout counting, sequencing, one transaction with the audit
        events), and mark the request completed in that transaction: it completes once.

        A wrong password (401, counted toward the lockout), a missing token code, a signer
        other than the one the host named (403) or an unreachable database (503) raise and
        leave the request pending. A lock, ineligibility or a sequence refusal ends it as
        failed. An expired or finished request changes nothing."""
        opened = self.opened(request_id)
        if isinstance(opened, Ending):
            return opened
        row, client = opened
        if row.signer is not None and typed_username(credentials.username) != row.signer:
            raise Forbidden(
                "this signing request is for another person: sign in as the person it names",
                reason="signer-mismatch",
            )
        signing = signing_body(row, credentials)
        try:
            self._signatures.sign(signing, client, source, finish=self.completer(request_id))
        except TERMINAL_REFUSALS as refused:
            return self.fail(request_id, refused)
        return self.ending(row, RequestStatus.COMPLETED, "Signed.")

    def decline(self, request_id: str) -> Ending:
        """The person refuses to sign: the request ends, the host hears `error=declined`."""
        with transaction(self._session_factory) as session:
            row = self._locked(session, request_id)
            if row.status != RequestStatus.PENDING or self._expire_if_due(session, row):
                return self.ending(row, RequestStatus(row.status), finished_message(row))
            self._finish(session, row, RequestStatus.DECLINED)
        return self.ending(row, RequestStatus.DECLINED, "You declined to sign.")

    def ending_of(self, row: SigningRequest) -> Ending:
        """The ending of a request that is no longer pending, as its page shows it."""
        return self.ending(row, RequestStatus(row.status), finished_message(row))

    def ending(self, row: SigningRequest, status: RequestStatus, message: str) -> Ending:
        """The host's return URL with `signing_request`, the host's `state` and, unless the
        request completed, `error` (declined, expired or failed)."""
        params = {"signing_request": row.id}
        if row.state is not None:
            params["state"] = row.state
        if status != RequestStatus.COMPLETED:
            params["error"] = status.value
        return Ending(outcome_url(row.return_url, params), status.value, message)

    def opened(self, request_id: str) -> tuple[SigningRequest, HostClient] | Ending:
        """The open request and its host, read without a write lock (the signing transaction
        checks again, locked); one that lapsed or whose host was disabled is ended here."""
        with reading(self._session_factory) as session:
            row = session.get(SigningRequest, request_id) if _plausible(request_id) else None
            if row is None:
                raise NotFound(UNKNOWN)
            client = session.get(HostClient, row.client_id)
            assert client is not None  # a foreign key
        if row.status != RequestStatus.PENDING:
            raise Conflict(finished_message(row), reason="finished")
        if self._clock.now() < row.expires_at and client.disabled_at is None:
            return row, client
        with transaction(self._session_factory) as session:
            row = self._locked(session, request_id)
            if not self._expire_if_due(session, row) and row.status == RequestStatus.PENDING:
                self._finish(session, row, RequestStatus.FAILED, "the host client is disabled")
                return self.ending(row, RequestStatus.FAILED, "The requesting system is disabled.")
            return self.ending_of(row)

    def completer(self, request_id: str) -> Callable[[Session, SigningOutcome], None]:
        def finish(session: Session, outcome: SigningOutcome) -> None:
            # In the signing transaction: a second submit, one from another browser, or one
            # after expiry finds the request no longer pending and undoes its own signing.
            row = self._locked(session, request_id)
            if row.status != RequestStatus.PENDING or self._clock.now() >= row.expires_at:
                raise Conflict(finished_message(row), reason="finished")
            row.identity_id = outcome.signer.identity_id
            row.answer = json.dumps(answer_for(outcome).model_dump())
            signer = Actor("identity", outcome.signer.identity_id, outcome.signer.printed_name)
            ids = [issued.id for issued in outcome.signatures]
            self._finish(session, row, RequestStatus.COMPLETED, actor=signer, signatures=ids)

        return finish

    def fail(self, request_id: str, refused: IdgovError) -> Ending:
        why = f"{refused.type_slug}: {refused.detail}"[:MAX_FAILURE]
        with transaction(self._session_factory) as session:
            row = self._locked(session, request_id)
            if row.status == RequestStatus.PENDING:
                self._finish(session, row, RequestStatus.FAILED, why)
        return self.ending(row, RequestStatus.FAILED, refused.detail)

    # --- internals --------------------------------------------------------------------------

    def _finish(
        self,
        session: Session,
        row: SigningRequest,
        status: RequestStatus,
        why: str | None = None,
        *,
        actor: Actor | None = None,
        signatures: list[str] | None = None,
    ) -> None:
        """The request leaves `pending`, audited (AUD-1): by the signer when it completed,
        else as the request's context says (the person's browser, anonymous)."""
        row.status, row.failure, row.finished_at = status.value, why, self._clock.now()
        self._audit(session, row, status.value, actor, failure=why, signatures=signatures)

    def _expire_if_due(self, session: Session, row: SigningRequest) -> bool:
        """A pending request past its time becomes expired (audited once); True if it is."""
        if row.status == RequestStatus.PENDING and self._clock.now() >= row.expires_at:
            self._finish(session, row, RequestStatus.EXPIRED)
        return row.status == RequestStatus.EXPIRED

    def _find(self, session: Session, request_id: str) -> SigningRequest | None:
        return session.get(SigningRequest, request_id) if _plausible(request_id) else None

    def _locked(self, session: Session, request_id: str) -> SigningRequest:
        row = session.get(SigningRequest, request_id, with_for_update=True, populate_existing=True)
        if row is None:
            raise NotFound(UNKNOWN)
        return row

    def _audit(
        self,
        session: Session,
        row: SigningRequest,
        what: str,
        actor: Actor | None = None,
        **values: object,
    ) -> None:
        self._trail.record(
            session,
            f"signature:request:{what}",
            Target("signing-request", row.id),
            new={
                "status": row.status,
                "client_id": row.client_id,
                "meaning": row.meaning,
                "expires_at": iso_utc(row.expires_at),
                **{key: value for key, value in values.items() if value is not None},
            },
            actor=actor,
        )


def _plausible(request_id: str) -> bool:
    try:
        return str(uuid.UUID(request_id)) == request_id
    except ValueError:
        return False
