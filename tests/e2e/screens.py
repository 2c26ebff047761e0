"""Screenshots of the console's pages, for a reviewer to look at (issue 15).

Every page a browser test screenshots is also checked with axe-core (tests/e2e/accessibility.py):
one place, so every page in the browser tests is covered.
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page

from tests.e2e.accessibility import assert_accessible


def shoot(page: Page, folder: Path, name: str) -> None:
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
    assert_accessible(page, name)
