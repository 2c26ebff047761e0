"""What a signed-in person sees about themselves: roles, status, and why they cannot sign yet."""

from __future__ import annotations

from dataclasses import dataclass

from idgov.identity.models import Identity, IdentityStatus
from idgov.web.context import services

NOT_VERIFIED = (
    "Your identity has not been verified yet: an administrator or security officer must record "
    "it before you can sign (21 CFR 11.100(b))."
)
NOT_CERTIFIED = "You have not recorded your signature certification yet (21 CFR 11.100(c))."
MUST_CHANGE = "Your password must be changed: a temporary or expired password cannot sign."
INACTIVE = "Your identity is {status}: it cannot sign."


@dataclass(frozen=True)
class Profile:
    identity: Identity
    roles: list[str]
    verified: bool
    certified: bool
    must_change_password: bool
    blockers: list[str]  # empty: nothing on the identity side stops a signature

    @property
    def can_sign(self) -> bool:
        return not self.blockers


def profile_of(identity: Identity, must_change_password: bool) -> Profile:
    """Read-only: roles, verification and certification of the person (IDV-1, TRN-1)."""
    built = services()
    with built.sessions() as session:
        session.connection(execution_options={"readonly": True})
        roles = sorted(built.identities.roles(session, identity.id))
        verified = built.identities.is_verified(session, identity)
        certified = built.identities.is_certified(session, identity)
    blockers = signing_blockers(identity.status, verified, certified, must_change_password)
    return Profile(identity, roles, verified, certified, must_change_password, blockers)


def signing_blockers(
    status: str, verified: bool, certified: bool, must_change_password: bool
) -> list[str]:
    """Every identity-side reason the person cannot sign now, in the order to fix them."""
    blockers: list[str] = []
    if status == IdentityStatus.PENDING_VERIFICATION or not verified:
        blockers.append(NOT_VERIFIED)
    elif status != IdentityStatus.ACTIVE:
        blockers.append(INACTIVE.format(status=status.replace("_", " ")))
    if not certified:
        blockers.append(NOT_CERTIFIED)
    if must_change_password:
        blockers.append(MUST_CHANGE)
    return blockers
