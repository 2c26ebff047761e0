"""`idgov init --admin-*`, `idgov identities ...`, `idgov policy ...` and `idgov demo`."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from click.testing import Result
from flask.testing import FlaskClient
from sqlalchemy import func, select

from idgov.app import create_app
from idgov.clock import FrozenClock
from idgov.demo import DEMO_PEOPLE
from idgov.errors import InvalidCredentials, Locked
from idgov.identity.models import Identity, IdentityStatus
from idgov.reviews.models import ReviewItem
from idgov.wiring import Services
from tests.functional import test_cli
from tests.functional.hosts import HOST_ADDRESS, token_for
from tests.functional.people import events

Cli = test_cli.Cli
cli = test_cli.cli  # the fixture: `idgov` on this test's migrated database
ADMIN = ("--admin-username", "root.admin", "--admin-name", "Root Admin")
ADMIN_OPTIONS = (*ADMIN, "--admin-email", "root@example.test")
FAST = ("argon2_time_cost=1", "argon2_memory_kib=8192", "argon2_parallelism=1")


def ok(result: Result) -> str:
    assert result.exit_code == 0, result.output
    return result.stdout


def error(result: Result) -> str:
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("idgov: error: "), result.stderr
    return result.stderr


def people(services: Services) -> int:
    with services.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Identity)) or 0)


def by_username(services: Services, username: str) -> Identity:
    with services.sessions() as session:
        found = services.identities.by_username(session, username)
        assert found is not None
        return found


@pytest.fixture
def admin_cli(cli: Cli) -> Cli:
    """Initialised with a first administrator (root.admin), cheap password hashing."""
    ok(cli("policy", "set", "password", *FAST, "--reason", "fast tests"))
    ok(cli("init", *ADMIN_OPTIONS))
    return cli


# --- init with a first administrator ---------------------------------------------------------


@pytest.mark.req("CMP-2")
def test_init_creates_the_first_administrator(cli: Cli, services: Services) -> None:
    out = ok(cli("init", *ADMIN_OPTIONS))
    assert "created the first administrator root.admin" in out
    found = re.search(r"temporary password \(shown once, change it at first login\): (\S+)", out)
    assert found, out
    admin = by_username(services, "root.admin")
    assert (admin.printed_name, admin.email) == ("Root Admin", "root@example.test")
    assert admin.status == IdentityStatus.PENDING_VERIFICATION
    with services.sessions() as session:
        assert services.identities.roles(session, admin.id) == {"admin", "security_officer"}

    client = create_app(services=services).test_client()
    login = {"username": "root.admin", "password": found.group(1)}
    started = client.post("/api/v1/session", json=login)
    assert started.status_code == 201, started.get_data(as_text=True)
    assert started.get_json()["must_change_password"] is True


def second_admin(cli: Cli) -> Result:
    return cli(
        "init",
        "--admin-username",
        "second",
        "--admin-name",
        "Second",
        "--admin-email",
        "s@example.test",
    )


@pytest.mark.req("ACC-2")
def test_init_creates_administrators_only_while_none_is_active(
    admin_cli: Cli, services: Services
) -> None:
    # root.admin is pending verification: a second administrator may still be created, so
    # that the two verify each other (nobody verifies the person they created, IDV-1).
    assert "created the first administrator second" in ok(second_admin(admin_cli))
    ok(admin_cli("identities", "verify", "root.admin", "--by", "second", "--evidence", "badge"))
    assert by_username(services, "root.admin").status == IdentityStatus.ACTIVE

    again = admin_cli(
        "init", "--admin-username", "third", "--admin-name", "T", "--admin-email", "t@example.test"
    )
    assert "an active administrator exists" in error(again)
    assert "third" not in ok(admin_cli("identities", "list"))
    [refusal] = events(services, "identity:first-admin:refused")
    assert (refusal.target_type, refusal.target_id) == ("username", "third")
    assert "created" not in ok(admin_cli("init"))  # plain init still runs


@pytest.mark.req("ACC-2")
def test_init_creates_the_first_administrator_after_a_directory_sync(
    cli: Cli, services: Services
) -> None:
    ok(cli("policy", "set", "password", *FAST, "--reason", "fast tests"))
    ok(cli("init"))
    # People a sync brought in first, none of them an administrator.
    create(cli, "synced.one")
    create(cli, "synced.two", "--role", "reviewer")
    out = ok(cli("init", *ADMIN_OPTIONS))
    assert "created the first administrator root.admin" in out
    with services.sessions() as session:
        admin = by_username(services, "root.admin")
        assert services.identities.roles(session, admin.id) == {"admin", "security_officer"}
    [created] = [
        e for e in events(services, "identity:identity:created") if e.target_id == admin.id
    ]
    assert "no active administrator" in (created.reason or "")


@pytest.mark.req("ACC-2")
def test_the_command_line_keeps_the_last_active_administrator(
    admin_cli: Cli, services: Services
) -> None:
    ok(second_admin(admin_cli))
    ok(admin_cli("identities", "verify", "root.admin", "--by", "second", "--evidence", "badge"))
    refused = admin_cli("identities", "status", "root.admin", "suspended", "--reason", "x")
    assert "last active administrator" in error(refused)
    roles = admin_cli(
        "identities", "set-roles", "root.admin", "--role", "reviewer", "--reason", "x"
    )
    assert "last active administrator" in error(roles)
    assert by_username(services, "root.admin").status == IdentityStatus.ACTIVE


def test_admin_options_go_together(cli: Cli, services: Services) -> None:
    result = cli("init", *ADMIN)
    assert result.exit_code == 2
    assert "--admin-username, --admin-name and --admin-email go together" in result.stderr
    with services.sessions() as session:
        assert services.identities.by_username(session, "root.admin") is None


# --- identities --------------------------------------------------------------------------------


def create(cli: Cli, username: str, *extra: str) -> str:
    out = ok(
        cli(
            "identities",
            "create",
            username,
            "--name",
            username.title(),
            "--email",
            f"{username}@example.test",
            *extra,
        )
    )
    assert out.startswith(f"created {username} (")
    assert out.rstrip().endswith("status pending_verification")
    return out


@pytest.mark.req("IDV-1")
def test_create_list_and_verify(admin_cli: Cli, services: Services) -> None:
    create(admin_cli, "jdoe", "--manager", "root.admin", "--role", "reviewer")
    jdoe = by_username(services, "jdoe")
    assert jdoe.manager_id == by_username(services, "root.admin").id
    listing = ok(admin_cli("identities", "list")).splitlines()
    assert [line.split()[:3] for line in listing] == [
        ["jdoe", "pending_verification", "reviewer"],
        ["root.admin", "pending_verification", "admin,security_officer"],
    ]

    verified = admin_cli(
        "identities",
        "verify",
        "jdoe",
        "--by",
        "root.admin",
        "--evidence",
        "passport",
        "--reference",
        "P-1",
    )
    assert ok(verified).strip() == "jdoe: identity verified by root.admin; status active"
    [event] = events(services, "identity:verification:recorded")
    assert event.actor_type == "cli"
    own = admin_cli(
        "identities", "verify", "root.admin", "--by", "root.admin", "--evidence", "badge"
    )
    assert "nobody may verify their own identity" in error(own)
    plain = admin_cli("identities", "verify", "root.admin", "--by", "jdoe", "--evidence", "badge")
    assert "needs an admin or a security officer" in error(plain)


@pytest.mark.req("UNQ-1")
def test_create_refuses_a_used_username(admin_cli: Cli, services: Services) -> None:
    create(admin_cli, "jdoe")
    ok(admin_cli("identities", "status", "jdoe", "deactivated", "--reason", "left"))
    again = admin_cli(
        "identities", "create", "JDoe", "--name", "Jim Doe", "--email", "jim@example.test"
    )
    assert "username 'jdoe' belongs to another identity and is never reassigned" in error(again)
    assert len(events(services, "identity:identifier:reuse-refused")) == 1
    unknown = admin_cli(
        "identities",
        "create",
        "x",
        "--name",
        "X",
        "--email",
        "x@example.test",
        "--manager",
        "ghost",
    )
    assert "no identity with username 'ghost'" in error(unknown)


def test_status_changes_and_rehire(admin_cli: Cli, services: Services) -> None:
    create(admin_cli, "jdoe")
    assert (
        ok(admin_cli("identities", "status", "jdoe", "suspended", "--reason", "leave")).strip()
        == "jdoe: suspended"
    )
    unverified = admin_cli("identities", "status", "jdoe", "active", "--reason", "back")
    assert "record the identity verification first" in error(unverified)  # IDV-1
    early = admin_cli("identities", "rehire", "jdoe", "--reason", "back")
    assert "only a deactivated identity can be rehired" in error(early)
    ok(admin_cli("identities", "status", "jdoe", "deactivated", "--reason", "left"))
    stuck = admin_cli("identities", "status", "jdoe", "active", "--reason", "oops")
    assert "cannot go from deactivated to active" in error(stuck)

    rehired = admin_cli("identities", "rehire", "jdoe", "--reason", "returned")
    assert ok(rehired).strip() == "jdoe: rehired, pending identity verification"
    assert by_username(services, "jdoe").status == IdentityStatus.PENDING_VERIFICATION
    missing = admin_cli("identities", "status", "jdoe", "suspended")
    assert missing.exit_code == 2
    assert "Missing option '--reason'" in missing.stderr


def lock(services: Services, username: str) -> None:
    for _ in range(4):
        with pytest.raises(InvalidCredentials):
            services.auth.authenticate(username, "wrong", channel="login", source=None)
    with pytest.raises(Locked):
        services.auth.authenticate(username, "wrong", channel="login", source=None)


@pytest.mark.req("LOCK-2")
def test_unlock_needs_a_security_officer(admin_cli: Cli, services: Services) -> None:
    create(admin_cli, "jdoe")
    create(admin_cli, "boss", "--role", "admin")
    lock(services, "jdoe")
    refused = admin_cli("identities", "unlock", "jdoe", "--officer", "boss", "--reason", "x")
    assert error(refused).strip() == "idgov: error: only a security officer may unlock an identity"
    assert by_username(services, "jdoe").status == IdentityStatus.LOCKED

    done = admin_cli(
        "identities", "unlock", "jdoe", "--officer", "root.admin", "--reason", "called her"
    )
    assert ok(done).strip() == "jdoe: unlocked"
    assert by_username(services, "jdoe").failed_attempts == 0
    [cleared] = events(services, "identity:lockout:cleared")
    assert cleared.reason == "called her"
    again = admin_cli("identities", "unlock", "jdoe", "--officer", "root.admin", "--reason", "x")
    assert "jdoe is not locked" in error(again)


def test_roles_and_managers(admin_cli: Cli, services: Services) -> None:
    create(admin_cli, "jdoe")
    create(admin_cli, "mia")
    roles = admin_cli(
        "identities",
        "set-roles",
        "jdoe",
        "--role",
        "reviewer",
        "--role",
        "auditor",
        "--reason",
        "new job",
    )
    assert ok(roles).strip() == "jdoe: roles auditor, reviewer"
    with services.sessions() as session:
        assert services.identities.roles(session, by_username(services, "jdoe").id) == {
            "auditor",
            "reviewer",
        }
    bad_role = admin_cli("identities", "set-roles", "jdoe", "--role", "wizard", "--reason", "x")
    assert bad_role.exit_code == 2

    assert (
        ok(admin_cli("identities", "set-manager", "jdoe", "mia", "--reason", "team")).strip()
        == "jdoe: manager mia"
    )
    loop = admin_cli("identities", "set-manager", "mia", "jdoe", "--reason", "swap")
    assert "management loop" in error(loop)
    assert "management loop" in error(
        admin_cli("identities", "set-manager", "mia", "mia", "--reason", "self")
    )
    assert by_username(services, "mia").manager_id is None
    [changed] = events(services, "identity:manager:changed")
    assert changed.reason == "team"


# --- policy ------------------------------------------------------------------------------------


@pytest.mark.req("CHG-1")
def test_policy_set_show_at_and_history(cli: Cli, clock: FrozenClock) -> None:
    assert json.loads(ok(cli("policy", "show", "password")))["min_length"] == 12
    assert (
        ok(cli("policy", "history", "lockout")).strip()
        == "lockout: the gxp-classic baseline, never changed"
    )
    earlier = clock.now()
    clock.advance(timedelta(hours=2))

    out = ok(cli("policy", "set", "lockout", "max_failures=3", "--reason", "audit finding 7"))
    assert out.startswith("lockout policy is now version 1\n")
    assert json.loads(ok(cli("policy", "show", "lockout")))["max_failures"] == 3
    at = earlier.strftime("%Y-%m-%dT%H:%M:%S")
    assert json.loads(ok(cli("policy", "show", "lockout", "--at", at)))["max_failures"] == 5
    [line] = ok(cli("policy", "history", "lockout")).splitlines()
    assert line.startswith("v1  ")
    assert line.endswith(": audit finding 7")


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("password", "min_length=3"), "min_length"),
        (("lockout", "max_failures=many"), "max_failures"),
        (("lockout", "no_such=1"), "no_such"),
    ],
)
def test_policy_set_refuses_bad_values(cli: Cli, args: tuple[str, ...], named: str) -> None:
    assert named in error(cli("policy", "set", *args, "--reason", "x"))
    assert "baseline, never changed" in ok(cli("policy", "history", args[0]))


def test_policy_set_usage_errors(cli: Cli) -> None:
    assert cli("policy", "set", "lockout", "max_failures=3").exit_code == 2  # no reason
    assert "is not KEY=VALUE" in cli("policy", "set", "lockout", "oops", "--reason", "x").stderr
    assert cli("policy", "show", "coffee").exit_code == 2


# --- demo --------------------------------------------------------------------------------------


def test_demo_seeds_five_people_once(cli: Cli, services: Services) -> None:
    ok(cli("policy", "set", "password", *FAST, "--reason", "fast tests"))
    out = ok(cli("demo"))
    assert "demo organisation: 5 people created" in out
    assert "log in at http://127.0.0.1:8080/login" in out
    for demo_person in DEMO_PEOPLE:
        assert demo_person.username in out
        assert by_username(services, demo_person.username).status == IdentityStatus.ACTIVE
    assert people(services) == len(DEMO_PEOPLE)

    assert "an access review is open: mia.manager reviews at" in out
    with services.sessions() as session:
        items = session.scalars(select(ReviewItem)).all()
        reviewers = {services.identities.get(session, i.reviewer_id).username for i in items}
    assert len(items) == 5  # the demo LIMS snapshot, an orphan among them (REV-6)
    assert reviewers == {"mia.manager", "ada.admin"}

    again = ok(cli("demo", env={"IDGOV_SERVER__PORT": "8091"}))
    assert "log in at http://127.0.0.1:8091/login" in again  # the port alone moves the URLs
    assert "demo organisation present" in again
    assert "people created" not in again
    assert "access review is open" not in again  # once
    assert people(services) == len(DEMO_PEOPLE)


def test_demo_prints_the_lims_client_and_a_secret_that_gets_a_token(
    cli: Cli, services: Services, client: FlaskClient
) -> None:
    """The demo review closes only after the LIMS host's next snapshot: the demo user needs
    the host's credentials, and they must work at /oauth/token and for the snapshot PUT."""
    ok(cli("policy", "set", "password", *FAST, "--reason", "fast tests"))
    out = ok(cli("demo"))
    client_id = re.search(r"client_id: +(\S+)", out)
    secret = re.search(r"client_secret: +(\S+)", out)
    assert client_id is not None
    assert secret is not None
    assert "host client lims" in out
    assert "docs/access-reviews.md" in out
    token = token_for(client, client_id[1], secret[1], scope="entitlements")
    snapshot = {
        "roles": [{"name": "analyst"}, {"name": "approver"}, {"name": "lims-admin"}],
        "assignments": [{"username": "jon.doe", "role": "analyst"}],
    }
    pushed = client.put(
        "/api/v1/systems/lims/entitlements",
        json=snapshot,
        headers={"Authorization": f"Bearer {token}"},
        environ_base={"REMOTE_ADDR": HOST_ADDRESS},
    )
    assert pushed.status_code == 200, pushed.get_data(as_text=True)

    again = ok(cli("demo"))
    assert secret[1] not in again  # shown once
    assert f"host client lims ({client_id[1]}) exists" in again
    assert "idgov clients rotate-secret lims" in again
    rotated = ok(cli("clients", "rotate-secret", "lims", "--reason", "demo walkthrough"))
    new_secret = re.search(r"client_secret: +(\S+)", rotated)
    assert new_secret is not None
    assert token_for(client, client_id[1], new_secret[1], scope="entitlements")
