"""Alert delivery through a real SMTP server and webhook receiver: retries, restarts, no
duplicates, re-notification, acknowledgement and the `idgov alerts` command (ALERT-1)."""

from __future__ import annotations

import contextvars
import hashlib
import hmac
import json
import logging
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from idgov import wiring
from idgov.alerts.channels import EmailChannel, WebhookChannel, resolve_from_cwd
from idgov.alerts.delivery import AlertDispatcher
from idgov.alerts.models import Alert, AlertDelivery
from idgov.audit.models import AuditEvent
from idgov.cli import main
from idgov.clock import FrozenClock
from idgov.config import Settings, SmtpSettings
from idgov.db import transaction
from idgov.errors import Conflict, Forbidden, InvalidRequest, NotFound
from idgov.identity.creation import NewIdentity
from idgov.identity.models import Identity
from idgov.wiring import Services, build_services
from idgov.worker import Job, Worker, scheduled_jobs
from tests.harness.smtp import CapturingSmtpServer
from tests.harness.webhook import ReceivedRequest, WebhookReceiver

pytestmark = [pytest.mark.integration, pytest.mark.req("ALERT-1")]

HOOK_SECRET_ENV = "IDGOV_ALERT_HOOK_SECRET_FOR_TESTS"
HOOK_SECRET = "whsec-" + "k" * 32
SECURITY = ("security-one@example.com", "security-two@example.com")
MANAGER = "mona.manager@example.com"
SOURCE = "192.0.2.1"
HOOK_PATH = "/hooks/T0KEN-in-the-path"  # as some chat services put a token in the URL


@dataclass(frozen=True)
class People:
    person: str
    manager: str
    officer: str


@pytest.fixture
def build(
    settings: Settings, clock: FrozenClock, smtp_server: CapturingSmtpServer
) -> Iterator[Callable[..., Services]]:
    """Services on this test's database with SMTP at the harness server; each call is a new
    process as far as idgov can tell (own engine, dispatcher and channels)."""
    built: list[Services] = []

    def make(**smtp: object) -> Services:
        values = {"host": "127.0.0.1", "port": smtp_server.port, "timeout_seconds": 5, **smtp}
        services = build_services(
            settings.model_copy(update={"smtp": SmtpSettings.model_validate(values)}), clock
        )
        built.append(services)
        return services

    yield make
    for services in built:
        services.engine.dispose()


@pytest.fixture
def alerting(
    build: Callable[..., Services],
    webhook_receiver: WebhookReceiver,
    monkeypatch: pytest.MonkeyPatch,
) -> Services:
    monkeypatch.setenv(HOOK_SECRET_ENV, HOOK_SECRET)
    return build()


@pytest.fixture
def people(alerting: Services, webhook_receiver: WebhookReceiver) -> People:
    return setup_people(alerting, webhook_receiver)


def setup_people(services: Services, receiver: WebhookReceiver, **policy: object) -> People:
    with transaction(services.sessions) as session:
        create = services.identities.create
        manager = create(session, NewIdentity("mmanager", "Mona Manager", MANAGER))
        person = create(
            session, NewIdentity("jdoe", "Jane Doe", "jane@example.com", manager_id=manager.id)
        )
        officer = create(
            session,
            NewIdentity("sofficer", "Sam Officer", "sam@example.com", roles=("security_officer",)),
        )
        admin = create(
            session, NewIdentity("aadmin", "Ann Admin", "ann@example.com", roles=("admin",))
        )
        services.identities.record_verification(session, officer, admin, "badge")  # IDV-1
        hook = {"url": f"{receiver.url}{HOOK_PATH}", "secret": f"env://{HOOK_SECRET_ENV}"}
        changes = {"security_emails": list(SECURITY), "webhooks": [hook], **policy}
        services.policies.change(session, "alerting", changes, reason="test", changed_by="test")
    return People(person.id, manager.id, officer.id)


