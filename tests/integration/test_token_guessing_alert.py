"""Client-secret guessing at /oauth/token raises one alert per burst, delivered by the worker
through a real SMTP server like a lockout alert (ALERT-1, finding 3)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from idgov.alerts.models import Alert
from idgov.alerts.refusals import GRACE, WINDOW
from idgov.app import create_app
from idgov.audit.models import AuditEvent
from idgov.clock import FrozenClock
from idgov.config import Settings, SmtpSettings, ThrottlingSettings
from idgov.db import transaction
from idgov.wiring import Services, build_services
from idgov.worker import Worker, scheduled_jobs
from tests.harness.smtp import CapturingSmtpServer

pytestmark = [pytest.mark.integration, pytest.mark.req("ALERT-1")]

SECURITY = "soc@example.com"
GUESSER = "203.0.113.9"


@pytest.fixture
def mailing(
    settings: Settings, clock: FrozenClock, smtp_server: CapturingSmtpServer
) -> Iterator[Services]:
    smtp = SmtpSettings.model_validate(
        {"host": "127.0.0.1", "port": smtp_server.port, "timeout_seconds": 5}
    )
    # 30 guesses at one client: past the token throttle's default per client, which answers
    # 429 before any check (tests/functional/test_throttling.py); this test is the alert's.
    unthrottled = ThrottlingSettings(enabled=False)
    services = build_services(
        settings.model_copy(update={"smtp": smtp, "throttling": unthrottled}), clock
    )
    with transaction(services.sessions) as session:
        services.policies.change(
            session, "alerting", {"security_emails": [SECURITY]}, reason="t", changed_by="t"
        )
    yield services
    services.engine.dispose()


def test_a_burst_of_wrong_client_secrets_is_alerted_once_and_mailed(
    mailing: Services, smtp_server: CapturingSmtpServer, clock: FrozenClock
) -> None:
    with transaction(mailing.sessions) as session:
        client, _secret = mailing.clients.add(session, "lims", ["signatures"])
    host: FlaskClient = create_app(services=mailing).test_client()
    form = {"grant_type": "client_credentials", "client_id": client.client_id}
    for attempt in range(30):
        answer = host.post(
            "/oauth/token",
            data={**form, "client_secret": f"guess-{attempt}"},
            environ_base={"REMOTE_ADDR": GUESSER},
        )
        assert answer.status_code == 401
    worker = Worker(mailing, jobs=scheduled_jobs(mailing))
    worker.run_once()
    worker.run_once()
    [message] = smtp_server.messages
    assert message["To"] == SECURITY
    assert "Repeated failed client authentications" in message["Subject"]
    assert client.client_id in message["Subject"]
    with mailing.sessions() as session:
        assert len(session.scalars(select(Alert)).all()) == 1
    # The worker records the idle window in aggregate: one event for 30 refusals.
    clock.advance(WINDOW + GRACE)
    worker.run_once()
    with mailing.sessions() as session:
        actions = session.scalars(select(AuditEvent.action)).all()
    assert actions.count("auth:refusals:aggregated") == 1
    assert "client:token:refused" not in actions
