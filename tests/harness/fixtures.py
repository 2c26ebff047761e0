"""Pytest plugin: real slapd, Samba AD, Redis, SMTP and webhook servers on loopback ports."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness.ports import LOOPBACK
from tests.harness.redis import RedisServer
from tests.harness.samba import SambaDc, resolving
from tests.harness.slapd import SlapdServer
from tests.harness.smtp import CapturingSmtpServer
from tests.harness.webhook import WebhookReceiver


@pytest.fixture(scope="session")
def slapd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SlapdServer]:
    """One seeded OpenLDAP server for the whole run; a test that stops it must start() it."""
    server = SlapdServer(tmp_path_factory.mktemp("slapd"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def smtp_server() -> Iterator[CapturingSmtpServer]:
    """A fresh, empty SMTP sink for each test."""
    server = CapturingSmtpServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    """A fresh webhook receiver (answers 204 unless scripted) for each test."""
    receiver = WebhookReceiver()
    receiver.start()
    try:
        yield receiver
    finally:
        receiver.stop()


@pytest.fixture(scope="module")
def own_slapd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SlapdServer]:
    """A slapd for this module alone: its tests lock, reset and recycle accounts."""
    server = SlapdServer(Path(tmp_path_factory.mktemp("own-slapd")))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def samba_dc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SambaDc]:
    """One provisioned Samba AD domain controller for the whole run (provisioning takes
    10-30 s). Its tests share the domain: each puts back what it changes."""
    server = SambaDc(tmp_path_factory.mktemp("samba"))
    with resolving(server.host, LOOPBACK):
        server.start()
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A fresh, empty redis-server for each test (throttle storage shared by processes)."""
    server = RedisServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()