def raise_lockout(services: Services, person_id: str, attempts: int = 5) -> str:
    with transaction(services.sessions) as session:
        person = session.get_one(Identity, person_id)
        alert = services.alerts.raise_alert(
            session,
            "lockout",
            f"Jane Doe (jdoe) locked after {attempts} failed attempts",
            {"failed_attempts": attempts, "next_step": "Call Jane on her known number."},
            identity=person,
            source_address=SOURCE,
        )
        return alert.id


def deliveries(services: Services, alert_id: str | None = None) -> list[AlertDelivery]:
    with services.sessions() as session:
        query = select(AlertDelivery).order_by(AlertDelivery.id)
        if alert_id is not None:
            query = query.where(AlertDelivery.alert_id == alert_id)
        return list(session.scalars(query))


def alert_jobs(services: Services) -> list[Job]:
    return [job for job in scheduled_jobs(services) if job.name.startswith("alert-")]


def recipients(smtp_server: CapturingSmtpServer) -> list[str]:
    return sorted(to for message in smtp_server.messages for to in message.envelope_to)


def header(request: ReceivedRequest, name: str) -> str:
    """HTTP header names are case-insensitive (RFC 9110 5.1)."""
    return {key.lower(): value for key, value in request.headers.items()}[name.lower()]


def test_worker_delivers_to_each_security_address_the_manager_and_the_webhook_once(
    alerting: Services,
    people: People,
    smtp_server: CapturingSmtpServer,
    webhook_receiver: WebhookReceiver,
) -> None:
    alert_id = raise_lockout(alerting, people.person)
    worker = Worker(alerting, jobs=alert_jobs(alerting))
    worker.run_once()
    assert recipients(smtp_server) == sorted([*SECURITY, MANAGER])
    assert len(webhook_receiver.requests) == 1
    rows = deliveries(alerting, alert_id)
    assert [(row.status, row.attempts) for row in rows] == [("delivered", 1)] * 4
    worker.run_once()
    assert len(smtp_server.messages) == 3
    assert len(webhook_receiver.requests) == 1

    message = smtp_server.messages[0]
    assert message["Subject"] == (
        "[idgov] HIGH lockout: Jane Doe (jdoe) locked after 5 failed attempts"
    )
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Message-ID"].startswith(f"<idgov-alert.{alert_id}.1.")
    body = message.get_content()
    assert "Who:     Jane Doe (jdoe)" in body
    assert "When:    2026-03-02 09:30:00 UTC" in body
    assert f"Source:  {SOURCE}" in body
    assert "failed_attempts: 5" in body
    assert "1. Call Jane on her known number." in body
    assert f"idgov alerts ack {alert_id}" in body
    with alerting.sessions() as session:
        audited = session.scalars(
            select(AuditEvent.new_values).where(AuditEvent.action == "alert:lockout:delivered")
        ).all()
    assert sorted(json.loads(values)["recipient"] for values in audited) == sorted(
        [*SECURITY, MANAGER, f"{webhook_receiver.url}/..."]
    )


