"""The `idgov` command, driven through its real click group against a real database."""

from __future__ import annotations

import base64
import contextvars
import csv
import json
import os
import re
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from flask import Flask
from sqlalchemy import func, select

from idgov import wiring
from idgov.app import create_app
from idgov.audit.canonical import HashedFields, event_hash
from idgov.audit.models import GENESIS_HASH, AuditCheckpoint, AuditEvent, AuditHead
from idgov.cli import main
from idgov.clock import FrozenClock, iso_utc
from idgov.config import Settings
from idgov.db import head_revision
from idgov.keys.models import SigningKey
from idgov.wiring import Services, build_services
from tests.functional.tamper import tamper
from tests.harness.database import PostgresDatabases

UNREACHABLE = {
    "postgresql-port-closed": "postgresql://postgres@127.0.0.1:1/idgov",
    "sqlite-directory-impossible": "sqlite:////proc/nope/idgov.db",
    "sqlite-file-impossible": "sqlite:////proc/idgov.db",
}


@dataclass
class Cli:
    """Runs `idgov ...` in tmp_path with IDGOV_DATABASE__URL set; returns click's Result."""

    workdir: Path

    def __call__(self, *args: str, env: dict[str, str] | None = None) -> Result:
        runner = CliRunner()
        # Each command sets the audit context (a ContextVar): keep it out of the test's context.
        # catch_exceptions=False: an unexpected exception (a traceback) fails the test.
        result = contextvars.copy_context().run(
            runner.invoke, main, list(args), env=env, catch_exceptions=False, prog_name="idgov"
        )
        assert "Traceback" not in result.output
        return result


def _cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: FrozenClock, url: str
) -> Iterator[Cli]:
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("IDGOV_") and not name.startswith("IDGOV_TEST_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("IDGOV_DATABASE__URL", url)
    built: list[Services] = []

    def build_with_test_clock(settings: Settings) -> Services:
        # The real services, from the real settings; only the clock is the test's, and the
        # engines are disposed after the test.
        services = build_services(settings, clock)
        built.append(services)
        return services

    monkeypatch.setattr(wiring, "build_services", build_with_test_clock)
    yield Cli(tmp_path)
    for services in built:
        services.engine.dispose()


@pytest.fixture
def cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: FrozenClock, database_url: str
) -> Iterator[Cli]:
    """`idgov` on this test's migrated database; secrets default to files under instance/."""
    yield from _cli(tmp_path, monkeypatch, clock, database_url)


@pytest.fixture
def empty_database_url(
    postgres_databases: PostgresDatabases | None, tmp_path: Path
) -> Iterator[str]:
    """A database with no tables at all, as a new installation starts."""
    if postgres_databases is None:
        yield f"sqlite:///{tmp_path / 'fresh' / 'idgov.db'}"
        return
    url = postgres_databases.create(migrated=False)
    yield url
    postgres_databases.drop(url)


@pytest.fixture
def cli_on_empty_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: FrozenClock, empty_database_url: str
) -> Iterator[Cli]:
    yield from _cli(tmp_path, monkeypatch, clock, empty_database_url)


@pytest.fixture
def initialised(cli: Cli) -> Cli:
    result = cli("init")
    assert result.exit_code == 0, result.output
    return cli


def count(services: Services, model: type) -> int:
    with services.sessions() as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


def kids(services: Services, purpose: str) -> list[str]:
    with services.sessions() as session:
        return list(
            session.scalars(
                select(SigningKey.kid)
                .where(SigningKey.purpose == purpose)
                .order_by(SigningKey.created_at)
            )
        )


def rotate(cli: Cli, purpose: str, reason: str = "scheduled rotation") -> str:
    result = cli("keys", "rotate", "--purpose", purpose, "--reason", reason)
    assert result.exit_code == 0, result.output
    found = re.search(rf"new {purpose} key (\S+) \(EdDSA\)", result.stdout)
    assert found, result.stdout
    return found.group(1)


def export_checkpoint(cli: Cli, name: str = "checkpoint.json") -> Path:
    result = cli("audit", "checkpoint", "--output", name)
    assert result.exit_code == 0, result.output
    return cli.workdir / name


