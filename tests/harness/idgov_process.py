"""A real `idgov serve` process on a loopback port, configured from a test's Settings, that a
fault test can stop gently or kill with SIGKILL (a crash: no handler, no cleanup, no flush)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import requests

from idgov.config import Settings
from tests.harness.ports import LOOPBACK, free_port
from tests.harness.process import ServerProcess

START_TIMEOUT = 30.0


def _toml_value(value: Any) -> str:
    """One value as TOML: JSON's strings, numbers, booleans and arrays are TOML's; a table
    becomes an inline table."""
    if isinstance(value, dict):
        items = ", ".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items())
        return "{ " + items + " }" if items else "{}"
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    return json.dumps(value)


def settings_toml(settings: Settings) -> str:
    """`settings` as an idgov TOML file (values left unset, None, are left out). The server's
    host, port and base URL are the process's own: IdgovProcess sets them."""
    dumped = settings.model_dump(mode="json")
    lines: list[str] = []
    for section, table in dumped.items():
        if section in ("directories", "oidc"):
            for name, entry in table.items():
                lines.append(f"[{section}.{json.dumps(name)}]")
                lines += [f"{k} = {_toml_value(v)}" for k, v in entry.items() if v is not None]
            continue
        lines.append(f"[{section}]")
        skip = ("host", "port", "base_url") if section == "server" else ()
        lines += [
            f"{k} = {_toml_value(v)}" for k, v in table.items() if v is not None and k not in skip
        ]
    return "\n".join(lines) + "\n"


def idgov_binary() -> str:
    """The `idgov` script of the interpreter running the tests (the project's venv)."""
    beside = Path(sys.executable).with_name("idgov")
    found = str(beside) if beside.exists() else shutil.which("idgov")
    if found is None:
        raise RuntimeError("the idgov command is not installed (pip install -e .)")
    return found


class IdgovProcess(ServerProcess):
    """`idgov serve` (optionally `--with-worker`) in a session of its own, reading a config
    file written from `settings`. `kill()` is SIGKILL: the crash the fault tests prove."""

    def __init__(self, workdir: Path, settings: Settings, *, with_worker: bool = False) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        super().__init__(workdir / "idgov.log")
        self.workdir = workdir
        self.config = workdir / "idgov.toml"
        self.config.write_text(settings_toml(settings), encoding="utf-8")
        self.with_worker = with_worker
        self.host = LOOPBACK
        self.port = free_port(self.host)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("IDGOV_")}
        env["IDGOV_CONFIG"] = str(self.config)
        return env

    def start(self, *, wait: bool = True) -> None:
        """Launch and return once /readyz answers 200 (at once, with wait=False)."""
        cmd = [idgov_binary(), "serve", "--host", self.host, "--port", str(self.port)]
        if self.with_worker:
            cmd.append("--with-worker")
        with self.log_path.open("ab") as log:
            self._proc = subprocess.Popen(
                cmd,
                cwd=self.workdir,
                env=self.environment(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        if wait:
            self._wait_ready()

    @property
    def pid(self) -> int:
        if self._proc is None:
            raise RuntimeError("the idgov process is not running")
        return self._proc.pid

    def kill(self) -> None:
        """SIGKILL, as `kill -9` would: the process gets no chance to clean up."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()

    def host_token(self, client_id: str, secret: str) -> str:
        """An access token of a registered host client (client credentials, RFC 6749 4.4)."""
        answer = requests.post(
            f"{self.url}/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(client_id, secret),
            timeout=10,
        )
        if answer.status_code != 200:
            raise RuntimeError(f"no token for {client_id}: {answer.status_code} {answer.text}")
        token: str = answer.json()["access_token"]
        return token

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run `idgov ARGS` with this process's configuration (another process, same database)."""
        return subprocess.run(
            [idgov_binary(), *args],
            cwd=self.workdir,
            env=self.environment(),
            capture_output=True,
            text=True,
            check=False,
        )

    def _wait_ready(self) -> None:
        self.wait_until_ready(self._answers, START_TIMEOUT, f"idgov serve on {self.url}")

    def _answers(self) -> bool:
        try:
            return requests.get(f"{self.url}/readyz", timeout=2).status_code == 200
        except requests.RequestException:
            return False
