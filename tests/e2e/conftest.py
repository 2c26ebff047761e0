"""Browser tests: Debian's chromium driven by Playwright (never a browser download)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, sync_playwright

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
