"""A loopback TCP proxy that cuts the connection after a set number of server bytes, or
slows every answer (a distant or overloaded directory)."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from tests.harness.ports import LOOPBACK

_CHUNK = 4096


class DroppingProxy:
    """Forwards each accepted client connection to ``target_host:target_port`` in both
    directions. Once ``drop_after_bytes`` bytes have gone from the server to the client (over
    all connections, the last chunk cut to fit) it closes both sockets of that connection and
    every later one, as a directory that dies mid-answer would. None never drops: use it to
    measure ``bytes_to_client`` of a full exchange. ``delay`` seconds pass before each chunk
    from the server is forwarded. ``pause_after(n)`` holds the server's answers once ``n``
    bytes have gone to the client (``paused`` is then set) until ``resume()``: a directory
    caught in the middle of an answer, for a test to stop it right there."""

    def __init__(
        self,
        target_host: str,
        target_port: int,
        drop_after_bytes: int | None,
        delay: float = 0.0,
    ) -> None:
        self.target = (target_host, target_port)
        self.drop_after_bytes = drop_after_bytes
        self.delay = delay
        self.pause_at: int | None = None
        self.paused = threading.Event()
        self._resumed = threading.Event()
        self.host = LOOPBACK
        self.port = 0
        self.bytes_to_client = 0
        self.connections = 0  # accepted so far
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._sockets: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        return f"ldap://{self.host}:{self.port}"

    def pause_after(self, total_bytes: int) -> None:
        """Hold what the server sends once `total_bytes` (counted since start) have gone."""
        self._resumed.clear()
        self.paused.clear()
        self.pause_at = total_bytes

    def resume(self) -> None:
        self.pause_at = None
        self._resumed.set()

    def start(self) -> None:
        listener = socket.create_server((self.host, 0))
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._spawn(self._accept_loop, listener)

    def stop(self) -> None:
        """Close the listener and every open connection, then join all threads."""
        self.resume()
        listener, self._listener = self._listener, None
        if listener is not None:
            _close(listener)
        with self._lock:
            open_sockets = list(self._sockets)
        for sock in open_sockets:
            _close(sock)
        for thread in self._threads:
            thread.join(timeout=5)

    def _spawn(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept_loop(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # stop() closed the listener
            with self._lock:
                self.connections += 1
            try:
                server = socket.create_connection(self.target, timeout=5)
            except OSError:
                _close(client)
                continue
            server.settimeout(None)
            with self._lock:
                self._sockets.update((client, server))
            self._spawn(self._pump, client, server, False)
            self._spawn(self._pump, server, client, True)

    def _pump(self, source: socket.socket, sink: socket.socket, to_client: bool) -> None:
        try:
            while chunk := source.recv(_CHUNK):
                if to_client:
                    if self.delay:
                        time.sleep(self.delay)
                    chunk, drop = self._count(chunk)
                    sink.sendall(chunk)
                    if drop:
                        break
                    self._hold()
                else:
                    sink.sendall(chunk)
        except OSError:
            pass
        finally:
            self._close_pair(source, sink)

    def _hold(self) -> None:
        """Wait here, once the pause point is passed, until resume()."""
        if self.pause_at is not None and self.bytes_to_client >= self.pause_at:
            self.paused.set()
            self._resumed.wait()

    def _count(self, chunk: bytes) -> tuple[bytes, bool]:
        """The part of `chunk` still allowed through, and whether to drop after sending it."""
        with self._lock:
            if self.drop_after_bytes is None:
                self.bytes_to_client += len(chunk)
                return chunk, False
            allowed = max(0, self.drop_after_bytes - self.bytes_to_client)
            chunk = chunk[:allowed]
            self.bytes_to_client += len(chunk)
            return chunk, self.bytes_to_client >= self.drop_after_bytes

    def _close_pair(self, *sockets: socket.socket) -> None:
        with self._lock:
            self._sockets.difference_update(sockets)
        for sock in sockets:
            _close(sock)


@contextmanager
def proxied(
    host: str, port: int, drop_after_bytes: int | None = None, delay: float = 0.0
) -> Iterator[DroppingProxy]:
    """A started DroppingProxy to host:port for the duration of the block."""
    proxy = DroppingProxy(host, port, drop_after_bytes, delay)
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.stop()


def _close(sock: socket.socket) -> None:
    """Shut down (waking a thread blocked in recv or accept) and close."""
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()
