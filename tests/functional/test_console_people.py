"""The people list (/people) and creating a person (/people/new) in the console: filters,
keyset pages that show everyone once, role checks, and creation through the API's service
with every refusal named on the form and nothing created (ACC-2, UNQ-1, AUD-1, IDV-1)."""

from __future__ import annotations

import html
import json
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, inspect, select, update

from idgov.audit.models import AuditEvent
from idgov.config import Settings
from idgov.db import transaction
from idgov.errors import Forbidden
from idgov.identity.models import Identity, IdentityStatus
from idgov.identity.people_query import PeopleCursor, PeopleFilter, PeopleReader
from idgov.wiring import Services
from tests.functional.console_support import browser, link, unreachable_directory
from tests.functional.people import events, fast_hashing, page_csrf, person

USERNAME_CELL = re.compile(
    r"<tr>\s*<td><a href=\"/people/[^\"]+\">[^<]*</a></td>\s*<td>([^<]+)</td>"
)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The default test settings with one directory, "corp", as a source to filter on."""
    return settings.model_copy(update={"directories": {"corp": unreachable_directory()}})


@pytest.fixture
def admin(app: Flask, services: Services) -> FlaskClient:
    fast_hashing(services)
    return browser(app, services, "ada", "admin")


def seeded(services: Services) -> dict[str, str]:
    """Twelve people with varied names, statuses, sources, roles and a manager; their ids."""
    ids = {}
    for n, (username, name) in enumerate(
        [
            ("mia.manager", "Mia Manager"),
            ("jdoe", "John Doe"),
            ("jdoe2", "Jane Doe"),
            ("alex", "Zed Alexander"),
            ("bob", "Bob Builder"),
            ("carol", "Carol Carter"),
            ("dave", "Dave Davis"),
            ("erin", "Érin Example"),
            ("frank", "Frank Fischer"),
            ("grace", "Grace Hopper"),
            ("heidi", "Heidi Hacker"),
            ("ivan", "Ivan Ivanov"),
        ]
    ):
        roles = ("auditor",) if n % 4 == 0 else ()
        ids[username] = person(services, username, name=name, roles=roles, password=None)
    with transaction(services.sessions) as session:
        session.execute(
            update(Identity)
            .where(Identity.username.in_(["carol", "dave", "erin"]))
            .values(provider="corp")
        )
        session.execute(
            update(Identity)
            .where(Identity.username.in_(["jdoe", "dave", "grace"]))
            .values(status=IdentityStatus.ACTIVE)
        )
        session.execute(
            update(Identity)
            .where(Identity.username.in_(["jdoe", "jdoe2"]))
            .values(manager_id=ids["mia.manager"])
        )
    return ids


def listed(page: str) -> list[str]:
    """The usernames a people page lists, in the order shown."""
    return [html.unescape(name) for name in USERNAME_CELL.findall(page)]


def everyone(services: Services) -> list[str]:
    with services.sessions() as session:
        return sorted(session.scalars(select(Identity.username)))


def count_people(services: Services) -> int:
    with services.sessions() as session:
        return session.scalar(select(func.count()).select_from(Identity)) or 0


@pytest.mark.req("ACC-2")
def test_readers_see_the_list_and_others_are_refused(app: Flask, services: Services) -> None:
    fast_hashing(services)
    seeded(services)
    for role in ("admin", "security_officer", "auditor"):
        page = browser(app, services, f"read-{role}", role).get("/people")
        assert page.status_code == 200, role
        assert "Mia Manager" in page.get_data(as_text=True)
    reviewer = browser(app, services, "rita", "reviewer")
    assert reviewer.get("/people").status_code == 403
    assert reviewer.get("/people/new").status_code == 403


def test_the_list_shows_each_column(admin: FlaskClient, services: Services) -> None:
    ids = seeded(services)
    page = admin.get("/people?q=jdoe").get_data(as_text=True)
    assert listed(page) == ["jdoe", "jdoe2"]
    assert f'<a href="/people/{ids["jdoe"]}">John Doe</a>' in page
    assert f'<a href="/people/{ids["mia.manager"]}">Mia Manager</a>' in page  # the manager
    assert "pending verification" in page
    assert "<td>active</td>" in page
    assert "2026-03-02 09:30:00 UTC" in page
    assert "never" in page
    assert "2 people" in page  # one page: the count is exact


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=J", ["jdoe", "jdoe2"]),  # username prefix, case aside
        ("q=doe", []),  # a prefix, not a substring
        ("q=%F4%8F%BF%BF", []),  # U+10FFFF: the range is open above, no 500
        ("q=j%ED%9F%BF", []),  # U+D7FF: the range's end skips the surrogates
        ("q=zed", ["alex"]),  # printed-name prefix, case aside
        ("q=%C3%89RIN", ["erin"]),  # É: lowered on PostgreSQL and matched as typed on SQLite
        ("status=active", ["dave", "grace", "jdoe"]),
        ("source=corp", ["carol", "dave", "erin"]),
        ("role=auditor", ["bob", "frank", "mia.manager"]),
        ("status=active&source=corp", ["dave"]),
        ("q=j&status=active", ["jdoe"]),
        ("role=auditor&status=pending_verification&q=F", ["frank"]),
    ],
)
def test_filters(admin: FlaskClient, services: Services, query: str, expected: list[str]) -> None:
    seeded(services)
    answer = admin.get(f"/people?{query}")
    assert answer.status_code == 200
    assert listed(answer.get_data(as_text=True)) == expected


@pytest.mark.parametrize(
    ("query", "field", "label"),
    [
        ("status=gone", "status", "Status"),
        ("source=elsewhere", "source", "Source"),
        ("role=root", "role", "Role"),
        ("q=a%00b", "q", "Name or username"),
        ("q=" + "x" * 201, "q", "Name or username"),
        ("after=a%01", "after", "Next page"),
    ],
)
def test_bad_filter_values_are_named_on_the_form(
    admin: FlaskClient, query: str, field: str, label: str
) -> None:
    answer = admin.get(f"/people?{query}")
    assert answer.status_code == 400
    page = answer.get_data(as_text=True)
    assert f'role="alert"><p>{label}: ' in page
    if field in ("q", "status", "source", "role"):
        assert re.search(f'id="f-{field}"[^>]*aria-invalid="true"', page), page
    assert "<table" not in page


def test_keyset_pages_cover_everyone_once_both_ways(services: Services) -> None:
    seeded(services)
    reader = PeopleReader(page_size=4)
    for flt, expected in [
        (PeopleFilter(), everyone(services)),
        (PeopleFilter(status="pending_verification"), None),
        (PeopleFilter(role="auditor"), ["bob", "frank", "mia.manager"]),
    ]:
        with services.sessions() as session:
            pages, cursor = [], PeopleCursor()
            while True:
                page = reader.page(session, flt, cursor)
                pages.append([p.username for p in page.people])
                if page.next_after is None:
                    break
                cursor = PeopleCursor(after=page.next_after)
            forward = [name for names in pages for name in names]
            assert forward == sorted(set(forward))
            if expected is not None:
                assert forward == expected
            # Back from the last page: the same pages, in reverse.
            back = [pages[-1]]
            while page.previous_before is not None:
                page = reader.page(session, flt, PeopleCursor(before=page.previous_before))
                back.append([p.username for p in page.people])
            assert list(reversed(back)) == pages, flt


def test_next_and_previous_links_carry_the_filter(admin: FlaskClient, services: Services) -> None:
    for n in range(60):
        person(services, f"p{n:03d}", password=None)
    seen: list[str] = []
    url: str | None = "/people?q=p"
    while url is not None:
        page = admin.get(url).get_data(as_text=True)
        seen += listed(page)
        url = link(page, "Next people")
        if url is not None:
            assert "q=p" in url
    assert seen == [f"p{n:03d}" for n in range(60)]
    assert "10 on this page, the last page" in page
    previous = link(page, "← Previous people")
    assert previous is not None
    assert "q=p" in previous
    assert listed(admin.get(previous).get_data(as_text=True)) == seen[:50]
    first = admin.get("/people?q=p").get_data(as_text=True)
    assert "50 on this page, more follow" in first
    assert link(first, "← Previous people") is None


def test_the_prefix_indexes_exist(services: Services) -> None:
    """Migration 0013_people_list: the indexes the filters and the prefix search read."""
    names = {index["name"] for index in inspect(services.engine).get_indexes("identities")}
    assert {"ix_identities_status_username", "ix_identities_provider_username"} <= names
    if services.engine.dialect.name == "postgresql":
        assert "ix_identities_name_prefix" in names
    else:
        assert "ix_identities_name_nocase" in names
    roles = {index["name"] for index in inspect(services.engine).get_indexes("identity_roles")}
    assert "ix_identity_roles_role" in roles


def test_usernames_are_listed_in_byte_order_on_every_database(
    admin: FlaskClient, services: Services
) -> None:
    """The "C" collation on PostgreSQL, whatever the database's default, as SQLite's BINARY:
    punctuation and digits sort as their bytes do, so a prefix is one range of the index."""
    names = ["a_b", "a-b", "a.c", "ab", "a0", "a@b", "a.b"]
    for username in names:
        person(services, username, password=None)
    assert listed(admin.get("/people?q=a").get_data(as_text=True)) == sorted([*names, "ada"])
    assert listed(admin.get("/people?q=a.").get_data(as_text=True)) == ["a.b", "a.c"]


def create(client: FlaskClient, **form: str | list[str]) -> tuple[int, str, str]:
    data = {"csrf_token": page_csrf(client, "/people/new"), **form}
    answer = client.post("/people/new", data=data)
    return answer.status_code, answer.get_data(as_text=True), answer.headers.get("Location", "")


GOOD = {
    "username": "New.Hire",
    "printed_name": "Nora Newhire",
    "email": "nora@example.com",
    "manager": "mia.manager",
    "roles": ["reviewer", "auditor"],
    "reason": "joins QA, ticket HR-42",
}


@pytest.mark.req("AUD-1")
@pytest.mark.req("IDV-1")
def test_an_admin_creates_a_person_pending_verification_by_someone_else(
    app: Flask, admin: FlaskClient, services: Services
) -> None:
    ids = seeded(services)
    status, _page, location = create(admin, **GOOD)
    assert status == 302
    with services.sessions() as session:
        created = services.identities.by_username(session, "new.hire")
        assert created is not None
        assert created.status == IdentityStatus.PENDING_VERIFICATION
        assert created.manager_id == ids["mia.manager"]
        assert services.identities.roles(session, created.id) == {"reviewer", "auditor"}
    assert location.endswith(f"/people/{created.id}")
    shown = admin.get(location).get_data(as_text=True)
    assert "pending verification" in shown
    assert "you created them, so you cannot" in shown
    event = events(services, "identity:identity:created")[-1]
    assert event.target_id == created.id
    assert event.reason == "joins QA, ticket HR-42"
    assert json.loads(event.new_values)["roles"] == ["auditor", "reviewer"]
    with services.sessions() as session:
        ada = services.identities.by_username(session, "ada")
        assert ada is not None
    # IDV-1: the creator cannot verify; a second administrator can.
    with (
        pytest.raises(Forbidden, match="cannot also verify"),
        transaction(services.sessions) as session,
    ):
        services.identities.record_verification(
            session, services.identities.get(session, created.id), ada, "passport"
        )
    person(services, "grace.second", roles=("admin",), password=None)
    with transaction(services.sessions) as session:
        second = services.identities.by_username(session, "grace.second")
        assert second is not None
        target = services.identities.get(session, created.id)
        services.identities.record_verification(session, target, second, "passport")
        assert target.status == IdentityStatus.ACTIVE


@pytest.mark.parametrize(
    ("changes", "field", "says"),
    [
        ({"reason": ""}, "reason", "say why"),
        ({"username": "bad name!"}, "username", "username must be"),
        ({"printed_name": "Nora \u202eevil"}, "printed_name", "printed_name"),
        ({"printed_name": "  "}, "printed_name", "printed_name is required"),
        ({"email": "nora-at-example"}, "email", "not an e-mail address"),
        ({"manager": "nobody.here"}, "manager", "nobody has the username"),
        ({"roles": ["root"]}, "roles", "unknown roles: root"),
    ],
)
def test_each_refusal_is_named_on_the_form_and_creates_nothing(
    admin: FlaskClient, services: Services, changes: dict[str, str], field: str, says: str
) -> None:
    seeded(services)
    before = count_people(services)
    status, page, _location = create(admin, **{**GOOD, **changes})
    assert status in (400, 422), page
    assert says in html.unescape(page)
    if field == "roles":
        assert 'id="e-roles"' in page
    else:
        assert re.search(f'name="{field}"[^>]*aria-invalid="true"', page), page
    assert 'value="Nora Newhire"' in page or field == "printed_name"  # what was typed stays
    assert count_people(services) == before
    with services.sessions() as session:
        assert services.identities.by_username(session, "new.hire") is None


@pytest.mark.req("UNQ-1")
def test_a_username_once_anyone_elses_is_refused_on_the_form_and_alerted(
    admin: FlaskClient, services: Services
) -> None:
    ids = seeded(services)
    with transaction(services.sessions) as session:
        gone = services.identities.get(session, ids["heidi"])
        services.identities.transition(session, gone, IdentityStatus.DEACTIVATED, "left")
    before = count_people(services)
    status, page, _location = create(admin, **{**GOOD, "username": "Heidi"})
    assert status == 409
    assert re.search('name="username"[^>]*aria-invalid="true"', page)
    assert "belongs to another identity and is never reassigned" in page
    assert count_people(services) == before
    refused = events(services, "identity:identifier:reuse-refused")
    assert refused
    assert refused[-1].target_id == ids["heidi"]


@pytest.mark.req("ACC-2")
def test_only_administrators_create(app: Flask, services: Services) -> None:
    fast_hashing(services)
    officer = browser(app, services, "sam", "security_officer")
    before = count_people(services)
    assert officer.get("/people/new").status_code == 403
    token = page_csrf(officer, "/people")
    answer = officer.post("/people/new", data={**GOOD, "csrf_token": token})
    assert answer.status_code == 403
    assert count_people(services) == before
    with services.sessions() as session:
        refusals = session.scalars(
            select(AuditEvent.new_values).where(AuditEvent.action.like("access:%:refused"))
        ).all()
    assert sum('"path":"/people/new"' in values for values in refusals) == 2


def test_creating_needs_the_csrf_token(admin: FlaskClient, services: Services) -> None:
    before = count_people(services)
    answer = admin.post("/people/new", data=GOOD)
    assert answer.status_code == 403
    assert count_people(services) == before


def test_the_create_form_has_a_label_for_every_field(admin: FlaskClient) -> None:
    page = admin.get("/people/new").get_data(as_text=True)
    for name in ("username", "printed_name", "email", "manager"):
        assert f'<label for="f-{name}">' in page, name
    assert '<label for="new-reason">' in page
    assert "<legend>Roles" in page
