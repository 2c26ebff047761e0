"""The console's navigation: each page with the roles that may open it (ACC-2, issue 15 item 8).

The roles here are the roles its view's `roles_required` names; the route walk in
tests/functional/test_console_access.py holds the two together, so the navigation never
shows a page the person would be refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import url_for

from idgov.web.auth import current_roles


@dataclass(frozen=True)
class ConsolePage:
    endpoint: str
    label: str
    roles: tuple[str, ...]


PAGES = (
    ConsolePage("people.index", "People", ("admin", "security_officer", "auditor")),
    ConsolePage("review_admin.index", "Review campaigns", ("admin", "auditor")),
    ConsolePage("audit_trail.index", "Audit trail", ("auditor",)),
    ConsolePage("signature_pages.search", "Signatures", ("admin", "auditor")),
    ConsolePage("policy_pages.index", "Policies", ("admin", "security_officer", "auditor")),
    ConsolePage("alert_pages.queue", "Alerts", ("security_officer", "auditor")),
    ConsolePage("lockouts.index", "Locked people", ("security_officer",)),
    ConsolePage("host_systems.index", "Host systems", ("admin",)),
    ConsolePage("directory_pages.index", "Directories", ("admin", "auditor")),
)


def visible_pages() -> list[tuple[str, str]]:
    """(url, label) of the console pages the signed-in person may open."""
    held = current_roles()
    return [(url_for(page.endpoint), page.label) for page in PAGES if held & set(page.roles)]
