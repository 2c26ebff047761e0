"""Every process logs the same structured lines, the worker run on its own included (ALERT-1)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from idgov.db import transaction
from idgov.wiring import Services
from tests.functional import test_cli
from tests.functional.test_cli import Cli
from tests.harness.ports import free_port

cli = test_cli.cli  # the fixture: `idgov` on this test's migrated database
initialised = test_cli.initialised

FAILED = "alert delivery failed; will retry"
SECURITY = "soc@example.com"
SMTP_PASSWORD = "smtp-password-" + "q" * 24  # a literal, so that a leak would show it


@pytest.fixture
def pending_alert(services: Services) -> str:
    """A lockout alert with one e-mail delivery due now."""
    with transaction(services.sessions) as session:
        services.policies.change(
            session, "alerting", {"security_emails": [SECURITY]}, reason="test", changed_by="t"
        )
        alert = services.alerts.raise_alert(
            session, "lockout", "Jane Doe (jdoe) locked after 5 failed attempts", {"attempts": 5}
        )
    return alert.id


def smtp_nowhere(**more: str) -> dict[str, str]:
    """[smtp] at a loopback port nobody listens on, with a login whose password must not leak."""
    return {
        "IDGOV_SMTP__PORT": str(free_port()),
        "IDGOV_SMTP__TIMEOUT_SECONDS": "2",
        "IDGOV_SMTP__USERNAME": "idgov",
        "IDGOV_SMTP__PASSWORD": SMTP_PASSWORD,
        **more,
    }


def json_lines(stderr: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]


@pytest.mark.req("ALERT-1")
def test_worker_alone_logs_json_lines_that_say_why_a_delivery_failed(
    initialised: Cli, pending_alert: str
) -> None:
    result = initialised("worker", "--once", env=smtp_nowhere())
    assert result.exit_code == 0, result.output

    [failed] = [line for line in json_lines(result.stderr) if line["msg"] == FAILED]
    assert failed["level"] == "WARNING"
    assert failed["logger"] == "idgov.alerts"
    assert datetime.fromisoformat(str(failed["ts"])).utcoffset() == UTC.utcoffset(None)
    assert "ConnectionRefusedError" in str(failed["error"])  # the reason, not only the fact
    assert (failed["channel"], failed["recipient"]) == ("email", SECURITY)
    assert (failed["alert_id"], failed["attempt"]) == (pending_alert, 1)
    assert "retry_at" in failed
    assert SMTP_PASSWORD not in result.output


def test_text_format_keeps_the_reason_too(initialised: Cli, pending_alert: str) -> None:
    env = smtp_nowhere(IDGOV_LOGGING__FORMAT="text")
    result = initialised("worker", "--once", env=env)
    assert result.exit_code == 0, result.output

    [line] = [line for line in result.stderr.splitlines() if FAILED in line]
    assert f" WARNING idgov.alerts {FAILED} " in line
    assert "ConnectionRefusedError" in line
    assert f'recipient="{SECURITY}"' in line
    assert SMTP_PASSWORD not in result.output


def test_logging_level_is_the_configured_one(initialised: Cli, pending_alert: str) -> None:
    result = initialised("worker", "--once", env=smtp_nowhere(IDGOV_LOGGING__LEVEL="ERROR"))
    assert result.exit_code == 0, result.output
    assert FAILED not in result.stderr  # a WARNING, below the level asked for