def rewrite_chain(services: Services, reason: Callable[[int], str]) -> None:
    """An attacker with database access rewrites every event and re-hashes the whole chain
    consistently, head included: the forged chain verifies on its own."""
    with services.sessions() as session:
        events = session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
    statements, prev, digest = [], GENESIS_HASH, GENESIS_HASH
    for event in events:
        stored = {name: getattr(event, name) for name in HashedFields.__slots__}
        forged = HashedFields(
            **{
                **stored,
                "occurred_at": iso_utc(event.occurred_at),
                "reason": reason(event.seq),
                "prev_hash": digest,
            }
        )
        prev, digest = digest, event_hash(forged)
        statements.append(
            f"UPDATE audit_events SET reason = '{forged.reason}', prev_hash = '{prev}', "
            f"hash = '{digest}' WHERE seq = {event.seq}"
        )
    statements.append(move_head(len(events), prev, digest))
    tamper(services.engine, *statements)


def move_head(seq: int, prev_hash: str, digest: str) -> str:
    """SQL that points the chain head at event `seq`, setting every column the head has."""
    columns = {"seq": str(seq), "hash": f"'{digest}'", "prev_hash": f"'{prev_hash}'"}
    present = AuditHead.__table__.c
    return "UPDATE audit_head SET " + ", ".join(
        f"{name} = {value}" for name, value in columns.items() if name in present
    )


# --- init and the schema -------------------------------------------------------------------


def test_init_creates_secrets_keys_and_a_checkpoint(cli: Cli, services: Services) -> None:
    result = cli("init")
    assert result.exit_code == 0, result.output
    for secret in ("instance/secret_key", "instance/keys.passphrase"):
        assert f"created secret file {secret} (mode 0600)" in result.stdout
        path = cli.workdir / secret
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert len(path.read_text(encoding="utf-8")) >= 48
    assert "created audit signing key" in result.stdout
    assert "created signature signing key" in result.stdout
    assert "audit checkpoint issued at event 2" in result.stdout
    assert len(kids(services, "audit")) == len(kids(services, "signature")) == 1
    assert count(services, AuditCheckpoint) == 1


def test_init_is_idempotent(initialised: Cli, services: Services) -> None:
    secret = (initialised.workdir / "instance" / "keys.passphrase").read_text(encoding="utf-8")
    keys_before = kids(services, "audit") + kids(services, "signature")

    result = initialised("init")
    assert result.exit_code == 0, result.output
    assert "created" not in result.stdout
    assert kids(services, "audit") + kids(services, "signature") == keys_before
    assert (initialised.workdir / "instance" / "keys.passphrase").read_text(
        encoding="utf-8"
    ) == secret
    assert count(services, AuditEvent) == 2  # no new key, no new event
    assert services.verifier.verify().ok


def test_init_migrates_an_empty_database(cli_on_empty_database: Cli) -> None:
    assert cli_on_empty_database("db", "current").stdout.strip() == "empty (run `idgov init`)"
    result = cli_on_empty_database("init")
    assert result.exit_code == 0, result.output
    assert "database is at the current schema" in result.stdout
    assert cli_on_empty_database("db", "current").stdout.strip() == head_revision()


def test_worker_refuses_a_database_that_is_not_migrated(cli_on_empty_database: Cli) -> None:
    result = cli_on_empty_database("worker", "--once")
    assert result.exit_code == 1
    assert result.stderr.startswith("idgov: error: database schema is empty, expected ")
    assert "run `idgov init`" in result.stderr


def test_db_current_shows_the_head_revision(initialised: Cli) -> None:
    result = initialised("db", "current")
    assert result.exit_code == 0
    assert result.stdout.strip() == head_revision()


# --- audit verify and checkpoints ----------------------------------------------------------


@pytest.mark.req("AUD-3")
def test_audit_verify_reports_an_intact_chain(initialised: Cli, services: Services) -> None:
    result = initialised("audit", "verify")
    assert result.exit_code == 0, result.output
    head = services.verifier.verify().head_hash
    assert result.stdout.strip() == f"audit chain OK: 2 events, head {head}"


