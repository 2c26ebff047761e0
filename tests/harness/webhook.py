"""An HTTP receiver on a loopback port that records webhook calls and answers scripted statuses."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.harness.ports import LOOPBACK


@dataclass(frozen=True)
class ReceivedRequest:
    """One recorded request; ``json`` is None when the body is not valid JSON."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    json: Any
    received_at: float
    status: int  # the status the receiver answered with


def _parse_json(body: bytes) -> Any:
    try:
        return json.loads(body) if body else None
    except ValueError:
        return None


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        receiver = self.server.receiver
        status = receiver._next_status()
        receiver._record(
            ReceivedRequest(
                method=self.command,
                path=self.path,
                headers=dict(self.headers.items()),
                body=body,
                json=_parse_json(body),
                received_at=time.time(),
                status=status,
            )
        )
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output clean."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], receiver: WebhookReceiver) -> None:
        self.receiver = receiver
        super().__init__(address, _Handler)


class WebhookReceiver:
    """Records every request; answers ``default_status`` (204) unless ``fail_next`` says so."""

    def __init__(self, port: int = 0) -> None:
        self.host = LOOPBACK
        self.port = port
        self.default_status = 204
        self._requests: list[ReceivedRequest] = []
        self._scripted: deque[int] = deque()
        self._cond = threading.Condition()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def requests(self) -> list[ReceivedRequest]:
        with self._cond:
            return list(self._requests)

    def is_running(self) -> bool:
        return self._server is not None

    def start(self) -> None:
        """Serve in a daemon thread; a restart after stop() keeps the same port."""
        if self._server is not None:
            return
        self._server = _Server((self.host, self.port), self)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def fail_next(self, n: int, status: int = 500) -> None:
        """Answer the next ``n`` requests with ``status``."""
        with self._cond:
            self._scripted.extend([status] * n)

    def clear(self) -> None:
        with self._cond:
            self._requests.clear()
            self._scripted.clear()

    def wait_for(self, count: int = 1, timeout: float = 5.0) -> list[ReceivedRequest]:
        """Wait until at least ``count`` requests arrived; AssertionError listing them if not."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self._requests) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    arrived = [(r.method, r.path, r.status) for r in self._requests]
                    raise AssertionError(
                        f"expected {count} request(s) within {timeout}s, got "
                        f"{len(self._requests)}: {arrived}"
                    )
                self._cond.wait(remaining)
            return list(self._requests)

    def _next_status(self) -> int:
        with self._cond:
            return self._scripted.popleft() if self._scripted else self.default_status

    def _record(self, request: ReceivedRequest) -> None:
        with self._cond:
            self._requests.append(request)
            self._cond.notify_all()
