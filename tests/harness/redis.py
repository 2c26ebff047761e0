"""A real redis-server on a free loopback port, nothing persisted: shared throttle storage."""

from __future__ import annotations

from pathlib import Path

from redis import Redis

from tests.harness.missing import require_binary
from tests.harness.ports import LOOPBACK, free_port, wait_for_port
from tests.harness.process import ServerProcess

INSTALL_HINT = "apt-get install -y redis-server"
START_TIMEOUT = 10.0


class RedisServer(ServerProcess):
    """`redis-server` in the foreground, no snapshots or append-only file (a test's counts
    live and die with the process); `stop()` makes the storage unreachable, `start()` again
    brings up an empty one on the same port."""

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        super().__init__(workdir / "redis.log")
        self.workdir = workdir
        self.host = LOOPBACK
        self.port = port or free_port(self.host)

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    def start(self) -> None:
        binary = require_binary("redis-server", INSTALL_HINT)
        self.launch(
            [
                binary,
                "--bind", self.host,
                "--port", str(self.port),
                "--save", "",
                "--appendonly", "no",
                "--dir", str(self.workdir),
                "--protected-mode", "yes",
            ]
        )  # fmt: skip
        try:
            wait_for_port(self.host, self.port, START_TIMEOUT)
        except TimeoutError:
            self.stop()
            raise RuntimeError(f"redis-server did not start:\n{self.log_tail()}") from None

    def keys(self, pattern: str = "*") -> list[str]:
        """The keys stored now."""
        with Redis.from_url(self.url, socket_timeout=2) as client:
            return sorted(key.decode() for key in client.keys(pattern))
