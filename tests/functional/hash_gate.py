"""Test helper: size the process's password-hash gate for one block, then put the default back."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from idgov.config import ThrottlingSettings
from idgov.providers import hashing


@contextmanager
def hash_gate(slots: int, wait_seconds: float) -> Iterator[None]:
    """The gate is per process and outlives an app: a test that resizes it must restore it."""
    hashing.limit_concurrent_hashes(slots, wait_seconds)
    try:
        yield
    finally:
        defaults = ThrottlingSettings()
        hashing.limit_concurrent_hashes(defaults.max_concurrent_hashes, defaults.hash_wait_seconds)