@pytest.mark.req("AUD-3")
def test_audit_verify_names_the_first_bad_event(initialised: Cli, services: Services) -> None:
    rotate(initialised, "signature")
    tamper(services.engine, "UPDATE audit_events SET reason = 'nothing to see' WHERE seq = 2")
    result = initialised("audit", "verify")
    assert result.exit_code == 1
    assert "audit chain BROKEN at event 2:" in result.stderr
    assert "OK" not in result.stdout


@pytest.mark.req("AUD-4")
def test_chain_that_extends_an_exported_checkpoint_passes(initialised: Cli) -> None:
    checkpoint = export_checkpoint(initialised)
    document = json.loads(checkpoint.read_text(encoding="utf-8"))
    assert (document["type"], document["size"]) == ("idgov-audit-checkpoint+jwt", 2)
    rotate(initialised, "signature")  # the chain grows past the checkpoint

    result = initialised("audit", "verify", "--checkpoint", str(checkpoint))
    assert result.exit_code == 0, result.output
    assert "audit chain OK: 4 events" in result.stdout  # with the export's own event
    assert "checkpoint OK: the chain extends the checkpoint" in result.stdout
    assert "(2 events, key " in result.stdout


@pytest.mark.req("AUD-4")
def test_rewritten_chain_verifies_alone_but_not_against_a_checkpoint(
    initialised: Cli, services: Services
) -> None:
    rotate(initialised, "signature")
    checkpoint = export_checkpoint(initialised)
    rewrite_chain(services, lambda seq: f"forged reason {seq}")

    alone = initialised("audit", "verify")
    assert alone.exit_code == 0, alone.output  # the forgery is internally consistent
    assert "audit chain OK: 4 events" in alone.stdout  # with the export's own event

    result = initialised("audit", "verify", "--checkpoint", str(checkpoint))
    assert result.exit_code == 1
    assert "checkpoint MISMATCH" in result.stderr
    assert "the chain at event 3 does not match the checkpoint" in result.stderr
    assert "rewritten" in result.stderr


