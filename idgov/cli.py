"""The `idgov` command: init, serve, worker, db, alerts, audit, keys, signatures, verify, demo."""

from __future__ import annotations

import os
import secrets
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any

import click
from sqlalchemy.exc import OperationalError

from idgov.commands.alerts import alerts
from idgov.commands.audit import audit
from idgov.commands.campaigns import campaigns
from idgov.commands.certification_letter import certification_letter
from idgov.commands.check import check, warn_at_start
from idgov.commands.clients import clients
from idgov.commands.context import CommandServices, command_services
from idgov.commands.identities import identities
from idgov.commands.keys import keys
from idgov.commands.policies import policy
from idgov.commands.providers import providers
from idgov.commands.signatures import signatures, verify
from idgov.commands.tokens import tokens
from idgov.counted import counted
from idgov.db import current_revision, head_revision, transaction, upgrade_database
from idgov.demo import DEMO_PEOPLE, DEMO_SYSTEM, demo_client_id, seed_demo, seed_demo_review
from idgov.errors import IdgovError
from idgov.identity.creation import NewIdentity
from idgov.identity.models import Role
from idgov.keys.store import PURPOSES
from idgov.wiring import Services, build_command_services


class IdgovGroup(click.Group):
    """Turns IdgovError into a one-line message and a non-zero exit, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except IdgovError as exc:
            click.echo(f"idgov: error: {exc.detail}", err=True)
            sys.exit(1)
        except OperationalError as exc:
            # An unreachable or locked database: say so plainly, without a traceback.
            first_line = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
            click.echo(f"idgov: error: database unreachable: {first_line}", err=True)
            sys.exit(1)


@click.group(cls=IdgovGroup)
@click.version_option(package_name="idgov")
@click.pass_context
def main(ctx: click.Context) -> None:
    """idgov: Part 11 identity rules, e-signatures, access reviews and audit trail."""
    # The composition root builds the services; every subcommand finds them on the context.
    ctx.obj = CommandServices(build_command_services)


@main.command()
@click.option("--admin-username", help="Create the first administrator with this username.")
@click.option("--admin-name", help="The first administrator's printed name.")
@click.option("--admin-email", help="The first administrator's e-mail address.")
def init(admin_username: str | None, admin_name: str | None, admin_email: str | None) -> None:
    """Create the database, secrets, signing keys and first administrator (safe to run again)."""
    wanted = [admin_username, admin_name, admin_email]
    if any(wanted) and not all(wanted):
        raise click.UsageError("--admin-username, --admin-name and --admin-email go together")
    services = command_services()
    for reference in (services.settings.server.secret_key, services.settings.keys.passphrase):
        created = _create_secret_file(reference)
        if created:
            click.echo(f"created secret file {created} (mode 0600)")
    upgrade_database(services.engine)
    click.echo("database is at the current schema")
    with transaction(services.sessions) as session:
        for purpose in PURPOSES:
            if services.keys.active(session, purpose) is None:
                key = services.keys.create(session, purpose, reason="created by idgov init")
                click.echo(f"created {purpose} signing key {key.kid} ({key.alg})")
    if admin_username and admin_name and admin_email:
        _first_admin(services, admin_username, admin_name, admin_email)
    with transaction(services.sessions) as session:
        checkpoint = services.checkpoints.issue(session)
    click.echo(f"audit checkpoint issued at event {checkpoint.size}")


def _first_admin(services: Services, username: str, name: str, email: str) -> None:
    """A first administrator (admin and security officer), with a temporary password shown
    once to the operator. Allowed while no administrator is active, for instance after a
    directory sync created the people first; someone else verifies them before they can sign
    (IDV-1). Refused, and the refusal audited, once an active administrator exists: from then
    on people are created and reset by the administrators."""
    with transaction(services.sessions) as session:
        services.identities.refuse_if_administered(session, username)
        admin = services.identities.create(
            session,
            NewIdentity(username, name, email, roles=(Role.ADMIN, Role.SECURITY_OFFICER)),
            reason="first administrator, created by idgov init: no active administrator",
        )
        temporary = services.passwords.bootstrap_temporary(session, admin)
    click.echo(f"created the first administrator {admin.username}")
    click.echo(f"temporary password (shown once, change it at first login): {temporary}")


def _create_secret_file(reference: str) -> Path | None:
    if not reference.startswith("file://"):
        return None
    path = Path(reference[len("file://") :])
    if path.exists():
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(secrets.token_urlsafe(48))
    return path


@main.command()
@click.option("--host", help="Address to listen on (default: server.host).")
@click.option("--port", type=click.IntRange(1, 65535), help="Port (default: server.port).")
@click.option("--with-worker", is_flag=True, help="Also run the background worker in-process.")
def serve(host: str | None, port: int | None, with_worker: bool) -> None:
    """Run the development server (production: gunicorn wsgi:app)."""
    from werkzeug.serving import run_simple

    from idgov.app import create_app
    from idgov.worker import Worker

    # As settings, so that a base_url left unset follows the address actually served.
    options = {"server.host": host, "server.port": port}
    services = command_services({key: value for key, value in options.items() if value})
    _require_current_schema(services)
    app = create_app(services=services)
    warn_at_start(services)  # after create_app: logging is configured
    host, port = services.settings.server.host, services.settings.server.port
    if with_worker:
        worker = Worker(services)
        threading.Thread(target=worker.run_forever, name="idgov-worker", daemon=True).start()
    click.echo(f"idgov is serving on http://{host}:{port}/ (Ctrl+C to stop)")
    run_simple(host, port, app, threaded=True, use_reloader=False)


@main.command()
@click.option("--once", is_flag=True, help="Run every due job once, then exit.")
def worker(once: bool) -> None:
    """Run background jobs: checkpoints, alerts, reminders, directory syncs, reviews."""
    from idgov.worker import Worker

    services = command_services()
    _require_current_schema(services)
    runner = Worker(services)
    warn_at_start(services)
    if once:
        runner.run_once()
        return

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        runner.stopping.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    runner.run_forever()


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply migrations up to the current schema."""
    services = command_services()
    upgrade_database(services.engine)
    click.echo(f"database is at {current_revision(services.engine)}")


