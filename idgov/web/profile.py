"""What a signed-in person sees about themselves: roles, status, and why they cannot sign yet."""

from __future__ import annotations

from dataclasses import dataclass

from idgov.db import reading
from idgov.identity import eligibility
from idgov.identity.models import Identity
from idgov.tokens.loss.rules import signing_blocked
from idgov.web.context import services


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
    with reading(built.sessions) as session:
        roles = sorted(built.identities.roles(session, identity.id))
        verified = built.identities.is_verified(session, identity)
        certified = built.identities.is_certified(session, identity)
        lost = signing_blocked(session, identity.id)  # LOSS-1, 11.300(c)
    blockers = signing_blockers(identity.status, verified, certified, must_change_password)
    if lost:
        blockers.append(eligibility.CREDENTIAL_LOSS)
    return Profile(identity, roles, verified, certified, must_change_password, blockers)


def signing_blockers(
    status: str, verified: bool, certified: bool, must_change_password: bool
) -> list[str]:
    """Every identity-side reason the person cannot sign now, in the order to fix them."""
    # The session knows only that the password must change (temporary or expired); both
    # blockers read the same to the person.
    found = eligibility.signing_blockers(
        status, verified, certified, temporary=must_change_password, expired=False
    )
    return [blocker.message for blocker in found]
