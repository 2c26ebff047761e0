"""The real app served over HTTP on a free loopback port, in a thread, for browser tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from tests.harness.ports import LOOPBACK, free_port, wait_for_port

START_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0


class LiveServer:
    """werkzeug's threaded WSGI server around `app` (built with create_app(services=...))."""

    def __init__(self, app: Flask, port: int | None = None) -> None:
        self.app = app
        self.host = LOOPBACK
        self.port = port or free_port(self.host)
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        """Listen, serve in a daemon thread, and return once connections are accepted."""
        self._server = make_server(self.host, self.port, self.app, threaded=True)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name=f"live-server-{self.port}", daemon=True
        )
        self._thread.start()
        wait_for_port(self.host, self.port, START_TIMEOUT)

    def stop(self) -> None:
        """Stop accepting, finish the request in progress, and close the socket."""
        server, self._server = self._server, None
        thread, self._thread = self._thread, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(STOP_TIMEOUT)


@contextmanager
def live_server(app: Flask, port: int | None = None) -> Iterator[LiveServer]:
    """A LiveServer for the duration of the block (one per test), on `port` or a free one."""
    server = LiveServer(app, port)
    server.start()
    try:
        yield server
    finally:
        server.stop()
