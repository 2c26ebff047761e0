"""The directory (a real slapd) stopped in the middle of a sync and in the middle of sign-ins
(ACC-1 fail closed, LOCK-1, AUD-1).

A real `idgov serve` process reads slapd through a proxy that holds slapd's answers at a set
byte count; slapd is stopped while an answer is held, so the sync or sign-in is provably in
progress, part of the answer read. The person is told 503 `provider-unavailable` (problem+json
on the API, a readable page on the login form), idgov never falls back to another password
check, the partial full sync deactivates nobody and is recorded as failed with its error;
with slapd back, the next sync completes with the right counts.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import select

from idgov.clock import Clock, SystemClock
from idgov.config import Settings, ThrottlingSettings
from idgov.db import transaction
from idgov.identity.models import Identity
from idgov.providers.directory.models import DirectorySyncRun
from idgov.sessions.models import WebSession
from idgov.signatures.models import Signature
from idgov.wiring import Services
from tests.functional.hosts import register
from tests.functional.people import PASSWORD, fast_hashing, person
from tests.functional.signing import body
from tests.harness.idgov_process import IdgovProcess
from tests.harness.proxy import DroppingProxy, proxied
from tests.harness.slapd import SlapdServer
from tests.integration.directory_support import NAME, audited, verify_all, with_directory

pytestmark = pytest.mark.integration

EXTRA_PEOPLE = 120  # enough pages (page_size 10) for a sync to be stopped part-way
PROBLEM = "application/problem+json"
UNAVAILABLE = "urn:idgov:problem:provider-unavailable"
SWEEP_STEP = 24  # bytes between two cut points of a sign-in's directory exchange
PEOPLE = len(SlapdServer.people) + EXTRA_PEOPLE
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def clock() -> Clock:
    """The server process runs on the real clock: so does the test's setup (password age)."""
    return SystemClock()


@pytest.fixture(scope="module")
def directory(own_slapd: SlapdServer) -> SlapdServer:
    own_slapd.add_people("staff", EXTRA_PEOPLE)
    return own_slapd


@pytest.fixture(scope="module")
def proxy(directory: SlapdServer) -> Iterator[DroppingProxy]:
    with proxied(directory.host, directory.port) as between:
        yield between


@pytest.fixture
def settings(settings: Settings, directory: SlapdServer, proxy: DroppingProxy) -> Settings:
    return with_directory(settings, directory, urls=[proxy.url])


@pytest.fixture
def server(services: Services, settings: Settings, tmp_path: Path) -> Iterator[IdgovProcess]:
    # The sweep signs bob in once per cut, far past the sign-in throttle's default per account
    # (tests/functional/test_throttling.py), which would answer 429 before any directory call.
    unthrottled = settings.model_copy(update={"throttling": ThrottlingSettings(enabled=False)})
    running = IdgovProcess(tmp_path / "idgov", unthrottled)
    running.start()
    try:
        yield running
    finally:
        running.stop()


def stopped_mid_answer(
    slapd: SlapdServer, proxy: DroppingProxy, after_bytes: int, call: Callable[[], Any]
) -> Any:
    """Run `call` in a thread; once slapd has sent `after_bytes` more bytes, hold its answers,
    stop slapd, let the proxy pass on the end of the connections; `call`'s result."""
    done: dict[str, Any] = {}
    proxy.pause_after(proxy.bytes_to_client + after_bytes)
    worker = threading.Thread(target=lambda: done.setdefault("answer", call()))
    worker.start()
    try:
        assert proxy.paused.wait(20), "the directory was never asked"
        slapd.stop()
    finally:
        proxy.resume()
        worker.join(30)
    return done["answer"]


def assert_unavailable(answer: requests.Response) -> dict[str, Any]:
    assert answer.status_code == 503, answer.text
    assert answer.headers["Content-Type"].startswith(PROBLEM)
    found: dict[str, Any] = answer.json()
    assert found["type"] == UNAVAILABLE
    return found


def statuses(services: Services) -> dict[str, str]:
    with services.sessions() as session:
        return {i.username: str(i.status) for i in session.scalars(select(Identity))}


def signed_in_admin(server: IdgovProcess) -> tuple[requests.Session, str]:
    http = requests.Session()
    answer = http.post(
        f"{server.url}/api/v1/session", json={"username": "ada", "password": PASSWORD}, timeout=10
    )
    assert answer.status_code == 201, answer.text
    return http, answer.json()["csrf_token"]


def sync(server: IdgovProcess, admin: tuple[requests.Session, str]) -> requests.Response:
    http, csrf = admin
    return http.post(
        f"{server.url}/api/v1/directories/{NAME}/sync",
        json={"full": True},
        headers={"X-CSRF-Token": csrf},
        timeout=60,
    )


def first_sync(services: Services, proxy: DroppingProxy) -> int:
    """The first full sync, uninterrupted, in the test's own process: the bytes of a listing."""
    base = proxy.bytes_to_client
    result = services.directory_sync.run(NAME, full=True)
    assert result.counts["created"] == PEOPLE
    return proxy.bytes_to_client - base


