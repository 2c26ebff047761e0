"""LossService: report, deauthorize, re-verify, temporary and permanent replacement (LOSS-1/2)."""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from idgov.alerts.outbox import AlertOutbox
from idgov.audit.context import Target
from idgov.audit.trail import AuditTrail
from idgov.clock import Clock, iso_utc
from idgov.errors import Conflict, Forbidden, NotFound
from idgov.identity.models import Identity, Role
from idgov.identity.notices import CredentialNotices
from idgov.identity.services import IdentityService
from idgov.policies.documents import TokenPolicy
from idgov.policies.store import PolicyStore
from idgov.providers.local import LocalPasswords
from idgov.sessions.services import SessionService
from idgov.tokens.loss import record as loss_record
from idgov.tokens.loss import rules
from idgov.tokens.loss.rules import CREDENTIALS, KINDS, LIVE_TOKEN, clean_text, one_of
from idgov.tokens.models import LossCase, OtpToken, TokenTest

__all__ = ["CREDENTIALS", "KINDS", "LossService"]


class LossService:
    """Every method works inside the caller's transaction (one transaction per step)."""

    def __init__(
        self,
        clock: Clock,
        trail: AuditTrail,
        alerts: AlertOutbox,
        identities: IdentityService,
        web_sessions: SessionService,
        passwords: LocalPasswords,
        policies: PolicyStore,
        notices: CredentialNotices | None = None,
    ) -> None:
        self._notices = notices  # the owner is told of every new credential (CMP-2)
        self._clock = clock
        self._trail = trail
        self._alerts = alerts
        self._identities = identities
        self._web_sessions = web_sessions
        self._passwords = passwords
        self._policies = policies

    def report(
        self,
        session: Session,
        owner: Identity,
        reporter: Identity,
        credential: str,
        kind: str,
        token_id: str | None = None,
        description: str | None = None,
    ) -> LossCase:
        """LOSS-1, 11.300(c): the owner, their manager or a security officer reports; the
        credential is deauthorized in this same transaction, with the same clock reading."""
        credential, kind = (
            one_of(credential, CREDENTIALS, "credential"),
            one_of(kind, KINDS, "kind"),
        )
        description = clean_text(description, "description", 2000)
        if not self._may_report(session, owner, reporter):
            self._refuse(
                session, "report", owner.id, reporter, "not the owner, manager or security"
            )
        tokens = self._tokens_to_disable(session, owner, credential, token_id)
        now = self._clock.now()
        case = LossCase(
            id=str(uuid.uuid4()),
            identity_id=owner.id,
            credential=credential,
            token_id=token_id or (tokens[0].id if len(tokens) == 1 else None),
            kind=kind,
            description=description,
            reported_by=reporter.id,
            reported_at=now,
            deauthorized_at=now,  # LOSS-1: at once, in the report's own transaction
            status="deauthorized",
        )
        session.add(case)
        session.flush()
        details = {"owner": owner.username, "credential": credential, "kind": kind}
        self._trail.record(
            session,
            "loss:case:reported",
            Target("loss-case", case.id),
            new={**details, "token_id": case.token_id, "reported_by": reporter.username},
            reason=description or f"{credential} reported {kind}",
        )
        done = self._deauthorize(session, case, owner, tokens)
        self._trail.record(
            session,
            "loss:case:deauthorized",
            Target("loss-case", case.id),
            new={**done, "deauthorized_at": iso_utc(now), "signing": "suspended"},
            reason="loss-report",
        )
        self._alerts.raise_alert(  # ALERT-1: security and the owner's manager
            session,
            "credential-loss",
            f"{credential} of {owner.username} reported {kind} by {reporter.username}",
            {**details, "case_id": case.id, "reported_by": reporter.username},
            identity=owner,
        )
        return case

    def verify_identity(
        self, session: Session, case_id: str, officer: Identity, evidence: str
    ) -> LossCase:
        """LOSS-2: a second person, a security officer who is neither the reporter nor the
        owner, records re-verifying the person's identity."""
        case = self.get(session, case_id, lock=True)
        evidence_text = clean_text(evidence, "evidence", 200)
        if evidence_text is None:
            raise Conflict("describe the evidence of the re-verification", field="evidence")
        if officer.id in (case.identity_id, case.reported_by) or not self._officer(
            session, officer
        ):
            self._refuse(session, "verify", case.id, officer, "needs a second person (officer)")
        rules.require_status(case, ("deauthorized",), "re-verify the identity")
        case.verified_by, case.verified_at = officer.id, self._clock.now()
        case.verification_evidence, case.status = evidence_text, "verified"
        self._step(session, case, "verified", {"verified_by": officer.username}, evidence_text)
        return case

    def issue_temporary(self, session: Session, case_id: str, officer: Identity) -> str:
        """LOSS-2: a one-time code, stored hashed, good for `temporary_valid_hours` and
        `temporary_max_uses` uses; only after the re-verification. Returned once."""
        case = self.get(session, case_id, lock=True)
        if officer.id == case.identity_id or not self._officer(session, officer):
            self._refuse(session, "temporary", case.id, officer, "needs a security officer")
        rules.require_status(case, ("verified",), "issue a temporary credential")
        policy = self._policies.current(session, TokenPolicy)
        code, now = secrets.token_urlsafe(15), self._clock.now()
        case.temporary_issued_at = now
        case.temporary_expires_at = now + timedelta(hours=policy.temporary_valid_hours)
        case.temporary_uses_left = policy.temporary_max_uses
        case.temporary_secret_hash = rules.digest(code)
        case.status = "temporary-issued"
        new = {
            "issued_by": officer.username,
            "expires_at": iso_utc(case.temporary_expires_at),
            "max_uses": policy.temporary_max_uses,
        }
        self._step(session, case, "temporary-issued", new, "temporary replacement (LOSS-2)")
        if self._notices is not None:
            self._notices.tell(
                session,
                self._identities.get(session, case.identity_id),
                "A temporary signing credential was issued for you",
                {
                    "what": f"{officer.printed_name} issued a temporary one-time-code replacement "
                    f"(until {new['expires_at']}, {policy.temporary_max_uses} uses)."
                },
            )
        return code

    def signing_blocked(self, session: Session, identity_id: str) -> bool:
        return rules.signing_blocked(session, identity_id)

    def temporary_issued(self, session: Session, identity_id: str) -> bool:
        return rules.temporary_issued(session, identity_id)

    def use_temporary(self, session: Session, identity: Identity, code: object) -> bool:
        """Count one use of the identity's temporary credential; refused (and audited) when
        the code does not match, has expired or has no uses left."""
        now = self._clock.now()
        case = rules.temporary_case(session, identity.id, code)
        why = rules.temporary_refusal(case, now)
        if why is not None or case is None:
            target = Target("loss-case", case.id) if case else Target("identity", identity.id)
            self._trail.record(session, "loss:temporary:refused", target, reason=why)
            return False
        case.temporary_uses_left = (case.temporary_uses_left or 0) - 1
        self._trail.record(
            session,
            "loss:temporary:used",
            Target("loss-case", case.id),
            new={"uses_left": case.temporary_uses_left},
        )
        return True

    def complete_replacement(
        self, session: Session, case_id: str, new_token_id: str, by: Identity | None = None
    ) -> LossCase:
        """LOSS-2: the permanent replacement, an active token of the owner enrolled after the
        report with a passed initial test; ends the temporary credential and the case."""
        case = self.get(session, case_id, lock=True)
        if by is not None and by.id != case.identity_id and not self._officer(session, by):
            self._refuse(session, "replace", case.id, by, "only the owner or security")
        rules.require_status(case, ("verified", "temporary-issued"), "complete the replacement")
        token = session.get(OtpToken, new_token_id)
        if token is None or token.identity_id != case.identity_id:
            raise NotFound(f"the owner has no token {new_token_id!r}")
        tested = session.scalar(
            select(TokenTest.id).where(
                TokenTest.token_id == token.id,
                TokenTest.kind == "initial",
                TokenTest.result == "pass",
            )
        )
        enrolled_after = token.activated_at is not None and token.activated_at >= case.reported_at
        if token.status != "active" or tested is None or not enrolled_after:
            raise Conflict(
                "the replacement must be a token enrolled after the report, active and with a "
                "passed initial test",
                field="token_id",
            )
        case.replacement_token_id, case.replaced_at = token.id, self._clock.now()
        case.temporary_uses_left = 0 if case.temporary_issued_at else None  # ends it
        case.status = "replaced"
        new = {"replacement_token_id": token.id, "temporary_ended": bool(case.temporary_issued_at)}
        self._step(session, case, "replaced", new, "permanent replacement enrolled (LOSS-2)")
        return case

    def signing_suspended(self, session: Session, identity: Identity) -> bool:
        """While a case of the identity is open (not yet replaced), it cannot sign."""
        return rules.open_case_exists(session, identity.id)

    def get(self, session: Session, case_id: str, *, lock: bool = False) -> LossCase:
        found = session.get(LossCase, case_id, with_for_update=lock) if case_id else None
        if found is None:
            raise NotFound(f"no loss case {case_id!r}")
        return found

    def case_record(self, session: Session, case_id: str) -> dict[str, Any]:
        """The whole case with its timeline and SLA figures (LOSS-1, LOSS-2)."""
        return loss_record.case_record(session, self.get(session, case_id), self._clock.now())

    def refuse_read(self, session: Session, case: LossCase, reader: Identity) -> None:
        """Only the owner, their manager, security officers and auditors read a case."""
        if not loss_record.may_read(session, case, reader):
            self._refuse(session, "read", case.id, reader, "not the owner, manager or security")

    def _may_report(self, session: Session, owner: Identity, reporter: Identity) -> bool:
        return reporter.id in (owner.id, owner.manager_id) or self._officer(session, reporter)

    def _officer(self, session: Session, who: Identity) -> bool:
        return Role.SECURITY_OFFICER in self._identities.roles(session, who.id)

    def _tokens_to_disable(
        self, session: Session, owner: Identity, credential: str, token_id: str | None
    ) -> list[OtpToken]:
        if credential != "token":
            if token_id is not None:
                raise Conflict("token_id goes only with credential 'token'", field="token_id")
            return []
        query = select(OtpToken).where(
            OtpToken.identity_id == owner.id, OtpToken.status.in_(LIVE_TOKEN)
        )
        if token_id is not None:
            query = query.where(OtpToken.id == token_id)
        tokens = list(session.scalars(query.order_by(OtpToken.created_at).with_for_update()))
        if token_id is not None and not tokens:
            raise NotFound(f"the owner has no usable token {token_id!r}")
        return tokens

    def _deauthorize(
        self, session: Session, case: LossCase, owner: Identity, tokens: list[OtpToken]
    ) -> dict[str, object]:
        """Token disabled, web and signing sessions revoked, a password forced to change."""
        now, reason = case.reported_at, f"loss-report: {case.kind}"
        for token in tokens:
            old, token.status = token.status, "disabled"
            token.status_changed_at, token.status_reason = now, reason
            self._trail.record(
                session,
                "credential:token:disabled",
                Target("otp-token", token.id),
                old={"status": old},
                new={"status": "disabled", "loss_case": case.id},
                reason=reason,
            )
        signing = rules.revoke_signing_sessions(session, owner.id, now)
        outcome = "untouched"
        if case.credential == "password":
            outcome = self._passwords.force_change(session, owner, reason)
        return {
            "tokens_disabled": [token.id for token in tokens],
            "web_sessions_revoked": self._web_sessions.revoke_all(session, owner.id, "loss-report"),
            "signing_sessions_revoked": signing,
            "password_change": outcome,  # what happened to it; "password" names a secret
        }

    def _step(
        self, session: Session, case: LossCase, step: str, new: dict[str, object], reason: str
    ) -> None:
        self._trail.record(
            session, f"loss:case:{step}", Target("loss-case", case.id), new=new, reason=reason
        )

    def _refuse(self, session: Session, step: str, target: str, who: Identity, why: str) -> None:
        self._trail.record(
            session,
            f"loss:{step}:refused",
            Target("loss-case" if step != "report" else "identity", target),
            new={"by": who.username},
            reason=why,
        )
        raise Forbidden(f"{who.username} may not {step} this loss case: {why}", recorded=True)
