"""Alert backoff, rendering of e-mail and webhook messages, and signing (ALERT-1)."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime

import pytest

from idgov.alerts.channels import sign
from idgov.alerts.delivery import backoff_seconds, shown_recipient
from idgov.alerts.interfaces import DeliveryFailed
from idgov.alerts.messages import (
    AlertFacts,
    subject,
    text_body,
    utc_text,
    webhook_body,
    webhook_document,
)
from idgov.alerts.models import Alert
from idgov.audit.canonical import canonical_json
from idgov.identity.models import Identity

RAISED = datetime(2026, 3, 2, 9, 30, 5, tzinfo=UTC)
ALERT_ID = "6f1c2a3e-0000-4000-8000-000000000001"


def make_alert(kind: str = "lockout", details: object = None, **fields: object) -> Alert:
    values: dict[str, object] = {
        "id": ALERT_ID,
        "kind": kind,
        "severity": "high",
        "identity_id": "person-1",
        "source_address": "192.0.2.1",
        "summary": "Jane Doe (jdoe) locked after 5 failed attempts",
        "details": details if isinstance(details, str) else canonical_json(details or {}),
        "raised_at": RAISED,
        "notify_round": 1,
        "last_notified_at": RAISED,
    }
    values.update(fields)
    return Alert(**values)


def jane() -> Identity:
    return Identity(id="person-1", username="jdoe", printed_name="Jane Doe", email="j@x.test")


@pytest.mark.parametrize(
    ("attempts", "expected"),
    [(0, 5), (1, 5), (2, 10), (3, 20), (4, 40), (6, 160), (7, 300), (8, 300), (10_000, 300)],
)
def test_backoff_doubles_from_five_seconds_up_to_the_cap(attempts: int, expected: int) -> None:
    assert backoff_seconds(attempts, 300) == expected


def test_backoff_never_exceeds_a_small_cap() -> None:
    assert [backoff_seconds(n, 12) for n in range(1, 5)] == [5, 10, 12, 12]


@pytest.mark.req("ALERT-1")
def test_body_says_who_what_when_source_attempts_and_next_steps() -> None:
    details = {
        "what": "Identity locked after consecutive failed authentications (LOCK-1)",
        "failed_attempts": 5,
        "channel": "login",
        "next_step": "Call Jane on her known number.",
    }
    facts = AlertFacts.of(make_alert(details=details), jane(), renotify_minutes=60)
    body = text_body(facts)
    assert "What:    Jane Doe (jdoe) locked after 5 failed attempts" in body
    assert "Identity locked after consecutive failed authentications" in body
    assert "Who:     Jane Doe (jdoe)" in body
    assert "When:    2026-03-02 09:30:05 UTC" in body
    assert "Source:  192.0.2.1" in body
    assert "Attempt counts:\n  failed_attempts: 5" in body
    assert "Details:\n  channel: login" in body
    assert "1. Call Jane on her known number." in body
    assert f"idgov alerts ack {ALERT_ID} --officer" in body
    assert "every 60 minutes until a security officer acknowledges it" in body


def test_kinds_without_next_steps_get_the_defaults_for_their_kind() -> None:
    lockout = text_body(AlertFacts.of(make_alert(), jane()))
    assert "Contact Jane Doe through a channel you already trust" in lockout
    attack = text_body(AlertFacts.of(make_alert("attack-source", identity_id=None), None))
    assert "Who:     no single identity" in attack
    assert "block it if it is not expected" in attack
    other = text_body(AlertFacts.of(make_alert("something-new"), None))
    assert "Investigate under your security procedure" in other


def test_secret_details_are_redacted_everywhere() -> None:
    facts = AlertFacts.of(make_alert(details={"password": "hunter2", "otp": "123456"}), jane())
    document = webhook_document(facts, "key", RAISED, 1)
    for text in (text_body(facts), webhook_body(document).decode()):
        assert "hunter2" not in text
        assert "123456" not in text
        assert "<redacted>" in text


def test_details_whose_names_merely_look_secret_are_shown() -> None:
    facts = AlertFacts.of(
        make_alert(details={"credential": "token", "otp_roles": ["admin"]}), jane()
    )
    document = webhook_document(facts, "key", RAISED, 1)
    for text in (text_body(facts), webhook_body(document).decode()):
        assert "token" in text
        assert "admin" in text
        assert "<redacted>" not in text


def test_details_that_are_not_a_json_object_still_render() -> None:
    facts = AlertFacts.of(make_alert(details="not json"), jane())
    assert "details: not json" in text_body(facts)


def test_subject_is_one_header_line_and_marks_reminders() -> None:
    alert = make_alert(summary="line one\r\nBcc: victim@example.com " + "x" * 300)
    first = subject(AlertFacts.of(alert, jane()))
    assert "\n" not in first
    assert "\r" not in first
    assert first.startswith("[idgov] HIGH lockout: line one Bcc:")
    assert len(first) == 200
    assert first.endswith("...")
    reminder = subject(AlertFacts.of(alert, jane(), round=3))
    assert reminder.startswith("[idgov] REMINDER 3: HIGH lockout")


def test_when_is_always_utc_with_its_zone() -> None:
    from datetime import timedelta, timezone

    eastern = RAISED.astimezone(timezone(timedelta(hours=-5)))
    assert utc_text(eastern) == "2026-03-02 09:30:05 UTC"


@pytest.mark.req("ALERT-1")
def test_webhook_document_and_its_signature() -> None:
    facts = AlertFacts.of(make_alert(details={"failed_attempts": 5}), jane())
    document = webhook_document(facts, "idgov-alert.x.1.7", RAISED, 2)
    body = webhook_body(document)
    parsed = json.loads(body)
    assert parsed["type"] == "idgov.alert"
    assert parsed["delivery_id"] == "idgov-alert.x.1.7"
    assert parsed["attempt"] == 2
    assert parsed["alert"]["who"] == {
        "identity_id": "person-1",
        "printed_name": "Jane Doe",
        "username": "jdoe",
    }
    assert parsed["alert"]["raised_at"] == "2026-03-02T09:30:05.000000Z"
    assert parsed["alert"]["attempt_counts"] == {"failed_attempts": 5}
    assert parsed["alert"]["next_steps"][-1].startswith("When handled, acknowledge it")
    expected = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert sign("s3cret", body) == f"sha256={expected}"


def test_webhook_urls_are_shown_without_path_or_query() -> None:
    url = "https://hooks.example.com/services/T000/B000/XXXXSECRET?token=abc"
    assert shown_recipient("webhook", url) == "https://hooks.example.com/..."
    assert shown_recipient("email", "sec@example.com") == "sec@example.com"


def test_delivery_errors_are_one_short_line() -> None:
    error = DeliveryFailed("connection\nrefused " + "y" * 500)
    assert "\n" not in error.reason
    assert len(error.reason) == 200
    assert str(error) == error.reason


def test_a_notice_is_not_a_security_alert_and_asks_for_no_acknowledgement() -> None:
    notice = make_alert(
        "password-expiry",
        details={"next_steps": ["Change your password."], "days_left": 7},
        severity="info",
        summary="Your idgov password expires in 7 days",
    )
    facts = AlertFacts.of(notice, jane(), renotify_minutes=60)
    body = text_body(facts)
    assert body.startswith("idgov notice (password-expiry)")
    assert "1. Change your password." in body
    assert "idgov alerts ack" not in body
    assert "repeated" not in body
    assert subject(facts) == "[idgov] Your idgov password expires in 7 days"