@pytest.mark.req("AUD-4")
def test_chain_cut_back_below_a_checkpoint_fails(initialised: Cli, services: Services) -> None:
    rotate(initialised, "signature")
    checkpoint = export_checkpoint(initialised)
    with services.sessions() as session:
        second = session.get(AuditEvent, 2)
    assert second is not None
    tamper(
        services.engine,
        "DELETE FROM audit_events WHERE seq = 3",
        move_head(2, second.prev_hash, second.hash),
    )
    assert initialised("audit", "verify").exit_code == 0  # a shorter chain is still a chain

    result = initialised("audit", "verify", "--checkpoint", str(checkpoint))
    assert result.exit_code == 1
    assert "covers 3 events but the chain has only 2: events were removed" in result.stderr


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _forge_payload(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(_unb64(payload))
    claims["head_hash"] = "f" * 64
    return f"{header}.{_b64(json.dumps(claims).encode())}.{signature}"


def _forge_signature(token: str) -> str:
    header, payload, signature = token.split(".")
    first = "B" if signature[0] == "A" else "A"  # the first character carries 6 signature bits
    return f"{header}.{payload}.{first}{signature[1:]}"


def _foreign_kid(token: str) -> str:
    header, payload, signature = token.split(".")
    fields = json.loads(_unb64(header))
    fields["kid"] = "key-of-another-installation"
    return f"{_b64(json.dumps(fields).encode())}.{payload}.{signature}"


@pytest.mark.req("AUD-4")
@pytest.mark.parametrize(
    ("forge", "problem"),
    [
        (_forge_payload, "signature does not verify"),
        (_forge_signature, "signature does not verify"),
        (_foreign_kid, "not a key of this installation"),
        (lambda _token: "not-a-token", "not an idgov checkpoint"),
    ],
    ids=["payload", "signature", "foreign-key", "garbage"],
)
def test_forged_checkpoint_file_is_rejected(
    initialised: Cli, forge: Callable[[str], str], problem: str
) -> None:
    checkpoint = export_checkpoint(initialised)
    document = json.loads(checkpoint.read_text(encoding="utf-8"))
    document["token"] = forge(document["token"])
    checkpoint.write_text(json.dumps(document), encoding="utf-8")

    result = initialised("audit", "verify", "--checkpoint", str(checkpoint))
    assert result.exit_code == 1
    assert result.stderr.startswith("checkpoint REJECTED: ")
    assert problem in result.stderr
    assert "audit chain OK" not in result.stdout


def test_the_port_alone_moves_the_checkpoint_issuer(initialised: Cli) -> None:
    # server.base_url unset: the issuer follows the port idgov is told to serve on.
    env = {"IDGOV_SERVER__PORT": "8091"}
    result = initialised("audit", "checkpoint", "--output", "moved.json", env=env)
    assert result.exit_code == 0, result.output
    document = json.loads((initialised.workdir / "moved.json").read_text(encoding="utf-8"))
    claims = json.loads(_unb64(document["token"].split(".")[1]))
    assert claims["iss"] == "http://127.0.0.1:8091"


def test_serve_options_move_the_issuer_too(
    initialised: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    served: dict[str, object] = {}

    def run_simple(host: str, port: int, app: Flask, **_options: object) -> None:
        served.update(host=host, port=port, settings=app.extensions["idgov"].settings)

    monkeypatch.setattr("werkzeug.serving.run_simple", run_simple)
    result = initialised("serve", "--host", "0.0.0.0", "--port", "8093")
    assert result.exit_code == 0, result.output
    assert (served["host"], served["port"]) == ("0.0.0.0", 8093)
    settings = served["settings"]
    assert isinstance(settings, Settings)
    assert settings.server.base_url == "http://127.0.0.1:8093"


# --- keys ------------------------------------------------------------------------------------


@pytest.mark.req("LNK-2")
def test_rotation_retires_the_old_key_but_keeps_it_published(
    initialised: Cli, services: Services, clock: FrozenClock
) -> None:
    [old] = kids(services, "signature")
    clock.advance(timedelta(days=1))
    new = rotate(initialised, "signature", reason="annual rotation")
    assert new != old

    listing = initialised("keys", "list")
    assert listing.exit_code == 0
    lines = {line.split()[0]: line for line in listing.stdout.splitlines()}
    assert len(lines) == 3  # audit, old signature, new signature
    assert lines[old].endswith(f"until {iso_utc(clock.now())}")
    assert lines[new].endswith("until active")

    jwks = create_app(services=services).test_client().get("/.well-known/jwks.json").get_json()
    published = {entry["kid"]: entry for entry in jwks["keys"]}
    assert {old, new} <= set(published)
    assert published[old]["idgov_valid_until"] == iso_utc(clock.now())
    assert "idgov_valid_until" not in published[new]


@pytest.mark.req("AUD-1")
def test_rotation_is_an_audit_event(initialised: Cli, services: Services) -> None:
    [old] = kids(services, "signature")
    new = rotate(initialised, "signature", reason="annual rotation")
    with services.sessions() as session:
        event = session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
    assert event is not None
    assert (event.action, event.target_type, event.target_id) == (
        "keys:signing-key:created",
        "signing-key",
        new,
    )
    assert event.reason == "annual rotation"
    assert json.loads(event.old_values) == {"active_kid": old}
    assert json.loads(event.new_values) == {"kid": new, "purpose": "signature", "alg": "EdDSA"}
    assert event.actor_type == "cli"


@pytest.mark.req("LNK-2")
def test_checkpoint_signed_by_a_retired_key_still_verifies(initialised: Cli) -> None:
    checkpoint = export_checkpoint(initialised)
    rotate(initialised, "audit")
    result = initialised("audit", "verify", "--checkpoint", str(checkpoint))
    assert result.exit_code == 0, result.output
    assert "checkpoint OK" in result.stdout


def test_rotate_requires_a_reason(initialised: Cli, services: Services) -> None:
    result = initialised("keys", "rotate", "--purpose", "signature")
    assert result.exit_code == 2
    assert "Missing option '--reason'" in result.stderr
    blank = initialised("keys", "rotate", "--purpose", "signature", "--reason", "   ")
    assert blank.exit_code == 2
    assert "a reason is required" in blank.stderr
    assert len(kids(services, "signature")) == 1


# --- usage and environment errors ------------------------------------------------------------


def test_unknown_option_is_a_usage_error(cli: Cli) -> None:
    result = cli("audit", "verify", "--bogus")
    assert result.exit_code == 2
    assert "No such option" in result.stderr
    assert "--bogus" in result.stderr
    assert result.stderr.startswith("Usage: idgov audit verify [OPTIONS]")


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ("[server]\nport = 70000\n", "bad.toml: key 'server.port': Input should be less than"),
        ('[database]\npool_size = "many"\n', "bad.toml: key 'database.pool_size': Input should"),
        ("[server]\nprot = 8080\n", "bad.toml: key 'server.prot': unknown setting"),
        ("[server\n", "bad.toml: not valid TOML"),
    ],
    ids=["out-of-range", "wrong-type", "unknown-key", "syntax"],
)
def test_bad_configuration_is_reported_without_a_traceback(
    cli: Cli, toml: str, expected: str
) -> None:
    (cli.workdir / "bad.toml").write_text(toml, encoding="utf-8")
    result = cli("db", "current", env={"IDGOV_CONFIG": "bad.toml"})
    assert result.exit_code == 1
    assert result.stderr.startswith(f"idgov: error: {expected}")
    assert result.stdout == ""