@db.command("current")
def db_current() -> None:
    """Show the schema revision of the database."""
    click.echo(current_revision(command_services().engine) or "empty (run `idgov init`)")


def _require_current_schema(services: Services) -> None:
    revision, expected = current_revision(services.engine), head_revision()
    if revision != expected:
        raise IdgovError(
            f"database schema is {revision or 'empty'}, expected {expected}: run `idgov init`"
        )


main.add_command(alerts)
main.add_command(check)  # configuration gaps (before production)
main.add_command(audit)
main.add_command(clients)
main.add_command(identities)
main.add_command(policy)
main.add_command(providers)  # directories: sync, test, write-back
main.add_command(campaigns)  # access reviews
main.add_command(certification_letter)  # 21 CFR 11.100(c) (CERT-1)
main.add_command(keys)
main.add_command(signatures)
main.add_command(verify)
main.add_command(tokens)  # tokens and loss cases (LOSS-1, LOSS-2)


@main.command()
@click.pass_context
def demo(ctx: click.Context) -> None:
    """Initialise the embedded default and seed a demo organisation (safe to run again)."""
    ctx.invoke(init)
    services = command_services()
    created = seed_demo(services)
    base = services.settings.server.base_url.rstrip("/")
    click.echo(
        f"demo organisation: {counted(len(created), 'person', 'people')} created"
        if created
        else "demo organisation present"
    )
    click.echo(f"log in at {base}/login as any of (demo passwords, for this demo only):")
    for person in DEMO_PEOPLE:
        roles = ", ".join(person.roles) or "staff"
        click.echo(f"  {person.username:<12} {person.password:<22} {person.printed_name} ({roles})")
    review = seed_demo_review(services)
    if review is not None:
        click.echo(
            f"an access review is open: mia.manager reviews at {base}/reviews, "
            f"ada.admin follows it at {base}/admin/reviews"
        )
        click.echo(
            f"the demo LIMS host pushes its role snapshots and asks for signatures as host "
            f"client {DEMO_SYSTEM} (demo secret, for this demo only; shown this once):"
        )
        click.echo(f"  client_id:     {review.client_id}")
        click.echo(f"  client_secret: {review.client_secret}")
    else:
        client_id = demo_client_id(services)
        if client_id is not None:
            click.echo(
                f"host client {DEMO_SYSTEM} ({client_id}) exists; its secret was shown when it "
                f"was created. For a new one: idgov clients rotate-secret {DEMO_SYSTEM} "
                '--reason "demo walkthrough"'
            )
    click.echo(
        'to close the demo review, see docs/access-reviews.md, "The demo review, end to end"; '
        'to sign through the ceremony, docs/host-integration.md, "A runnable host"'
    )
