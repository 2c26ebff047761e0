"""Failed client authentication at the token endpoint: counted, alerted, audited in aggregate.

A wrong client secret, an unknown client id or missing credentials (RFC 6749 section 2.3)
is kept in `auth_failures` (an unknown client id as its pseudonym, finding 7), feeds the
token-guessing alert per client id and per source (ALERT-1), and is audited with the
source's other anonymous refusals in one event per window instead of one permanent event
each (finding 3, AUD-1).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from idgov.alerts.attacks import AttackDetector
from idgov.alerts.refusals import RefusalAggregator
from idgov.audit.pseudonyms import NamePseudonyms
from idgov.policies.documents import LockoutPolicy
from idgov.policies.store import PolicyStore

# Why `_credentials` refused, as kept in auth_failures.reason; True: the id is a registered
# client's and stays readable (it names a system, not a typed secret).
REASONS = {
    "wrong secret": ("bad-client-secret", True),
    "client disabled": ("client-disabled", True),
    "unknown client": ("unknown-client", False),
    "no client credentials": ("no-credentials", False),
}


@dataclass(frozen=True)
class CountedRefusal:
    """How a failed client authentication was kept: `name` as recorded, and whether its
    audit event went into the source's aggregate (False: audit it on its own)."""

    name: str
    aggregated: bool


class TokenGuessing:
    def __init__(
        self,
        policies: PolicyStore,
        attacks: AttackDetector,
        pseudonyms: NamePseudonyms,
        refusals: RefusalAggregator,
    ) -> None:
        self._policies = policies
        self._attacks = attacks
        self._pseudonyms = pseudonyms
        self._refusals = refusals

    def record(
        self, session: Session, client_id: str | None, why: str, source: str | None
    ) -> CountedRefusal:
        reason, registered = REASONS.get(why, ("unknown-client", False))
        name = client_id if registered and client_id else self._pseudonyms.of(client_id or "")
        policy = self._policies.current(session, LockoutPolicy)
        self._attacks.record_client_failure(
            session, client_id=name, source=source, reason=reason, policy=policy
        )
        return CountedRefusal(name, self._refusals.count(session, source))
