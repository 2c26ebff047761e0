"""The README's quick start from scratch, as a new user meets it: run by `make test` first.

1. `make run` in a fresh copy of this checkout (its own virtual environment, which shares nothing
   with the test one), on a free port given only as IDGOV_SERVER__PORT: wait for /readyz, check
   that the printed login address carries that port, sign in over HTTP as a demo person, stop.
2. The built wheel: build it, install it with no extras into another fresh environment
   (`pip check` clean), then `idgov init`, `idgov serve`, /readyz and `idgov audit verify` in an
   empty directory.

Standard library only: it runs on the system Python, never inside the test environment. A failed
step exits 1 and prints that step's output.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT = 900.0  # `make run` installs everything first; a cold package cache is slow
STOP_TIMEOUT = 20.0
LOGIN_LINE = re.compile(r"log in at (\S+)/login as any of")
PERSON_LINE = re.compile(r"^\s{2}(\S+)\s+(\S+)\s+(.+?) \(")
PIP_NOISE = re.compile(r"WARNING: Location '\S+' is ignored")  # local indexes a pip.conf names
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


class StepFailed(Exception):
    """A quick-start step did not do what the README says; carries the step's output."""

    def __init__(self, step: str, reason: str, output: str = "") -> None:
        super().__init__(f"{step}: {reason}")
        self.output = output


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    parser.add_argument("--skip-wheel", action="store_true", help="only the `make run` step")
    args = parser.parse_args(argv)
    scratch = Path(tempfile.mkdtemp(prefix="idgov-quickstart-"))
    try:
        source = copy_checkout(scratch / "idgov")
        timed("make run in a fresh copy", lambda: check_make_run(source))
        if not args.skip_wheel:
            timed("the wheel, installed with no extras", lambda: check_wheel(source, scratch))
    except StepFailed as failure:
        print(f"quickstart: FAILED: {failure}", file=sys.stderr)
        if failure.output:
            print("---- output of the failed step (last 60 lines) ----", file=sys.stderr)
            lines = [line for line in failure.output.splitlines() if not PIP_NOISE.match(line)]
            print("\n".join(lines[-60:]), file=sys.stderr)
        return 1
    finally:
        if args.keep:
            print(f"quickstart: scratch directory kept at {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    print("quickstart: both README paths work from scratch")
    return 0


def timed(step: str, action: Callable[[], None]) -> None:
    started = time.monotonic()
    print(f"quickstart: {step} ...", flush=True)
    action()
    print(f"quickstart: {step}: ok ({time.monotonic() - started:.0f} s)", flush=True)


def copy_checkout(target: Path) -> Path:
    """The files a fresh clone would hold (tracked, plus new ones not ignored), nothing built."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    )
    for name in filter(None, listed.stdout.decode().split("\0")):
        origin = ROOT / name
        if not origin.is_file():
            continue  # deleted in the work tree but still in the index
        destination = target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(origin, destination)
    return target


def clean_environment(**extra: str) -> dict[str, str]:
    """The caller's environment without idgov settings or an active virtual environment."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("IDGOV_") and key not in {"VIRTUAL_ENV", "PYTHONPATH"}
    }
    env.update(extra)
    return env


def check_make_run(source: Path) -> None:
    step = "make run"
    port = free_port()
    env = clean_environment(IDGOV_SERVER__PORT=str(port))
    log = source / "make-run.log"
    with background(["make", "run"], source, env, log) as server:
        base = wait_ready(step, port, server, log)
        output = log.read_text(errors="replace")
        printed = LOGIN_LINE.search(output)
        if printed is None or printed.group(1) != base:
            shown = printed.group(0) if printed else "no login address"
            raise StepFailed(step, f"serving on {base}, the demo printed {shown!r}", output)
        username, password, printed_name = demo_person(output)
        sign_in(step, base, username, password, printed_name, output)


def demo_person(output: str) -> tuple[str, str, str]:
    after = output.split("as any of", 1)[-1]
    for line in after.splitlines()[1:]:
        match = PERSON_LINE.match(line)
        if match:
            return match.group(1), match.group(2), match.group(3).strip()
    raise StepFailed("make run", "the demo printed no person to sign in as", output)


def sign_in(step: str, base: str, username: str, password: str, name: str, output: str) -> None:
    """The login form as a browser submits it: CSRF token from the page, cookies kept."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = fetch(opener, f"{base}/login")
    token = CSRF_FIELD.search(page)
    if token is None:
        raise StepFailed(step, "the login page has no CSRF token", page)
    form = {"csrf_token": token.group(1), "username": username, "password": password}
    home = fetch(opener, f"{base}/login", urllib.parse.urlencode(form).encode())
    if name not in home:
        raise StepFailed(step, f"signed in as {username} but the home page lacks {name}", home)
    print(f"quickstart: signed in over HTTP as {username} ({name})")


def fetch(opener: urllib.request.OpenerDirector, url: str, data: bytes | None = None) -> str:
    try:
        with opener.open(url, data=data, timeout=30) as response:
            return str(response.read().decode("utf-8", "replace"))
    except urllib.error.HTTPError as error:
        body = error.read().decode("utf-8", "replace")
        raise StepFailed("HTTP", f"{url} answered {error.code}", body) from None


def check_wheel(source: Path, scratch: Path) -> None:
    step = "wheel"
    dist = scratch / "dist"
    builder = make_venv(scratch / "build-venv")
    run(step, [builder / "pip", "wheel", "--quiet", "--no-deps", "-w", dist, source], scratch)
    wheels = sorted(dist.glob("idgov-*.whl"))
    if len(wheels) != 1:
        raise StepFailed(step, f"expected one idgov wheel in {dist}, found {len(wheels)}")
    venv = make_venv(scratch / "wheel-venv")
    run(step, [venv / "pip", "install", "--quiet", wheels[0]], scratch)  # no extras
    run(step, [venv / "pip", "check"], scratch)
    site = scratch / "site"
    site.mkdir()
    port = free_port()
    env = clean_environment(IDGOV_SERVER__PORT=str(port))
    run(step, [venv / "idgov", "init"], site, env)
    log = site / "serve.log"
    with background([str(venv / "idgov"), "serve"], site, env, log) as server:
        wait_ready(step, port, server, log)
    run(step, [venv / "idgov", "audit", "verify"], site, env)


def make_venv(path: Path) -> Path:
    run("venv", [sys.executable, "-m", "venv", path], path.parent)
    return path / "bin"


def run(step: str, command: Sequence[object], cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=env or clean_environment(),
        capture_output=True,
        text=True,
        check=False,
    )
    output = done.stdout + done.stderr
    if done.returncode != 0:
        shown = " ".join([Path(str(command[0])).name, *map(str, command[1:])])
        raise StepFailed(step, f"`{shown}` exited {done.returncode}", output)
    return output


@contextmanager
def background(
    command: list[str], cwd: Path, env: dict[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """Run a server in its own process group; stop the whole group however the block ends."""
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        yield process
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def wait_ready(step: str, port: int, server: subprocess.Popen[bytes], log: Path) -> str:
    """Poll /readyz until it answers 200; fail if the server exits or never gets ready."""
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/readyz", timeout=5) as response:
                if response.status == 200:
                    return base
        except (urllib.error.URLError, OSError):
            pass
        if server.poll() is not None:
            break
        time.sleep(1)
    output = log.read_text(errors="replace")
    raise StepFailed(step, f"/readyz on port {port} never answered 200", output)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


if __name__ == "__main__":
    sys.exit(main())
