"""`kill -9` of the web process while hosts are signing (AUD-1, AUD-3, 11.10(e)).

A real `idgov serve` process signs for four host threads at once; it is killed with SIGKILL
at several moments after the signings start. After each crash: every signature row has its
`signature:record:signed` event and every such event its row (both or neither, never one),
every signature a host was given (201) is stored, the chain verifies, and a new process
signs again at once (nothing left locked by the dead one).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from idgov.clock import Clock, SystemClock
from idgov.config import Settings, ThrottlingSettings
from idgov.signatures.models import Signature
from idgov.wiring import Services
from tests.faults.crash_support import (
    assert_chain_verifies,
    assert_cli_verifies,
    audited_values,
    postgres_only,
)
from tests.functional.hosts import register
from tests.functional.signing import body, prepare, record, signer
from tests.harness.idgov_process import IdgovProcess

pytestmark = [pytest.mark.integration, postgres_only]

# Seconds between the first signing request and the SIGKILL, one server process each.
KILL_DELAYS = (0.02, 0.08, 0.15, 0.25, 0.4, 0.6, 0.9)
HOST_THREADS = 4


@pytest.fixture
def clock() -> Clock:
    """The server process signs on the real clock: so does the test's setup (password age)."""
    return SystemClock()


@dataclass
class Signings:
    """What the host threads saw: signatures handed to them, requests cut by the crash."""

    acknowledged: set[str] = field(default_factory=set)
    cut: int = 0
    refused: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def sign_until_cut(url: str, token: str, tag: str, seen: Signings) -> None:
    """Sign record after record until the server stops answering."""
    with requests.Session() as http:
        http.headers["Authorization"] = f"Bearer {token}"
        for n in range(10_000):
            payload = body("jdoe", record=record(f"SOP-{tag}-{n}"))
            try:
                answer = http.post(f"{url}/api/v1/signatures", json=payload, timeout=10)
            except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError):
                # No answer, or one cut mid-body by the kill: the host never learnt the outcome.
                with seen.lock:
                    seen.cut += 1
                return
            with seen.lock:
                if answer.status_code == 201:
                    seen.acknowledged.add(answer.json()["id"])
                else:
                    seen.refused.append(f"{answer.status_code} {answer.text[:200]}")
                    return


def sign_once(server: IdgovProcess, token: str, seen: Signings) -> None:
    """One signing, answered 201: the server is up and nothing a crash left blocks it."""
    payload = body("jdoe", record=record(f"SOP-{server.port}-first"))
    answer = requests.post(
        f"{server.url}/api/v1/signatures",
        json=payload,
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert answer.status_code == 201, answer.text
    seen.acknowledged.add(answer.json()["id"])


def crash_while_signing(server: IdgovProcess, token: str, delay: float, seen: Signings) -> None:
    threads = [
        threading.Thread(
            target=sign_until_cut, args=(server.url, token, f"{server.port}-{i}", seen)
        )
        for i in range(HOST_THREADS)
    ]
    for thread in threads:
        thread.start()
    time.sleep(delay)
    server.kill()
    for thread in threads:
        thread.join(timeout=15)


def assert_signatures_and_events_agree(services: Services, seen: Signings) -> int:
    with services.sessions() as session:
        stored = set(session.scalars(select(Signature.id)))
        events = audited_values(session, "signature:record:signed", "signature_id")
    assert len(events) == len(set(events)), "a signature was audited twice"
    assert stored == set(events), {
        "signatures without their event": stored - set(events),
        "events without their signature": set(events) - stored,
    }
    assert seen.acknowledged <= stored, "a signature handed to a host was lost"
    return len(stored)


@pytest.mark.req("AUD-1")
@pytest.mark.req("AUD-3")
def test_a_killed_server_leaves_each_signature_with_its_audit_event_or_neither(
    services: Services, settings: Settings, tmp_path: Path
) -> None:
    _unused, admin = prepare(services, host="lims-internal")
    signer(services, "jdoe", admin, name="Jane Doe")
    client_id, secret = register(services, "lims", ("signatures",))
    seen = Signings()
    stored = 0
    # Record after record for one signer, past the signing throttle's default per account
    # (tests/functional/test_throttling.py): a 429 would end the signing before the kill.
    unthrottled = settings.model_copy(update={"throttling": ThrottlingSettings(enabled=False)})
    for round_no, delay in enumerate(KILL_DELAYS):
        server = IdgovProcess(tmp_path / f"round-{round_no}", unthrottled)
        server.start()
        token = server.host_token(client_id, secret)
        sign_once(server, token, seen)  # the dead process before it left nothing locked
        crash_while_signing(server, token, delay, seen)
        assert not seen.refused, seen.refused
        stored = assert_signatures_and_events_agree(services, seen)
        assert_chain_verifies(services)
    assert seen.cut >= len(KILL_DELAYS), "the kills did not land in the middle of signings"
    assert stored >= len(seen.acknowledged) > 0
    assert_cli_verifies(server)
