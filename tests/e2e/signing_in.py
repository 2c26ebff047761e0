"""Signing in through the login page, as a person does (the browser tests' first step)."""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect

from tests.functional.people import PASSWORD
from tests.harness.live_server import LiveServer


def sign_in(
    browser: Browser, server: LiveServer, username: str, timezone: str = "Asia/Tokyo"
) -> Page:
    """A new browser context in `timezone` (pages show UTC and the reader's local time),
    signed in as `username` with the tests' password; its page, on the home page."""
    page = browser.new_context(timezone_id=timezone).new_page()
    page.goto(f"{server.url}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name=f"Sign out ({username})")).to_be_visible()
    return page
