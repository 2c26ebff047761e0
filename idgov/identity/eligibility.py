"""Whether an identity may sign now: one rule for the person's pages and the signature API."""

from __future__ import annotations

from dataclasses import dataclass

from idgov.identity.models import IdentityStatus

NOT_VERIFIED = (
    "Your identity has not been verified yet: an administrator or security officer must record "
    "it before you can sign (21 CFR 11.100(b))."
)
NOT_CERTIFIED = "You have not recorded your signature certification yet (21 CFR 11.100(c))."
MUST_CHANGE = "Your password must be changed: a temporary or expired password cannot sign."
INACTIVE = "Your identity is {status}: it cannot sign."
CREDENTIAL_LOSS = (
    "A credential of yours was reported lost, stolen or compromised: signing is suspended until "
    "its permanent replacement is enrolled (21 CFR 11.300(c))."
)
NO_TOKEN = "The signing policy requires a one-time-code token, and you have none enrolled."  # noqa: S105


@dataclass(frozen=True)
class Blocker:
    """One reason an identity cannot sign: a stable `code` for hosts, a message for people."""

    code: str  # unverified, inactive, locked, uncertified, temporary-password, password-expired
    message: str


def signing_blockers(
    status: str, verified: bool, certified: bool, *, temporary: bool, expired: bool
) -> list[Blocker]:
    """Every identity-side reason the person cannot sign now, in the order to fix them:
    verified by someone else (IDV-1, 11.100(b)), active, certified (TRN-1, 11.100(c)), and a
    password of their own that has not expired (CMP-2, PWD-3)."""
    blockers: list[Blocker] = []
    if status == IdentityStatus.PENDING_VERIFICATION or not verified:
        blockers.append(Blocker("unverified", NOT_VERIFIED))
    if status not in (IdentityStatus.ACTIVE, IdentityStatus.PENDING_VERIFICATION):
        code = "locked" if status == IdentityStatus.LOCKED else "inactive"
        blockers.append(Blocker(code, INACTIVE.format(status=status.replace("_", " "))))
    if not certified:
        blockers.append(Blocker("uncertified", NOT_CERTIFIED))
    if temporary:
        blockers.append(Blocker("temporary-password", MUST_CHANGE))
    elif expired:
        blockers.append(Blocker("password-expired", MUST_CHANGE))
    return blockers
