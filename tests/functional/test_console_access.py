"""A route walk over every page (every GET route outside the API): no page is reachable
without its role, and the navigation shows exactly the pages a role may open (ACC-1, ACC-2).

New pages are covered without changing this file: a page that is neither in EVERYONE nor
refused to a person without roles fails the walk.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
from flask import Flask, url_for
from sqlalchemy import select

from idgov.audit.models import AuditEvent
from idgov.identity.models import Role
from idgov.web.ui.console import PAGES
from idgov.wiring import Services
from tests.functional.console_support import browser
from tests.functional.people import fast_hashing
from tests.functional.test_access_control import DUMMY, VARIABLE, is_public

# Pages every signed-in person may open, whatever their roles (docs/sessions-and-access.md).
EVERYONE = {
    "/",
    "/account/certification",
    "/account/loss-report",
    "/account/password",
    "/account/tokens",
    "/account/tokens/<id:token_id>/test",
    "/reviews",  # reviewing needs no role: whoever a campaign assigns items to
    "/reviews/<id:campaign_id>",
    "/reviews/<id:campaign_id>/signoff",
    "/reviews/assets/<name>",
}


def pages(app: Flask) -> dict[str, str]:
    """Every page route (GET, not the API, not public) and a URL for it."""
    found = {}
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or set()) or rule.rule.startswith("/api/"):
            continue
        if is_public(rule.rule, "GET"):
            continue
        found[rule.rule] = VARIABLE.sub(
            lambda match: DUMMY.get(match.group(1) or "", "dummy"), rule.rule
        )
    return found


def required_roles(services: Services, app: Flask) -> dict[str, set[str]]:
    """Walk every page as a person with no roles: each must refuse (403, audited with the
    roles it needs) unless everyone may open it. Returns the roles each refused page needs."""
    client = browser(app, services, "nobody-special")
    needed: dict[str, set[str]] = {}
    for rule, url in sorted(pages(app).items()):
        response = client.get(url)
        if rule in EVERYONE:
            assert response.status_code != 403, rule
            continue
        assert response.status_code == 403, f"{rule} is open to a person without roles"
        with services.sessions() as session:
            refusal = session.scalars(
                select(AuditEvent)
                .where(AuditEvent.action.like("access:%:refused"))
                .order_by(AuditEvent.seq.desc())
                .limit(1)
            ).one()
        assert f'"path":"{url}"' in refusal.new_values, rule
        needed[rule] = set(json.loads(refusal.new_values)["required_roles"])
    return needed


@pytest.mark.req("ACC-2")
def test_no_page_is_reachable_without_its_role(app: Flask, services: Services) -> None:
    fast_hashing(services)
    needed = required_roles(services, app)
    assert "/audit" in needed
    assert "/signatures/<id:signature_id>" in needed
    # Alerts: read as GET /api/v1/alerts is; locked people as the unlock API (LOCK-2).
    for rule in ("/alerts", "/alerts/<id:alert_id>", "/alerts/attacks"):
        assert needed[rule] == {"security_officer", "auditor"}, rule
    assert needed["/lockouts"] == {"security_officer"}
    readers = {"admin", "security_officer", "auditor"}  # as GET /api/v1/policies/<kind>
    assert needed["/policies"] == needed["/policies/<kind>/diff"] == readers
    # Host systems: administrators only; directories: the readers of GET /api/v1/directories.
    assert needed["/admin/hosts"] == needed["/admin/hosts/<client_id>"] == {"admin"}
    assert needed["/admin/directories"] == needed["/admin/directories/<name>"]
    assert needed["/admin/directories"] == {"admin", "auditor"}
    pages_of = pages(app)
    for role in Role:
        client = browser(app, services, f"only-{role.value}", role.value)
        for rule, roles in needed.items():
            status = client.get(pages_of[rule]).status_code
            if role.value in roles:
                assert status != 403, f"{rule} refuses {role.value}, who may open it"
            else:
                assert status == 403, f"{rule} is open to {role.value}"


@pytest.mark.req("ACC-1")
def test_no_page_is_reachable_anonymously(app: Flask) -> None:
    client = app.test_client()
    for rule, url in pages(app).items():
        response = client.get(url)
        assert response.status_code in (302, 303), rule
        assert urlsplit(response.headers["Location"]).path == "/login", rule


@pytest.mark.req("ACC-2")
def test_the_navigation_shows_exactly_the_pages_a_role_may_open(
    app: Flask, services: Services
) -> None:
    fast_hashing(services)
    needed = required_roles(services, app)
    with app.test_request_context():
        urls = {page.endpoint: url_for(page.endpoint) for page in PAGES}
    for page in PAGES:  # the navigation's roles are the page's own
        assert set(page.roles) == needed[urls[page.endpoint]], page.endpoint
    for role in Role:
        client = browser(app, services, f"nav-{role.value}", role.value)
        home = client.get("/").get_data(as_text=True)
        shown = {page.endpoint for page in PAGES if f'<a href="{urls[page.endpoint]}">' in home}
        assert shown == {page.endpoint for page in PAGES if role.value in page.roles}, role
