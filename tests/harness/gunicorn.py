"""idgov under gunicorn (the production server) on a free loopback port, configured from a
test's Settings, with its workers' process ids for memory readings."""

from __future__ import annotations

import sys
from pathlib import Path

from idgov.config import Settings
from tests.harness.idgov_process import IdgovProcess

REPOSITORY = Path(__file__).resolve().parents[2]  # where wsgi.py is


class GunicornServer(IdgovProcess):
    """`gunicorn wsgi:app` with `workers` processes of `threads` threads each, as an operator
    runs it; started, stopped and killed like `idgov serve` (IdgovProcess)."""

    def __init__(self, workdir: Path, settings: Settings, workers: int = 4, threads: int = 8):
        super().__init__(workdir, settings)
        self.workers = workers
        self.threads = threads
        self.pid_file = workdir / "gunicorn.pid"

    def start(self, *, wait: bool = True) -> None:
        """Launch and return once /readyz answers 200 (at once, with wait=False)."""
        self.launch(
            [
                sys.executable, "-m", "gunicorn",
                "--pythonpath", str(REPOSITORY),
                "--workers", str(self.workers),
                "--worker-class", "gthread",
                "--threads", str(self.threads),
                "--bind", f"{self.host}:{self.port}",
                "--pid", str(self.pid_file),
                "--graceful-timeout", "5",
                "wsgi:app",
            ],
            env=self.environment(),
            cwd=self.workdir,
        )  # fmt: skip
        if wait:
            self._wait_ready()

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
