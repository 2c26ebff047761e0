"""An aiosmtpd server on a loopback port that captures every message it is sent."""

from __future__ import annotations

import threading
import time
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

from aiosmtpd.controller import Controller

from tests.harness.ports import LOOPBACK, free_port


class CapturedMessage(EmailMessage):
    """A received message (parsed with email.policy.default) plus its SMTP envelope."""

    envelope_from: str = ""
    envelope_to: tuple[str, ...] = ()
    received_at: float = 0.0


class _CaptureHandler:
    def __init__(self, sink: CapturingSmtpServer) -> None:
        self._sink = sink

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        data = raw if isinstance(raw, bytes) else str(raw).encode("utf-8")
        msg = message_from_bytes(data, _class=CapturedMessage, policy=default_policy)
        assert isinstance(msg, CapturedMessage)
        msg.envelope_from = envelope.mail_from
        msg.envelope_to = tuple(envelope.rcpt_tos)
        msg.received_at = time.time()
        self._sink._record(msg)
        return "250 Message accepted for delivery"


class CapturingSmtpServer:
    """Auth-less SMTP sink on 127.0.0.1; ``stop()`` simulates "SMTP down", ``start()`` revives."""

    def __init__(self, port: int | None = None) -> None:
        self.host = LOOPBACK
        self.port = port or free_port(self.host)
        self._messages: list[CapturedMessage] = []
        self._cond = threading.Condition()
        self._controller: Controller | None = None

    @property
    def messages(self) -> list[CapturedMessage]:
        with self._cond:
            return list(self._messages)

    def is_running(self) -> bool:
        return self._controller is not None

    def start(self) -> None:
        if self._controller is not None:
            return
        # A Controller owns an event loop that only start()/stop() closes: build one per start.
        controller = Controller(
            _CaptureHandler(self), hostname=self.host, port=self.port, server_hostname="localhost"
        )
        controller.start()
        self._controller = controller

    def stop(self) -> None:
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    def restart(self) -> None:
        self.stop()
        self.start()

    def clear(self) -> None:
        with self._cond:
            self._messages.clear()

    def wait_for(self, count: int = 1, timeout: float = 5.0) -> list[CapturedMessage]:
        """Wait until at least ``count`` messages arrived; AssertionError listing them if not."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self._messages) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    arrived = [(m.envelope_to, m["Subject"]) for m in self._messages]
                    raise AssertionError(
                        f"expected {count} message(s) within {timeout}s, got "
                        f"{len(self._messages)}: {arrived}"
                    )
                self._cond.wait(remaining)
            return list(self._messages)

    def _record(self, msg: CapturedMessage) -> None:
        with self._cond:
            self._messages.append(msg)
            self._cond.notify_all()
