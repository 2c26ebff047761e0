"""Alert messages: the e-mail subject and text, and the webhook JSON document (ALERT-1)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from idgov.alerts.models import Alert
from idgov.audit.canonical import canonical_json, redact
from idgov.clock import iso_utc
from idgov.counted import counted
from idgov.identity.models import Identity

WEBHOOK_TYPE = "idgov.alert"
MAX_SUBJECT = 200
# Detail keys shown under "Attempt counts" (failed_attempts, max_failures, distinct_usernames...).
COUNT_KEY = re.compile(r"attempt|failure|count|distinct|threshold|window", re.I)
NEXT_STEP_KEYS = ("next_step", "next_steps")
# Detail keys the message already shows in its own lines (Who, What, When, Source).
HEADLINE_KEYS = ("who", "what", "when", "source_address")
DEFAULT_NEXT_STEPS: dict[str, tuple[str, ...]] = {
    "lockout": (
        "Contact {who} through a channel you already trust (not by replying to this message) "
        "and ask whether the failed attempts were theirs.",
        "If they were not, treat this as an attack: look for other alerts from the same "
        "source address and follow your incident procedure.",
        "Unlock only when satisfied: unlocking needs a security officer and a reason (LOCK-2).",
    ),
    "attack": (
        "Check the source address against your network records; block it if it is not expected.",
        "Look for other alerts from the same address or against the same usernames.",
        "Follow your incident procedure and record what you found.",
    ),
}
GENERIC_NEXT_STEPS = ("Investigate under your security procedure and record what you found.",)
# Severity "info" is a notice (a password about to expire, PWD-3), often sent to the person
# themself: nothing to acknowledge, never repeated.
NOTICE = "info"


@dataclass(frozen=True, slots=True)
class Person:
    identity_id: str
    printed_name: str
    username: str


@dataclass(frozen=True, slots=True)
class AlertFacts:
    """Everything a message says about one alert; `details` are already redacted."""

    alert_id: str
    kind: str
    severity: str
    summary: str
    raised_at: datetime
    round: int
    source_address: str | None
    who: Person | None
    details: Mapping[str, Any]
    renotify_minutes: int | None = None
    link: str | None = None  # minted at sending time for the owner only (SecretLinks)

    @classmethod
    def of(
        cls,
        alert: Alert,
        identity: Identity | None,
        *,
        round: int | None = None,
        renotify_minutes: int | None = None,
    ) -> AlertFacts:
        """From the stored alert; `round` is the delivery's (older rounds may still be due)."""
        who = Person(identity.id, identity.printed_name, identity.username) if identity else None
        return cls(
            alert_id=alert.id,
            kind=alert.kind,
            severity=alert.severity,
            summary=alert.summary,
            raised_at=alert.raised_at,
            round=round or alert.notify_round,
            source_address=alert.source_address,
            who=who,
            details=redact(_load(alert.details)),
            renotify_minutes=renotify_minutes,
        )


