"""Find the server binaries the harness needs, failing the run (never skipping) if absent."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

# Debian installs daemons and their tools (slapd, slapadd, ...) in sbin, often not on PATH.
_SBIN_DIRS = ("/usr/sbin", "/sbin", "/usr/local/sbin")


def find_binary(name: str) -> str | None:
    """Return the path of executable ``name`` from PATH or the sbin directories, else None."""
    found = shutil.which(name)
    if found:
        return found
    for directory in _SBIN_DIRS:
        candidate = Path(directory) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def require_binary(name: str, install_hint: str) -> str:
    """Return the path of ``name`` or fail the test run with the command that installs it."""
    found = find_binary(name)
    if found is None:
        pytest.fail(
            f"required server binary {name!r} not found; install it with: {install_hint}",
            pytrace=False,
        )
    return found
