"""axe-core on a page in the browser: no serious or critical WCAG 2 A/AA violation (issue 15).

The pages forbid inline scripts (CSP, see idgov/web/middleware.py). `page.evaluate` runs
its source over the DevTools protocol (Runtime.evaluate), which the page's CSP does not govern,
so axe.min.js is injected without loosening the policy the pages are served with.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

AXE_SCRIPT = Path(__file__).parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
AXE_HINT = "make node-test-deps (npm ci in tests/e2e/axe)"
# The WCAG 2.0, 2.1 and 2.2 success criteria at levels A and AA (axe's own tag names).
WCAG_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa")
FAILING_IMPACTS = frozenset({"serious", "critical"})
NODES_SHOWN = 5  # failing elements listed per rule; the count says how many more


@cache
def axe_source() -> str:
    """axe.min.js as installed from tests/e2e/axe/package-lock.json; missing fails the run."""
    if not AXE_SCRIPT.is_file():
        pytest.fail(f"axe-core is not installed; run: {AXE_HINT}", pytrace=False)
    return AXE_SCRIPT.read_text(encoding="utf-8")


def violations(page: Page) -> list[dict[str, Any]]:
    """Run axe on the page as it stands and return its violations (all impacts)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe_source())
    result: dict[str, Any] = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", list(WCAG_TAGS)
    )
    found: list[dict[str, Any]] = result["violations"]
    return found


def describe(violation: dict[str, Any]) -> str:
    """One rule's failure: its id, impact, help text and the first failing elements."""
    nodes = violation["nodes"]
    lines = [f"{violation['id']} ({violation['impact']}): {violation['help']}"]
    for node in nodes[:NODES_SHOWN]:
        summary = node.get("failureSummary", "").replace("\n", " ")
        lines.append(f"    {', '.join(node['target'])}: {node['html'][:160]}  -- {summary}")
    if len(nodes) > NODES_SHOWN:
        lines.append(f"    ... and {len(nodes) - NODES_SHOWN} more")
    return "\n".join(lines)


def assert_accessible(page: Page, name: str = "") -> None:
    """Fail on any serious or critical WCAG 2 A/AA violation, listing each rule and element."""
    failing = [found for found in violations(page) if found["impact"] in FAILING_IMPACTS]
    if failing:
        where = f"{name} ({page.url})" if name else page.url
        report = "\n".join(describe(found) for found in failing)
        pytest.fail(f"accessibility violations on {where}:\n{report}", pytrace=False)