def _load(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {"details": text}
    return value if isinstance(value, dict) else {"details": value}


def describe_who(who: Person | None) -> str:
    return f"{who.printed_name} ({who.username})" if who else "no single identity"


def utc_text(moment: datetime) -> str:
    """Human form of a time, always with its zone: `2026-03-02 09:30:00 UTC`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def attempt_counts(facts: AlertFacts) -> dict[str, Any]:
    return {key: value for key, value in facts.details.items() if COUNT_KEY.search(key)}


def other_details(facts: AlertFacts) -> dict[str, Any]:
    return {
        key: value
        for key, value in facts.details.items()
        if not COUNT_KEY.search(key) and key not in NEXT_STEP_KEYS + HEADLINE_KEYS
    }


def description(facts: AlertFacts) -> str | None:
    """The longer `what` an alert may carry beside its one-line summary."""
    what = facts.details.get("what")
    return what if isinstance(what, str) and what.strip() and what != facts.summary else None


def next_steps(facts: AlertFacts) -> list[str]:
    """The alert's own next steps when it carries them, else the defaults for its kind; the
    last step of an alert (not of a notice) is how to acknowledge it."""
    given: list[str] = []
    for key in NEXT_STEP_KEYS:
        value = facts.details.get(key)
        if isinstance(value, str) and value.strip():
            given.append(value.strip())
        elif isinstance(value, list):
            given += [str(step) for step in value if str(step).strip()]
    if not given:
        who = facts.who.printed_name if facts.who else "the person concerned"
        family = facts.kind if facts.kind in DEFAULT_NEXT_STEPS else facts.kind.split("-")[0]
        given = [step.format(who=who) for step in DEFAULT_NEXT_STEPS.get(family, ())]
    given = given or list(GENERIC_NEXT_STEPS)
    if facts.severity == NOTICE:
        return given
    given.append(
        f"When handled, acknowledge it: idgov alerts ack {facts.alert_id} --officer "
        f'<your username> --note "<what you did>"'
    )
    return given


def subject(facts: AlertFacts) -> str:
    reminder = f"REMINDER {facts.round}: " if facts.round > 1 else ""
    text = f"[idgov] {reminder}{facts.severity.upper()} {facts.kind}: {facts.summary}"
    if facts.severity == NOTICE:
        text = f"[idgov] {facts.summary}"
    text = " ".join(text.split())  # no line breaks in a header
    return text if len(text) <= MAX_SUBJECT else text[: MAX_SUBJECT - 3] + "..."


def text_body(facts: AlertFacts) -> str:
    """Plain text: what, who, when (UTC), source, attempt counts, details, what to do next."""
    lines = [
        f"idgov notice ({facts.kind})"
        if facts.severity == NOTICE
        else f"idgov security alert ({facts.kind}, severity {facts.severity})",
        "",
        f"What:    {facts.summary}",
        *([f"         {description(facts)}"] if description(facts) else []),
        f"Who:     {describe_who(facts.who)}",
        f"When:    {utc_text(facts.raised_at)}",
        f"Source:  {facts.source_address or 'unknown'}",
        f"Alert:   {facts.alert_id} (notification {facts.round})",
    ]
    for title, section in (
        ("Attempt counts", attempt_counts(facts)),
        ("Details", other_details(facts)),
    ):
        if section:
            lines += ["", f"{title}:"]
            lines += [f"  {key}: {_plain(value)}" for key, value in sorted(section.items())]
    lines += ["", "What to do next:"]
    lines += [f"  {number}. {step}" for number, step in enumerate(next_steps(facts), 1)]
    if facts.link:
        lines += ["", "Your link (for you alone; do not forward it):", f"  {facts.link}"]
    lines += ["", _footer(facts)]
    return "\n".join(lines) + "\n"


def _plain(value: Any) -> str:
    return value if isinstance(value, str) else canonical_json(value)


def _footer(facts: AlertFacts) -> str:
    if facts.renotify_minutes and facts.severity != NOTICE:
        return (
            "This alert is repeated every "
            f"{counted(facts.renotify_minutes, 'minute')} until a security officer acknowledges it."
        )
    return "Sent by idgov."


def webhook_document(
    facts: AlertFacts, delivery_id: str, sent_at: datetime, attempt: int
) -> dict[str, Any]:
    """The JSON a webhook receives; `delivery_id` is the same on every retry (de-duplication)."""
    who = (
        {
            "identity_id": facts.who.identity_id,
            "printed_name": facts.who.printed_name,
            "username": facts.who.username,
        }
        if facts.who
        else None
    )
    return {
        "type": WEBHOOK_TYPE,
        "delivery_id": delivery_id,
        "attempt": attempt,
        "sent_at": iso_utc(sent_at),
        "alert": {
            "id": facts.alert_id,
            "kind": facts.kind,
            "severity": facts.severity,
            "summary": facts.summary,
            "description": description(facts),
            "raised_at": iso_utc(facts.raised_at),
            "notification": facts.round,
            "source_address": facts.source_address,
            "who": who,
            "attempt_counts": attempt_counts(facts),
            "details": other_details(facts),
            "next_steps": next_steps(facts),
        },
    }


def webhook_body(document: Mapping[str, Any]) -> bytes:
    """The exact bytes that are signed and sent: canonical JSON, UTF-8."""
    return canonical_json(document).encode("utf-8")
