"""Who may not be suspended, deactivated or stripped of a role: yourself, and the last active
administrator or security officer (so the installation stays governable without the command
line), and a locked person, whom only a security officer's unlock releases (LOCK-2)."""

from __future__ import annotations

from collections.abc import Set

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from idgov.errors import Conflict
from idgov.identity.models import Identity, IdentityRole, IdentityStatus, Role

# The roles without which nobody can administer people or release a lock (ACC-2, LOCK-2).
GUARDED_ROLES = {Role.ADMIN: "administrator", Role.SECURITY_OFFICER: "security officer"}
LEAVES_SERVICE = {IdentityStatus.SUSPENDED, IdentityStatus.DEACTIVATED}


def refuse_status_change(
    session: Session, identity: Identity, status: str, actor: Identity | None
) -> None:
    """Conflict (409, nothing changed) unless this status change may go ahead: a locked person
    is released only by a security officer's unlock, which clears the counters, audits
    identity:lockout:cleared and resolves the alert (LOCK-2); nobody suspends or deactivates
    themself; the last active administrator and security officer stay."""
    if identity.status == IdentityStatus.LOCKED:
        raise Conflict(
            "this identity is locked: only a security officer's unlock, with a reason, releases "
            f"it (LOCK-2): POST /api/v1/identities/{identity.id}/unlock",
            field="status",
        )
    if status not in LEAVES_SERVICE:
        return
    if actor is not None and actor.id == identity.id:
        raise Conflict("you cannot suspend or deactivate yourself", field="status")
    if identity.status == IdentityStatus.ACTIVE:
        refuse_losing_last(session, identity, _held(session, identity))


def refuse_role_loss(
    session: Session, identity: Identity, before: Set[str], wanted: Set[str]
) -> None:
    """Conflict when the roles taken away leave no active administrator or security officer."""
    if identity.status == IdentityStatus.ACTIVE:
        refuse_losing_last(session, identity, set(before) - set(wanted), field="roles")


def refuse_losing_last(
    session: Session, identity: Identity, losing: Set[str], field: str = "status"
) -> None:
    """Conflict if `identity` is the last active holder of a guarded role it is losing.

    Race-safe: every holder of the role is row-locked (FOR UPDATE on PostgreSQL, SQLite's
    single writer elsewhere) before the count, so two administrators suspending each other at
    once cannot both succeed; the second waits, then counts the first's change."""
    for role in sorted(set(losing) & set(GUARDED_ROLES)):
        holders = select(IdentityRole.identity_id).where(IdentityRole.role == role)
        session.execute(
            select(Identity.id)
            .where(Identity.id.in_(holders))
            .order_by(Identity.id)
            .with_for_update()
        ).all()
        others = session.scalar(
            select(func.count())
            .select_from(Identity)
            .where(
                Identity.id.in_(holders),
                Identity.status == IdentityStatus.ACTIVE,
                Identity.id != identity.id,
            )
        )
        if not others:
            label = GUARDED_ROLES[Role(role)]
            raise Conflict(
                f"{identity.username} is the last active {label}: give another verified person "
                f"the {role} role first",
                field=field,
                role=role,
            )


def active_administrators(session: Session) -> int:
    """How many identities hold the admin role and are active now."""
    holders = select(IdentityRole.identity_id).where(IdentityRole.role == Role.ADMIN)
    return int(
        session.scalar(
            select(func.count())
            .select_from(Identity)
            .where(Identity.id.in_(holders), Identity.status == IdentityStatus.ACTIVE)
        )
        or 0
    )


def _held(session: Session, identity: Identity) -> set[str]:
    return set(
        session.scalars(select(IdentityRole.role).where(IdentityRole.identity_id == identity.id))
    )
