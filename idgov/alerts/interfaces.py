"""Ports for alert delivery: the e-mail and webhook senders the dispatcher drives (ALERT-1)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

# A delivery error is stored on the row and logged: keep it short, and never put a secret in it.
MAX_ERROR = 200


class DeliveryFailed(Exception):
    """One attempt to deliver an alert did not succeed; the dispatcher retries with backoff.

    The message says what went wrong (connection refused, HTTP 500, timeout) and never
    carries a secret: it is stored in `alert_deliveries.last_error` and logged.
    """

    def __init__(self, reason: str) -> None:
        short = " ".join(reason.split())
        super().__init__(short[:MAX_ERROR])
        self.reason = short[:MAX_ERROR]


class EmailSender(Protocol):
    """Sends one plain-text e-mail to one recipient."""

    def send(self, recipient: str, subject: str, text_body: str, message_id: str) -> None:
        """Hand the message to the mail server, or raise DeliveryFailed.

        `message_id` is the left part of the Message-ID (RFC 5322 3.6.4; the sender adds the
        domain) and is stable across retries of one delivery: a re-send after a crash carries
        the same id, so mail systems and people can recognise the duplicate. Returning means
        the server accepted the message.
        """
        ...


class WebhookSender(Protocol):
    """POSTs one signed JSON document to one webhook."""

    def send(self, url: str, secret: str, body: bytes, delivery_id: str, timestamp: str) -> None:
        """POST `body`, signed with HMAC-SHA256 keyed by `secret` (RFC 2104), or raise
        DeliveryFailed. Returning means the receiver answered 2xx.

        `delivery_id` is stable across retries of one delivery, for de-duplication by the
        receiver; `timestamp` is the ISO 8601 UTC time of this attempt.
        """
        ...


class SecretResolver(Protocol):
    """Turns a secret reference (env://NAME, file://path) into the secret; raises
    ConfigurationError, whose message names the reference but never the value."""

    def __call__(self, reference: str) -> str: ...


class SecretLinks(Protocol):
    """Mints the single-use link a notice to its owner carries (a set-password link, CMP-2)
    when the e-mail is built: the link is never kept in the outbox, the alert or the trail."""

    def link_for(self, kind: str, details: Mapping[str, Any]) -> str | None:
        """The link for an alert of `kind` with these details, or None if it carries none."""
        ...