@pytest.mark.req("ACC-1")
@pytest.mark.req("AUD-1")
def test_a_directory_stopped_mid_sync_deactivates_nobody_and_the_next_sync_completes(
    services: Services, server: IdgovProcess, directory: SlapdServer, proxy: DroppingProxy
) -> None:
    _admin, listing = admin_and_sync(services, proxy)
    before = statuses(services)
    admin = signed_in_admin(server)
    try:
        answer = stopped_mid_answer(directory, proxy, listing // 3, lambda: sync(server, admin))
        assert "failed during the operation" in assert_unavailable(answer)["detail"]
        assert statuses(services) == before  # a partial listing deactivates nobody
        with services.sessions() as session:
            last = session.scalars(
                select(DirectorySyncRun).order_by(DirectorySyncRun.id.desc()).limit(1)
            ).one()
        assert (last.status, last.kind) == ("failed", "full")
        assert last.error
        [failed] = audited(services, "directory:sync:failed")
        assert (failed["new"]["run"], failed["new"]["error"]) == (last.id, last.error)
    finally:
        directory.start()
    again = sync(server, admin)
    assert again.status_code == 200, again.text
    run = again.json()
    assert run["status"] == "succeeded"
    counts = run["counts"]
    assert counts["users_read"] == PEOPLE
    assert (counts["created"], counts["deactivated"], counts["problems"]) == (0, 0, 0)
    assert statuses(services) == before


def login_form(server: IdgovProcess, username: str, password: str) -> requests.Response:
    http = requests.Session()
    page = http.get(f"{server.url}/login", timeout=10)
    csrf = CSRF_FIELD.search(page.text)
    assert csrf is not None, page.text
    form = {"csrf_token": csrf.group(1), "username": username, "password": password}
    return http.post(f"{server.url}/login", data=form, allow_redirects=False, timeout=30)


def api_sign_in(server: IdgovProcess, username: str, password: str) -> requests.Response:
    credentials = {"username": username, "password": password}
    return requests.post(f"{server.url}/api/v1/session", json=credentials, timeout=30)


def host_signing(server: IdgovProcess, token: str, password: str) -> requests.Response:
    return requests.post(
        f"{server.url}/api/v1/signatures",
        json=body("bob", password=password),
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )


def admin_and_sync(services: Services, proxy: DroppingProxy) -> tuple[str, int]:
    """Ada the local administrator, and the first full sync: her id, a listing's bytes."""
    fast_hashing(services)
    admin = person(services, "ada", roles=("admin",), name="Ada Admin")
    return admin, first_sync(services, proxy)


@pytest.mark.req("ACC-1")
@pytest.mark.req("LOCK-1")
def test_sign_ins_caught_by_a_directory_stop_answer_503_and_never_fall_back(
    services: Services, server: IdgovProcess, directory: SlapdServer, proxy: DroppingProxy
) -> None:
    admin, _listing = admin_and_sync(services, proxy)
    with transaction(services.sessions) as session:
        services.keys.create(session, "signature", reason="fault test")
    verify_all(services, admin, "bob")
    before = statuses(services)
    token = server.host_token(*register(services, "lims", ("signatures",)))
    password = directory.people["bob"].password
    attempts: list[tuple[str, Callable[[], requests.Response]]] = [
        ("login", lambda: api_sign_in(server, "bob", password)),
        ("login", lambda: login_form(server, "bob", password)),
        ("signing", lambda: host_signing(server, token, password)),
    ]
    for channel, attempt in attempts:
        try:
            answer = stopped_mid_answer(directory, proxy, 1, attempt)
        finally:
            directory.start()
        if answer.headers["Content-Type"].startswith("text/html"):
            assert answer.status_code == 503, answer.text
            assert "cannot be reached right now" in answer.text  # the person's words
            assert str(directory.port) not in answer.text
        else:
            assert "cannot be reached right now" in assert_unavailable(answer)["detail"]
        [*_, refused] = audited(services, f"auth:{channel}:failed")
        assert refused["new"]["reason"] == "provider-unavailable"
    assert statuses(services) == before
    with services.sessions() as session:
        bob = session.scalars(select(Identity).where(Identity.username == "bob")).one()
        assert bob.failed_attempts == 0  # an outage is no wrong password (LOCK-1)
        sessions = select(WebSession).where(WebSession.identity_id == bob.id)
        assert session.scalars(sessions).first() is None  # no way in without the directory
        assert session.scalars(select(Signature)).first() is None
    # The directory is back: the same process signs bob in and signs for him again.
    assert api_sign_in(server, "bob", password).status_code == 201
    assert host_signing(server, token, password).status_code == 201


@pytest.mark.req("LOCK-1")
@pytest.mark.req("ACC-1")
def test_a_sign_in_cut_at_any_byte_is_unavailable_or_done_never_a_wrong_password(
    services: Services, server: IdgovProcess, directory: SlapdServer, proxy: DroppingProxy
) -> None:
    """slapd stopped at every SWEEP_STEP-th byte of a sign-in's exchange: before the
    directory has answered the bind the person is told 503; after it, the sign-in stands.
    Never a 401, never a failure counted toward the lockout, never a 500."""
    admin, _listing = admin_and_sync(services, proxy)
    verify_all(services, admin, "bob")
    password = directory.people["bob"].password
    base = proxy.bytes_to_client
    assert api_sign_in(server, "bob", password).status_code == 201
    exchange = proxy.bytes_to_client - base
    answers = []
    for offset in range(1, exchange, SWEEP_STEP):
        try:
            answers.append(
                stopped_mid_answer(
                    directory, proxy, offset, lambda: api_sign_in(server, "bob", password)
                )
            )
        finally:
            directory.start()
    assert {answer.status_code for answer in answers} <= {201, 503}
    refused = [assert_unavailable(answer) for answer in answers if answer.status_code == 503]
    assert refused, "no cut landed before the directory's answer"
    failures = audited(services, "auth:login:failed")
    assert [f["new"]["reason"] for f in failures] == ["provider-unavailable"] * len(refused)
    with services.sessions() as session:
        bob = session.scalars(select(Identity).where(Identity.username == "bob")).one()
        assert (bob.failed_attempts, bob.status) == (0, "active")
        made = session.scalars(select(WebSession).where(WebSession.identity_id == bob.id)).all()
    assert len(made) == 1 + len(answers) - len(refused)  # one per 201, none per 503
