"""idgov under gunicorn (the production server) on a free loopback port, with its workers'
process ids for memory readings and fault injection."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from tests.harness.ports import LOOPBACK, free_port, wait_for_port
from tests.harness.process import ServerProcess

START_TIMEOUT = 30.0
REPOSITORY = Path(__file__).resolve().parents[2]  # where wsgi.py is


class GunicornServer(ServerProcess):
    """`gunicorn wsgi:app` with `workers` processes of `threads` threads each, configured by
    the TOML file `config` (IDGOV_CONFIG), as an operator runs it."""

    def __init__(self, workdir: Path, config: Path, workers: int = 4, threads: int = 8) -> None:
        super().__init__(workdir / "gunicorn.log")
        self.workdir = workdir
        self.config = config
        self.workers = workers
        self.threads = threads
        self.host = LOOPBACK
        self.port = free_port(self.host)
        self.pid_file = workdir / "gunicorn.pid"

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        self.launch(
            [
                sys.executable, "-m", "gunicorn",
                "--chdir", str(REPOSITORY),
                "--workers", str(self.workers),
                "--worker-class", "gthread",
                "--threads", str(self.threads),
                "--bind", f"{self.host}:{self.port}",
                "--pid", str(self.pid_file),
                "--graceful-timeout", "5",
                "wsgi:app",
            ],
            env={**os.environ, "IDGOV_CONFIG": str(self.config)},
        )  # fmt: skip
        try:
            wait_for_port(self.host, self.port, START_TIMEOUT)
        except TimeoutError:
            self.stop()
            raise RuntimeError(f"gunicorn did not start:\n{self.log_tail()}") from None

    def worker_pids(self) -> list[int]:
        """The worker processes (children of the master), as Linux lists them."""
        master = int(self.pid_file.read_text().strip())
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        return [int(pid) for pid in children]


def rss_kib(pid: int) -> int:
    """Resident memory of a process now (VmRSS in /proc/PID/status), 0 once it has gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0
