"""Ports of the signing service: the one-time-code (TOTP) component of a signature."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.orm import Session

from idgov.identity.eligibility import Blocker
from idgov.identity.models import Identity


class OtpVerifier(Protocol):
    """The token component of a signature (11.200(a)(1), CMP-1; TOK-1).

    Contract for the token issue to plug in (wire a concrete verifier into SignatureService in
    idgov/wiring.py):

    - `holds_token` answers whether the identity has an active, tested token now. An identity
      with one must add its code on every signing outside a continuous signing session; a
      token overdue for its periodic test should make `holds_token` True and `verify` False, so
      that the identity cannot sign until it passes (TOK-1).
    - `verify` checks a code within the caller's write transaction. It must refuse a code that
      was already used (replay), and it owns failure counting: a wrong code counts toward the
      lockout exactly as a wrong password does (LOCK-1), through LockoutService, committed even
      though the signature is refused (raise the refusal with `recorded=True`, e.g.
      InvalidCredentials, or return False after recording in a transaction of its own).
    - `signing_blockers` names why a holder cannot sign with any token now (e.g.
      `token-test-overdue`, TOK-1): the signing service refuses not-eligible with these reasons,
      even within a continuous signing session.
    """

    def holds_token(self, session: Session, identity_id: str) -> bool: ...

    def signing_blockers(self, session: Session, identity_id: str) -> list[Blocker]: ...

    def verify(self, session: Session, identity_id: str, code: str) -> bool: ...


class NoTokens:
    """Until tokens exist, no identity holds one: a code is never required, and a code sent
    anyway is not a component of the signature. Under `require_otp = "all"` (or "roles") this
    means nobody concerned can sign: not-eligible, reason no-token (fail closed)."""

    def holds_token(self, session: Session, identity_id: str) -> bool:
        return False

    def signing_blockers(self, session: Session, identity_id: str) -> list[Blocker]:
        return []

    def verify(self, session: Session, identity_id: str, code: str) -> bool:
        return False


class TemporaryCredentials(Protocol):
    """LOSS-2: after a loss report, re-verification and issue, a temporary credential (short
    validity, few uses) stands in for the lost token until its permanent replacement."""

    def signing_blocked(self, session: Session, identity_id: str) -> bool:
        """LOSS-1, 11.300(c): a reported loss suspends signing until a temporary credential is
        issued or the credential is replaced."""
        ...

    def temporary_issued(self, session: Session, identity_id: str) -> bool: ...

    def use_temporary(self, session: Session, identity: Identity, code: object) -> bool: ...


class NoLossCases:
    """Without loss management nobody's signing is suspended and no temporary credential
    exists, so none is ever accepted."""

    def signing_blocked(self, session: Session, identity_id: str) -> bool:
        return False

    def temporary_issued(self, session: Session, identity_id: str) -> bool:
        return False

    def use_temporary(self, session: Session, identity: Identity, code: object) -> bool:
        return False
