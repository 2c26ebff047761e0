"""The identifier ledger: bind a username or subject to one identity, forever (UNQ-1)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from idgov.alerts.outbox import AlertOutbox
from idgov.audit.context import Target
from idgov.audit.trail import AuditTrail
from idgov.clock import Clock
from idgov.errors import IdentifierReused
from idgov.identity.models import IdentifierBinding, Identity

USERNAME = "username"
SUBJECT = "subject"


class IdentifierLedger:
    def __init__(self, clock: Clock, trail: AuditTrail, alerts: AlertOutbox) -> None:
        self._clock = clock
        self._trail = trail
        self._alerts = alerts

    def owner(self, session: Session, kind: str, namespace: str, value: str) -> str | None:
        return session.scalar(
            select(IdentifierBinding.identity_id).where(
                IdentifierBinding.kind == kind,
                IdentifierBinding.namespace == namespace,
                IdentifierBinding.value == value,
            )
        )

    def value_of(self, session: Session, kind: str, namespace: str, identity_id: str) -> str | None:
        """The identifier of this kind and namespace bound to the identity (its subject at a
        provider), or None."""
        return session.scalar(
            select(IdentifierBinding.value).where(
                IdentifierBinding.kind == kind,
                IdentifierBinding.namespace == namespace,
                IdentifierBinding.identity_id == identity_id,
            )
        )

    def refuse_if_taken(
        self, session: Session, kind: str, namespace: str, value: str, claimant: str
    ) -> None:
        """Refuse, audit and alert when `value` belongs to an identity other than `claimant`
        (`claimant` is a description when the claimant has no identity yet)."""
        owner = self.owner(session, kind, namespace, value)
        if owner is None or owner == claimant:
            return
        holder = session.get(Identity, owner)
        details = {
            "identifier_kind": kind,
            "namespace": namespace,
            "identifier": value,
            "bound_to_identity": owner,
            "bound_to_status": holder.status if holder else None,
            "attempted_for": claimant,
            "next_step": "If this is a returning person, relink them to their existing identity "
            "(idgov identities rehire); never give their identifier to someone else.",
        }
        self._trail.record(
            session, "identity:identifier:reuse-refused", Target("identity", owner), new=details
        )
        self._alerts.raise_alert(
            session,
            "identifier-reuse",
            f"Refused to give {kind} '{value}' to a different person",
            details,
            identity=holder,
        )
        raise IdentifierReused(
            f"{kind} '{value}' belongs to another identity and is never reassigned",
            field=kind,
        )

    def bind(
        self, session: Session, kind: str, namespace: str, value: str, identity: Identity
    ) -> bool:
        """Bind (idempotent for the same owner); refuses another owner. True if newly bound."""
        self.refuse_if_taken(session, kind, namespace, value, identity.id)
        if self.owner(session, kind, namespace, value) == identity.id:
            return False
        session.add(
            IdentifierBinding(
                kind=kind,
                namespace=namespace,
                value=value,
                identity_id=identity.id,
                bound_at=self._clock.now(),
            )
        )
        self._trail.record(
            session,
            "identity:identifier:bound",
            Target("identity", identity.id),
            new=bound_values(kind, namespace, value),
        )
        return True


def bound_values(kind: str, namespace: str, value: str) -> dict[str, str]:
    """The audit record of a new binding (identity:identifier:bound)."""
    return {"kind": kind, "namespace": namespace, "identifier": value}
