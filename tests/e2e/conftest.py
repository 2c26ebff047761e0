"""Browser tests: Debian's chromium driven by Playwright (never a browser download)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, sync_playwright

from tests.harness.live_server import LiveServer, live_server
from tests.harness.missing import require_binary

CHROMIUM_HINT = "apt-get install -y chromium"


@pytest.fixture
def browser() -> Iterator[Browser]:
    """Debian's chromium, headless; a missing one fails the run with the install command."""
    executable = require_binary("chromium", CHROMIUM_HINT)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, headless=True)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def server(app: Flask) -> Iterator[LiveServer]:
    with live_server(app) as running:
        yield running


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    """$IDGOV_SCREENSHOTS when set, else the test's temporary directory; printed."""
    folder = Path(os.environ.get("IDGOV_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots: {folder}")
    return folder
