"""A server process the harness launches: its log, a gentle stop, and a stop at exit."""

from __future__ import annotations

import atexit
import subprocess
import time
from collections.abc import Callable, Mapping
from pathlib import Path


def stop_process(proc: subprocess.Popen[bytes] | None, timeout: float) -> None:
    """SIGTERM `proc` and wait; SIGKILL if it has not exited within `timeout` seconds."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class ServerProcess:
    """One foreground server process writing to `log_path`; stopped at interpreter exit
    too, so that a failed run leaves no server behind."""

    stop_timeout = 10.0

    def __init__(self, log_path: Path) -> None:
        self.log_path = log_path
        self._proc: subprocess.Popen[bytes] | None = None
        self._atexit_registered = False

    def is_running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def launch(
        self, cmd: list[str], env: Mapping[str, str] | None = None, cwd: Path | None = None
    ) -> None:
        with self.log_path.open("ab") as log:
            self._proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=cwd,
            )
        if not self._atexit_registered:
            atexit.register(self.stop)
            self._atexit_registered = True

    def stop(self) -> None:
        """SIGTERM the server and wait; SIGKILL if it does not exit within stop_timeout."""
        proc, self._proc = self._proc, None
        stop_process(proc, self.stop_timeout)

    def wait_until_ready(self, ready: Callable[[], bool], timeout: float, what: str) -> None:
        """Poll `ready` (which swallows its own errors) until true; if the process exits or
        `timeout` seconds pass first, stop it and raise with the tail of its log."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.is_running():
            if ready():
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{what} did not start; log tail:\n{self.log_tail()}")

    def log_tail(self, lines: int = 40) -> str:
        """The last `lines` lines of the log, for the message of a failed start."""
        if not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