def test_webhook_is_signed_json_with_a_delivery_id(
    alerting: Services, people: People, webhook_receiver: WebhookReceiver
) -> None:
    alert_id = raise_lockout(alerting, people.person)
    alerting.alert_dispatcher.deliver_due()
    (request,) = webhook_receiver.requests
    assert request.method == "POST"
    assert request.path == HOOK_PATH
    assert header(request, "Content-Type") == "application/json; charset=utf-8"
    expected = hmac.new(HOOK_SECRET.encode(), request.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(header(request, "X-Idgov-Signature"), f"sha256={expected}")
    assert header(request, "X-Idgov-Timestamp") == "2026-03-02T09:30:00.000000Z"
    document = request.json
    assert header(request, "X-Idgov-Delivery") == document["delivery_id"]
    assert document["delivery_id"].startswith(f"idgov-alert.{alert_id}.1.")
    assert document["alert"]["id"] == alert_id
    assert document["alert"]["who"]["username"] == "jdoe"
    assert document["alert"]["source_address"] == SOURCE
    assert document["alert"]["attempt_counts"] == {"failed_attempts": 5}
    assert HOOK_SECRET not in request.body.decode()


def test_smtp_down_alerts_wait_with_backoff_and_are_delivered_once_when_it_returns(
    build: Callable[..., Services],
    webhook_receiver: WebhookReceiver,
    smtp_server: CapturingSmtpServer,
    clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(HOOK_SECRET_ENV, HOOK_SECRET)
    services = build()
    people = setup_people(services, webhook_receiver, max_backoff_seconds=20)
    smtp_server.stop()
    alert_id = raise_lockout(services, people.person)
    for _ in range(3):  # one e-mail failure defers the other e-mails to the next run
        services.alert_dispatcher.deliver_due()
    emails = [row for row in deliveries(services, alert_id) if row.channel == "email"]
    assert len(emails) == 3
    for row in emails:
        assert (row.status, row.attempts) == ("pending", 1)
        assert row.next_attempt_at == clock.now() + timedelta(seconds=5)
        assert "SMTP 127.0.0.1" in (row.last_error or "")
    assert len(webhook_receiver.requests) == 1  # the other channel is not held up

    for wait, attempts, backoff in ((5, 2, 10), (10, 3, 20), (20, 4, 20)):
        clock.advance(timedelta(seconds=wait - 1))
        assert services.alert_dispatcher.deliver_due() == 0
        emails = [row for row in deliveries(services, alert_id) if row.channel == "email"]
        assert {row.attempts for row in emails} == {attempts - 1}
        clock.advance(timedelta(seconds=1))
        for _ in range(3):
            services.alert_dispatcher.deliver_due()
        emails = [row for row in deliveries(services, alert_id) if row.channel == "email"]
        assert {(row.status, row.attempts) for row in emails} == {("pending", attempts)}
        assert {row.next_attempt_at for row in emails} == {clock.now() + timedelta(seconds=backoff)}

    smtp_server.start()
    clock.advance(timedelta(seconds=20))
    assert services.alert_dispatcher.deliver_due() == 3
    assert recipients(smtp_server) == sorted([*SECURITY, MANAGER])
    clock.advance(timedelta(minutes=5))
    assert services.alert_dispatcher.deliver_due() == 0
    assert len(smtp_server.messages) == 3
    assert {row.status for row in deliveries(services)} == {"delivered"}


def test_webhook_answering_500_is_retried_after_backoff_then_delivered_once(
    alerting: Services,
    people: People,
    webhook_receiver: WebhookReceiver,
    clock: FrozenClock,
) -> None:
    webhook_receiver.fail_next(2, status=500)
    alert_id = raise_lockout(alerting, people.person)
    assert alerting.alert_dispatcher.deliver_due() == 3  # the e-mails
    (hook,) = [row for row in deliveries(alerting, alert_id) if row.channel == "webhook"]
    assert (hook.status, hook.attempts, hook.last_error) == (
        "pending",
        1,
        "webhook answered HTTP 500",
    )
    assert alerting.alert_dispatcher.deliver_due() == 0  # not due before its backoff
    assert len(webhook_receiver.requests) == 1
    clock.advance(timedelta(seconds=5))
    assert alerting.alert_dispatcher.deliver_due() == 0
    clock.advance(timedelta(seconds=9))
    assert alerting.alert_dispatcher.deliver_due() == 0
    assert len(webhook_receiver.requests) == 2
    clock.advance(timedelta(seconds=1))
    assert alerting.alert_dispatcher.deliver_due() == 1
    clock.advance(timedelta(minutes=10))
    assert alerting.alert_dispatcher.deliver_due() == 0
    requests = webhook_receiver.requests
    assert [request.status for request in requests] == [500, 500, 204]
    assert len({header(request, "X-Idgov-Delivery") for request in requests}) == 1
    assert [request.json["attempt"] for request in requests] == [1, 2, 3]
    (hook,) = [row for row in deliveries(alerting, alert_id) if row.channel == "webhook"]
    assert (hook.status, hook.attempts, hook.last_error) == ("delivered", 3, None)


def test_a_restarted_worker_picks_up_what_the_old_one_could_not_deliver(
    alerting: Services,
    people: People,
    build: Callable[..., Services],
    smtp_server: CapturingSmtpServer,
    clock: FrozenClock,
) -> None:
    smtp_server.stop()
    alert_id = raise_lockout(alerting, people.person)
    Worker(alerting, jobs=alert_jobs(alerting)).run_once()
    assert {row.status for row in deliveries(alerting, alert_id) if row.channel == "email"} == {
        "pending"
    }
    alerting.engine.dispose()  # the old worker is gone

    smtp_server.start()
    clock.advance(timedelta(seconds=5))
    restarted = build()
    Worker(restarted, jobs=alert_jobs(restarted)).run_once()
    assert recipients(smtp_server) == sorted([*SECURITY, MANAGER])
    assert {row.status for row in deliveries(restarted, alert_id)} == {"delivered"}


class Crash(BaseException):
    """The process dies: nothing after the send runs."""


class CrashAfterFirstSend:
    def __init__(self, channel: EmailChannel) -> None:
        self._channel = channel
        self.crashed = False

    def send(self, recipient: str, subject: str, text_body: str, message_id: str) -> None:
        self._channel.send(recipient, subject, text_body, message_id)
        if not self.crashed:
            self.crashed = True
            raise Crash


def test_a_crash_between_send_and_commit_resends_once_with_the_same_message_id(
    alerting: Services, people: People, smtp_server: CapturingSmtpServer, clock: FrozenClock
) -> None:
    claim = timedelta(minutes=2)
    crashing = AlertDispatcher(
        clock,
        alerting.sessions,
        alerting.trail,
        alerting.policies,
        alerting.alerts,
        email=CrashAfterFirstSend(EmailChannel(alerting.settings.smtp, clock)),
        webhook=WebhookChannel(),
        secrets=resolve_from_cwd,
        claim=claim,
    )
    raise_lockout(alerting, people.person)
    with pytest.raises(Crash):
        crashing.deliver_due()
    (first,) = smtp_server.messages
    assert alerting.alert_dispatcher.deliver_due() == 3  # the others; the claimed row waits
    clock.advance(claim)
    assert alerting.alert_dispatcher.deliver_due() == 1
    clock.advance(claim)
    assert alerting.alert_dispatcher.deliver_due() == 0
    same = [m for m in smtp_server.messages if m.envelope_to == first.envelope_to]
    assert [m["Message-ID"] for m in same] == [first["Message-ID"]] * 2
    assert len(smtp_server.messages) == 4


class BrokenChannel:
    def send(self, *_args: object) -> None:
        raise RuntimeError("bug with secret-ish text inside")


def test_an_unexpected_channel_error_is_retried_and_does_not_stop_the_others(
    alerting: Services, people: People, webhook_receiver: WebhookReceiver
) -> None:
    broken = AlertDispatcher(
        alerting.clock,
        alerting.sessions,
        alerting.trail,
        alerting.policies,
        alerting.alerts,
        email=BrokenChannel(),
        webhook=WebhookChannel(),
        secrets=resolve_from_cwd,
    )
    alert_id = raise_lockout(alerting, people.person)
    assert broken.deliver_due() == 1  # the webhook
    emails = [row for row in deliveries(alerting, alert_id) if row.channel == "email"]
    assert emails[0].status == "pending"
    assert emails[0].last_error == "unexpected RuntimeError while sending"
    assert len(webhook_receiver.requests) == 1


def test_two_workers_at_once_never_send_the_same_delivery_twice(
    alerting: Services,
    people: People,
    build: Callable[..., Services],
    smtp_server: CapturingSmtpServer,
    webhook_receiver: WebhookReceiver,
) -> None:
    for attempts in range(5, 11):
        raise_lockout(alerting, people.person, attempts)
    other = build()

    def drain(services: Services) -> int:
        return sum(services.alert_dispatcher.deliver_due(limit=3) for _ in range(12))

    with ThreadPoolExecutor(max_workers=2) as pool:
        counts = [f.result() for f in [pool.submit(drain, alerting), pool.submit(drain, other)]]
    assert sum(counts) == 24
    assert len(smtp_server.messages) == 18
    assert len({m["Message-ID"] for m in smtp_server.messages}) == 18
    assert len({header(r, "X-Idgov-Delivery") for r in webhook_receiver.requests}) == 6
    assert len(webhook_receiver.requests) == 6
    assert {(row.status, row.attempts) for row in deliveries(alerting)} == {("delivered", 1)}


def renotify(services: Services) -> int:
    with transaction(services.sessions) as session:
        return services.alert_dispatcher.renotify_due(session)


def test_unacknowledged_alerts_renotify_after_the_interval_acknowledged_ones_do_not(
    alerting: Services,
    people: People,
    smtp_server: CapturingSmtpServer,
    clock: FrozenClock,
) -> None:
    alert_id = raise_lockout(alerting, people.person)
    alerting.alert_dispatcher.deliver_due()
    clock.advance(timedelta(minutes=59))
    assert renotify(alerting) == 0
    clock.advance(timedelta(minutes=1))
    Worker(alerting, jobs=alert_jobs(alerting)).run_once()  # renotify, then deliver next tick
    Worker(alerting, jobs=alert_jobs(alerting)).run_once()
    assert len(smtp_server.messages) == 6
    reminders = [m for m in smtp_server.messages if m["Subject"].startswith("[idgov] REMINDER 2")]
    assert sorted(to for m in reminders for to in m.envelope_to) == sorted([*SECURITY, MANAGER])
    rows = deliveries(alerting, alert_id)
    assert sorted({row.round for row in rows}) == [1, 2]
    assert {row.status for row in rows} == {"delivered"}

    with transaction(alerting.sessions) as session:
        officer = session.get_one(Identity, people.officer)
        alerting.alert_service.acknowledge(session, alert_id, officer, "called Jane; her typo")
    clock.advance(timedelta(hours=5))
    assert renotify(alerting) == 0
    assert len(deliveries(alerting, alert_id)) == 8


def test_notices_are_delivered_once_never_repeated_and_not_listed_as_open(
    alerting: Services, people: People, smtp_server: CapturingSmtpServer, clock: FrozenClock
) -> None:
    with transaction(alerting.sessions) as session:
        person = session.get_one(Identity, people.person)
        alerting.alerts.raise_alert(
            session,
            "password-expiry",
            "Your idgov password expires in 7 days",
            {"days_left": 7},
            severity="info",
            identity=person,
            recipients=[("email", person.email)],
        )
    assert alerting.alert_dispatcher.deliver_due() == 1
    (message,) = smtp_server.messages
    assert message.envelope_to == ("jane@example.com",)
    assert message["Subject"] == "[idgov] Your idgov password expires in 7 days"
    clock.advance(timedelta(days=2))
    assert renotify(alerting) == 0
    with alerting.sessions() as session:
        assert alerting.alert_service.list(session, "open") == []
        assert len(alerting.alert_service.list(session, "all")) == 1


def test_a_reminder_supersedes_a_round_still_waiting_for_a_channel(
    alerting: Services, people: People, smtp_server: CapturingSmtpServer, clock: FrozenClock
) -> None:
    smtp_server.stop()
    alert_id = raise_lockout(alerting, people.person)
    for _ in range(3):
        alerting.alert_dispatcher.deliver_due()
    clock.advance(timedelta(minutes=60))
    assert renotify(alerting) == 1
    smtp_server.start()
    for _ in range(2):
        alerting.alert_dispatcher.deliver_due()
    assert recipients(smtp_server) == sorted([*SECURITY, MANAGER])  # once each, not twice
    assert all(m["Subject"].startswith("[idgov] REMINDER 2") for m in smtp_server.messages)
    statuses = {(row.round, row.channel, row.status) for row in deliveries(alerting, alert_id)}
    assert statuses == {
        (1, "email", "superseded"),
        (1, "webhook", "delivered"),
        (2, "email", "delivered"),
        (2, "webhook", "delivered"),
    }


def test_smtp_password_never_reaches_errors_or_logs(
    build: Callable[..., Services],
    webhook_receiver: WebhookReceiver,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv(HOOK_SECRET_ENV, HOOK_SECRET)
    monkeypatch.setenv("IDGOV_SMTP_PASSWORD_FOR_TESTS", "smtp-pass-never-shown")
    services = build(username="idgov", password="env://IDGOV_SMTP_PASSWORD_FOR_TESTS")
    people = setup_people(services, webhook_receiver)
    alert_id = raise_lockout(services, people.person)
    # create_app() may have stopped "idgov" logs from reaching the root logger caplog watches.
    monkeypatch.setattr(logging.getLogger("idgov"), "propagate", True)
    with caplog.at_level(logging.INFO, logger="idgov"):
        services.alert_dispatcher.deliver_due()
    emails = [row for row in deliveries(services, alert_id) if row.channel == "email"]
    assert emails[0].status == "pending"
    assert "AUTH" in (emails[0].last_error or "")  # the harness server offers no login
    logged = [str(vars(record)) for record in caplog.records]
    assert any("alert delivery failed; will retry" in text for text in logged)
    assert any("alert delivered" in text for text in logged)  # the webhook
    for text in [row.last_error or "" for row in emails] + logged:
        assert "smtp-pass-never-shown" not in text
        assert HOOK_SECRET not in text
        assert HOOK_PATH not in text


def test_acknowledgement_needs_an_active_security_officer_and_a_note(
    alerting: Services, people: People
) -> None:
    alert_id = raise_lockout(alerting, people.person)
    with transaction(alerting.sessions) as session:
        person = session.get_one(Identity, people.person)
        officer = session.get_one(Identity, people.officer)
        with pytest.raises(Forbidden):
            alerting.alert_service.acknowledge(session, alert_id, person, "it was me")
        with pytest.raises(InvalidRequest):
            alerting.alert_service.acknowledge(session, alert_id, officer, "  ")
        with pytest.raises(NotFound):
            alerting.alert_service.acknowledge(session, "no-such-alert", officer, "note")
        alerting.alert_service.acknowledge(session, alert_id, officer, "called Jane")
    with transaction(alerting.sessions) as session:
        officer = session.get_one(Identity, people.officer)
        with pytest.raises(Conflict):
            alerting.alert_service.acknowledge(session, alert_id, officer, "again")
    with alerting.sessions() as session:
        alert = session.get_one(Alert, alert_id)
        assert (alert.acknowledged_by, alert.acknowledged_at) == (
            people.officer,
            alerting.clock.now(),
        )
        (event,) = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "alert:lockout:acknowledged")
        )
    assert event.target_id == alert_id
    assert event.reason == "called Jane"
    assert json.loads(event.new_values)["officer_username"] == "sofficer"
    with alerting.sessions() as session:
        assert alerting.alert_service.list(session, "open") == []
        (listing,) = alerting.alert_service.list(session, "acknowledged")
    assert (listing.username, listing.acknowledged_by) == ("jdoe", "sofficer")
    assert (listing.delivered, listing.pending) == (0, 4)


def run_cli(*args: str) -> Result:
    runner = CliRunner()
    result = contextvars.copy_context().run(
        runner.invoke, main, list(args), catch_exceptions=False, prog_name="idgov"
    )
    assert "Traceback" not in result.output
    return result


def test_idgov_alerts_list_and_ack(
    alerting: Services, people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(wiring, "build_services", lambda _settings: alerting)
    alert_id = raise_lockout(alerting, people.person)
    listed = run_cli("alerts", "list")
    assert listed.exit_code == 0, listed.output
    assert alert_id in listed.output
    assert "OPEN" in listed.output
    assert "locked after 5 failed attempts" in listed.output

    refused = run_cli("alerts", "ack", alert_id, "--officer", "jdoe", "--note", "mine")
    assert refused.exit_code == 1
    assert "only a security officer may acknowledge" in refused.output
    done = run_cli("alerts", "ack", alert_id, "--officer", "sofficer", "--note", "handled")
    assert done.exit_code == 0, done.output
    assert f"alert {alert_id} acknowledged by sofficer" in done.output
    assert "no open alerts" in run_cli("alerts", "list").output
    assert "acknowledged by sofficer" in run_cli("alerts", "list", "--all").output
    again = run_cli("alerts", "ack", alert_id, "--officer", "sofficer", "--note", "x")
    assert again.exit_code == 1
    assert "already acknowledged" in again.output
