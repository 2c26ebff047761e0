"""Fixtures for integration tests that change a directory: a private slapd per module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness.slapd import SlapdServer


@pytest.fixture(scope="module")
def own_slapd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SlapdServer]:
    """A slapd for this module alone: its tests lock, reset and recycle accounts."""
    server = SlapdServer(Path(tmp_path_factory.mktemp("own-slapd")))
    server.start()
    try:
        yield server
    finally:
        server.stop()
