"""`idgov identities`: create, list, verify, change status, unlock, rehire and link people."""

from __future__ import annotations

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from idgov.commands.context import command_services
from idgov.db import transaction
from idgov.errors import NotFound
from idgov.identity.creation import NewIdentity
from idgov.identity.models import Identity, Role
from idgov.identity.usernames import normalize_username
from idgov.wiring import Services

ROLES = click.Choice([role.value for role in Role])


def find(services: Services, session: Session, username: str) -> Identity:
    found = services.identities.by_username(session, normalize_username(username))
    if found is None:
        raise NotFound(f"no identity with username {username!r}")
    return found


@click.group()
def identities() -> None:
    """People: the identity registry (UNQ-1, IDV-1, LOCK-2)."""


@identities.command()
@click.argument("username")
@click.option("--name", "printed_name", required=True, help="Printed name, as on signatures.")
@click.option("--email", required=True)
@click.option("--manager", help="Username of the person's manager.")
@click.option("--role", "roles", multiple=True, type=ROLES)
@click.option("--reason", default="created from the command line")
def create(
    username: str,
    printed_name: str,
    email: str,
    manager: str | None,
    roles: tuple[str, ...],
    reason: str,
) -> None:
    """Register a person (pending verification until someone else verifies them)."""
    services = command_services()
    with transaction(services.sessions) as session:
        manager_id = find(services, session, manager).id if manager else None
        identity = services.identities.create(
            session,
            NewIdentity(username, printed_name, email, manager_id=manager_id, roles=roles),
            reason=reason,
        )
    click.echo(f"created {identity.username} ({identity.id}), status {identity.status}")


@identities.command("list")
def list_identities() -> None:
    """Every identity, deactivated ones included (they are never deleted)."""
    services = command_services()
    with services.sessions() as session:
        for person in session.scalars(select(Identity).order_by(Identity.username)):
            roles = ",".join(sorted(services.identities.roles(session, person.id))) or "-"
            click.echo(
                f"{person.username:<24} {person.status:<22} {roles:<30} {person.printed_name}"
            )


@identities.command()
@click.argument("username")
@click.option("--by", "verifier", required=True, help="Username of the admin or officer verifying.")
@click.option("--evidence", required=True, help="Evidence type, e.g. passport, employee-badge.")
@click.option("--reference", help="Evidence reference (document number, ticket).")
@click.option("--note")
def verify(
    username: str, verifier: str, evidence: str, reference: str | None, note: str | None
) -> None:
    """Record that someone else verified this person's identity (IDV-1)."""
    services = command_services()
    with transaction(services.sessions) as session:
        person, checker = find(services, session, username), find(services, session, verifier)
        services.identities.record_verification(session, person, checker, evidence, reference, note)
        status = person.status
    click.echo(f"{username}: identity verified by {verifier}; status {status}")


@identities.command()
@click.argument("username")
@click.argument("status", type=click.Choice(["active", "suspended", "deactivated"]))
@click.option("--reason", required=True)
def status(username: str, status: str, reason: str) -> None:
    """Suspend, reactivate or deactivate (deactivated identities are kept, never deleted)."""
    services = command_services()
    with transaction(services.sessions) as session:
        person = find(services, session, username)
        services.identities.change_status(session, person, status, reason)
    click.echo(f"{username}: {status}")


@identities.command()
@click.argument("username")
@click.option("--officer", required=True, help="Username of the security officer unlocking.")
@click.option("--reason", required=True)
def unlock(username: str, officer: str, reason: str) -> None:
    """Lift a lockout (LOCK-2): a security officer, with a reason."""
    services = command_services()
    with transaction(services.sessions) as session:
        services.lockout.unlock(
            session, find(services, session, username), find(services, session, officer), reason
        )
    click.echo(f"{username}: unlocked")


@identities.command()
@click.argument("username")
@click.option("--reason", required=True)
@click.option("--provider", help="Identity source of a new subject, the directory name, e.g. corp.")
@click.option("--subject", help="The returning person's new account key in that source.")
def rehire(username: str, reason: str, provider: str | None, subject: str | None) -> None:
    """Relink a returning person to their own identity (never a new one); verify again after."""
    services = command_services()
    with transaction(services.sessions) as session:
        services.identities.rehire(
            session, find(services, session, username), reason, provider, subject
        )
    click.echo(f"{username}: rehired, pending identity verification")


@identities.command()
@click.argument("username")
@click.option("--provider", required=True, help="The OpenID provider's name ([oidc.NAME]).")
@click.option("--subject", required=True, help="The person's `sub` at that provider.")
@click.option("--reason", default="linked from the command line")
def link(username: str, provider: str, subject: str, reason: str) -> None:
    """Link a person to their subject at an OpenID provider (UNQ-1: bound forever); from then
    on they sign in and sign there."""
    services = command_services()
    with transaction(services.sessions) as session:
        person = find(services, session, username)
        services.oidc_signin.link(session, person, provider, subject, reason)
    click.echo(f"{username}: linked to subject {subject!r} at {provider}")


@identities.command("set-roles")
@click.argument("username")
@click.option("--role", "roles", multiple=True, type=ROLES)
@click.option("--reason", required=True)
def set_roles(username: str, roles: tuple[str, ...], reason: str) -> None:
    """Replace the person's roles."""
    services = command_services()
    with transaction(services.sessions) as session:
        services.identities.set_roles(session, find(services, session, username), roles, reason)
    click.echo(f"{username}: roles {', '.join(sorted(roles)) or 'none'}")


@identities.command("set-manager")
@click.argument("username")
@click.argument("manager")
@click.option("--reason", required=True)
def set_manager(username: str, manager: str, reason: str) -> None:
    """Set who the person's manager is (refuses management loops)."""
    services = command_services()
    with transaction(services.sessions) as session:
        boss = find(services, session, manager)
        services.identities.set_manager(session, find(services, session, username), boss.id, reason)
    click.echo(f"{username}: manager {manager}")