def test_missing_configuration_file_is_reported(cli: Cli) -> None:
    result = cli("audit", "verify", env={"IDGOV_CONFIG": "missing.toml"})
    assert result.exit_code == 1
    assert result.stderr.startswith("idgov: error: missing.toml: configuration file not found")


def test_unknown_environment_setting_is_reported(cli: Cli) -> None:
    result = cli("db", "current", env={"IDGOV_SERVER__NOPE": "1"})
    assert result.exit_code == 1
    assert "environment variable IDGOV_SERVER__NOPE: key 'server.nope': unknown setting" in (
        result.stderr
    )


@pytest.mark.parametrize("url", UNREACHABLE.values(), ids=UNREACHABLE.keys())
@pytest.mark.parametrize("command", [("db", "current"), ("audit", "verify"), ("init",)])
def test_unreachable_database_is_reported_without_a_traceback(
    cli: Cli, url: str, command: tuple[str, ...]
) -> None:
    env = {"IDGOV_DATABASE__URL": url, "IDGOV_DATABASE__CONNECT_TIMEOUT_SECONDS": "1"}
    result = cli(*command, env=env)
    assert result.exit_code == 1
    assert result.stderr.startswith("idgov: error: database unreachable: ")


# --- export and the worker -------------------------------------------------------------------


@pytest.mark.req("EXP-1")
def test_audit_export_csv_writes_every_event(initialised: Cli, services: Services) -> None:
    rotate(initialised, "signature", reason="annual rotation")
    result = initialised("audit", "export", "--format", "csv", "--output", "trail.csv")
    assert result.exit_code == 0, result.output
    assert "3 events written to trail.csv" in result.stderr

    with (initialised.workdir / "trail.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["seq"] for row in rows] == ["1", "2", "3"]
    assert {row["action"] for row in rows} == {"keys:signing-key:created"}
    assert rows[2]["reason"] == "annual rotation"
    with services.sessions() as session:
        hashes = session.scalars(select(AuditEvent.hash).order_by(AuditEvent.seq)).all()
    assert [row["hash"] for row in rows] == list(hashes)


@pytest.mark.req("AUD-4")
def test_worker_once_issues_a_checkpoint_when_due(
    initialised: Cli, services: Services, clock: FrozenClock
) -> None:
    assert count(services, AuditCheckpoint) == 1  # issued by init, at event 2

    rotate(initialised, "signature")  # the chain grows to 3 events
    assert initialised("worker", "--once").exit_code == 0
    assert count(services, AuditCheckpoint) == 1  # grown, but the interval has not passed

    clock.advance(services.checkpoint_interval)
    assert initialised("worker", "--once").exit_code == 0
    with services.sessions() as session:
        latest = session.scalars(
            select(AuditCheckpoint).order_by(AuditCheckpoint.id.desc())
        ).first()
        head = session.execute(select(AuditHead.seq, AuditHead.hash)).one()
    assert latest is not None
    assert (latest.size, latest.head_hash) == (3, head.hash)
    assert latest.issued_at == clock.now()
