"""Screenshots of the console's pages, for a reviewer to look at (issue 15)."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page


def shoot(page: Page, folder: Path, name: str) -> None:
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
