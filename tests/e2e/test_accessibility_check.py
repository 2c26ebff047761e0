"""The accessibility check itself: axe-core runs in a page served under idgov's CSP (no inline
scripts) and fails on a serious violation, naming the rule and the element (issue 15 item 8)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser

from tests.e2e.accessibility import assert_accessible, violations
from tests.harness.live_server import LiveServer

pytestmark = [pytest.mark.e2e]


def test_axe_runs_under_the_csp_and_fails_on_a_serious_violation(
    browser: Browser, server: LiveServer
) -> None:
    page = browser.new_page()
    response = page.goto(f"{server.url}/login")
    assert response is not None
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert_accessible(page, "login")  # the page as served passes
    assert page.evaluate("() => typeof window.axe.run") == "function"  # injected despite the CSP

    # A button with no accessible name: axe rule button-name, impact critical.
    page.evaluate(
        "() => document.querySelector('main').appendChild(document.createElement('button'))"
    )
    assert "button-name" in {found["id"] for found in violations(page)}
    with pytest.raises(pytest.fail.Exception) as failed:
        assert_accessible(page, "login with a nameless button")
    report = str(failed.value)
    assert "button-name (critical)" in report
    assert "<button></button>" in report  # the failing element
    page.close()
