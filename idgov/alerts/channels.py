"""Alert channels: plain-text e-mail over SMTP and HMAC-signed JSON webhooks (ALERT-1)."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import smtplib
import ssl
import urllib.error
import urllib.request
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import IO, Any

from idgov.alerts.interfaces import DeliveryFailed, SecretResolver
from idgov.clock import Clock, SystemClock
from idgov.config import SmtpSettings, resolve_secret
from idgov.errors import ConfigurationError

SIGNATURE_HEADER = "X-Idgov-Signature"
TIMESTAMP_HEADER = "X-Idgov-Timestamp"
DELIVERY_HEADER = "X-Idgov-Delivery"
USER_AGENT = "idgov-alerts/1"


def resolve_from_cwd(reference: str) -> str:
    """Secret references relative to the working directory, as for the other secrets."""
    return resolve_secret(reference, Path.cwd())


def sign(secret: str, body: bytes) -> str:
    """The signature header value: HMAC-SHA256 (RFC 2104) over the raw body, lower-case hex."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


class EmailChannel:
    """Sends through the configured SMTP server: STARTTLS when asked for (certificate checked
    against the system CAs), login when a username is set, every socket operation timed."""

    def __init__(
        self,
        settings: SmtpSettings,
        clock: Clock | None = None,
        secrets: SecretResolver = resolve_from_cwd,
    ) -> None:
        self._settings = settings
        self._clock = clock or SystemClock()
        self._secrets = secrets
        self._domain = settings.from_address.rpartition("@")[2] or "idgov.invalid"

    def send(self, recipient: str, subject: str, text_body: str, message_id: str) -> None:
        settings = self._settings
        where = f"SMTP {settings.host}:{settings.port}"
        try:
            message = EmailMessage()
            message["From"] = settings.from_address
            message["To"] = recipient
            message["Subject"] = subject
            message["Date"] = format_datetime(self._clock.now())
            message["Message-ID"] = f"<{message_id}@{self._domain}>"
            # RFC 3834: machine-generated, so that vacation responders stay quiet.
            message["Auto-Submitted"] = "auto-generated"
            message.set_content(text_body)
        except (ValueError, TypeError) as exc:
            # A header the mail system would refuse (for instance a line break in an address).
            raise DeliveryFailed(f"cannot build the message: {exc}") from None
        password = self._password()
        try:
            with smtplib.SMTP(
                settings.host, settings.port, timeout=settings.timeout_seconds
            ) as smtp:
                if settings.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if settings.username:
                    smtp.login(settings.username, password or "")
                smtp.send_message(message, settings.from_address, [recipient])
        except smtplib.SMTPAuthenticationError as exc:
            # The server's answer only; smtplib never puts the password in it.
            raise DeliveryFailed(f"{where}: login refused ({exc.smtp_code})") from None
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryFailed(f"{where}: {type(exc).__name__}: {exc}") from None

    def _password(self) -> str | None:
        reference = self._settings.password
        if not self._settings.username or not reference:
            return None
        try:
            return self._secrets(reference)
        except ConfigurationError as exc:
            raise DeliveryFailed(f"SMTP password: {exc.detail}") from None


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirected POST would turn into a GET without the alert: report it as a failure."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: Any,
        newurl: str,
    ) -> urllib.request.Request | None:
        return None


class WebhookChannel:
    """POSTs JSON with `X-Idgov-Signature: sha256=<hex>` over the raw body; 2xx is success."""

    def __init__(self, timeout_seconds: float = 10.0) -> None:
        self._timeout = timeout_seconds
        self._opener = urllib.request.build_opener(_NoRedirects())

    def send(self, url: str, secret: str, body: bytes, delivery_id: str, timestamp: str) -> None:
        if not url.startswith(("http://", "https://")):
            raise DeliveryFailed("webhook URL must be http:// or https://")
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            SIGNATURE_HEADER: sign(secret, body),
            TIMESTAMP_HEADER: timestamp,
            DELIVERY_HEADER: delivery_id,
        }
        # Errors name the kind of failure, never the URL: a webhook URL may carry a token.
        try:
            request = urllib.request.Request(url, data=body, method="POST", headers=headers)  # noqa: S310 - scheme checked above
            with self._opener.open(request, timeout=self._timeout) as response:
                status = int(response.status)
        except urllib.error.HTTPError as exc:
            status = exc.code
            exc.close()
        except urllib.error.URLError as exc:
            reason = exc.reason if isinstance(exc.reason, OSError) else "invalid address"
            raise DeliveryFailed(f"webhook unreachable: {reason}") from None
        except OSError as exc:  # timeouts and resets: socket errors never name the URL
            raise DeliveryFailed(f"webhook unreachable: {type(exc).__name__}: {exc}") from None
        except (http.client.HTTPException, ValueError) as exc:
            raise DeliveryFailed(f"webhook failed: {type(exc).__name__}") from None
        if not 200 <= status < 300:
            raise DeliveryFailed(f"webhook answered HTTP {status}")
