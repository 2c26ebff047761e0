"""The audit trail page for auditors: filters, keyset pages, events, verify now, exports
(AUD-1, AUD-3, AUD-4, EXP-1, ACC-2)."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, func, select

from idgov.audit.browse import PAGE_SIZE
from idgov.audit.chain_state import chain_state
from idgov.audit.context import Actor, Target
from idgov.audit.models import AuditEvent
from idgov.clock import FrozenClock
from idgov.db import transaction
from idgov.identity.models import Identity
from idgov.wiring import Services
from tests.functional.console_support import browser, link, listed_seqs, record
from tests.functional.people import csrf_of, fast_hashing, page_csrf
from tests.functional.tamper import tamper

CAROL = Actor("identity", "id-carol", "Carol Chemist")
DAVE = Actor("identity", "id-dave", "Dave Director")


@pytest.fixture
def auditor(app: Flask, services: Services) -> FlaskClient:
    fast_hashing(services)
    return browser(app, services, "inspector", "auditor")


def seed(services: Services, clock: FrozenClock, count: int) -> None:
    """`count` events: Carol and Dave by turns, three targets, two actions."""
    for n in range(count):
        record(
            services,
            clock,
            "record:document:approved" if n % 2 else "record:document:reviewed",
            Target("document", f"DOC-{n % 3}"),
            CAROL if n % 2 else DAVE,
            old={"status": "draft"},
            new={"status": "done", "n": n},
            reason=f"step {n}",
        )


def matching(services: Services, *conds: Any) -> list[int]:
    with services.sessions() as session:
        query = select(AuditEvent.seq).where(*conds).order_by(AuditEvent.seq.desc())
        return list(session.scalars(query))


def event_count(services: Services) -> int:
    with services.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(AuditEvent)) or 0)


@contextmanager
def statements(services: Services) -> Iterator[list[tuple[str, Any]]]:
    """Every SQL statement the app runs meanwhile, with its parameters."""
    seen: list[tuple[str, Any]] = []

    def remember(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_rest: Any) -> None:
        seen.append((statement, parameters))

    event.listen(services.engine, "before_cursor_execute", remember)
    try:
        yield seen
    finally:
        event.remove(services.engine, "before_cursor_execute", remember)


@pytest.mark.req("AUD-1")
def test_the_filters_show_exactly_the_matching_events_newest_first(
    auditor: FlaskClient, services: Services, clock: FrozenClock
) -> None:
    seed(services, clock, 12)
    carol = AuditEvent.actor_id == CAROL.id

    page = auditor.get("/audit?actor=id-carol").get_data(as_text=True)
    assert listed_seqs(page) == matching(services, carol)

    page = auditor.get("/audit?actor=id-carol&target=document:DOC-1").get_data(as_text=True)
    doc1 = (AuditEvent.target_type == "document", AuditEvent.target_id == "DOC-1")
    assert listed_seqs(page) == matching(services, carol, *doc1)
    assert listed_seqs(page)

    page = auditor.get("/audit?action=record:document:reviewed").get_data(as_text=True)
    assert listed_seqs(page) == matching(services, AuditEvent.action == "record:document:reviewed")

    # The clock started at 09:30 and moved a second per event (the first at 09:30:01).
    window = "/audit?since=2026-03-02T09:30:03&until=2026-03-02+09:30:06Z"
    page = auditor.get(window).get_data(as_text=True)
    with services.sessions() as session:
        times = dict(session.execute(select(AuditEvent.seq, AuditEvent.occurred_at)).all())
    shown = listed_seqs(page)
    assert [times[seq].strftime("%H:%M:%S") for seq in shown] == [
        "09:30:05",
        "09:30:04",
        "09:30:03",
    ]


@pytest.mark.req("AUD-1")
def test_a_username_filters_the_trail_for_that_person(
    app: Flask, auditor: FlaskClient, services: Services, clock: FrozenClock
) -> None:
    with services.sessions() as session:
        inspector = session.scalars(select(Identity).where(Identity.username == "inspector")).one()
    seed(services, clock, 4)
    page = auditor.get("/audit?actor=INSPECTOR").get_data(as_text=True)
    assert listed_seqs(page) == matching(services, AuditEvent.actor_id == inspector.id)


@pytest.mark.req("AUD-1")
def test_pages_go_by_a_cursor_on_the_sequence_never_an_offset(
    auditor: FlaskClient, services: Services, clock: FrozenClock
) -> None:
    total = 2 * PAGE_SIZE + 7
    seed(services, clock, total)
    everything = matching(services)
    assert len(everything) > total  # the inspector's own creation and sign-in, too

    with statements(services) as seen:
        first = auditor.get("/audit").get_data(as_text=True)
        assert listed_seqs(first) == everything[:PAGE_SIZE]
        assert link(first, "← Newer") is None
        older = link(first, "Older events")
        assert older == f"/audit?before={everything[PAGE_SIZE - 1]}"

        second = auditor.get(older).get_data(as_text=True)
        assert listed_seqs(second) == everything[PAGE_SIZE : 2 * PAGE_SIZE]
        third = auditor.get(link(second, "Older events") or "").get_data(as_text=True)
        assert listed_seqs(third) == everything[2 * PAGE_SIZE :]
        assert link(third, "Older events") is None

        back = auditor.get(link(third, "← Newer") or "").get_data(as_text=True)
        assert listed_seqs(back) == everything[PAGE_SIZE : 2 * PAGE_SIZE]
        top = auditor.get(link(back, "← Newer") or "").get_data(as_text=True)
        assert listed_seqs(top) == everything[:PAGE_SIZE]
        assert link(top, "← Newer") is None
    # SQLite's dialect writes "LIMIT ? OFFSET ?" for every LIMIT, with an offset of 0.
    offsets = [
        (sql, params)
        for sql, params in seen
        if "audit_events" in sql and "OFFSET" in sql.upper() and tuple(params)[-1:] != (0,)
    ]
    assert offsets == []


@pytest.mark.req("AUD-1")
def test_the_cursor_links_keep_the_filter(
    auditor: FlaskClient, services: Services, clock: FrozenClock
) -> None:
    seed(services, clock, 2 * PAGE_SIZE + 10)
    carol = matching(services, AuditEvent.actor_id == CAROL.id)
    first = auditor.get("/audit?actor=id-carol").get_data(as_text=True)
    older = link(first, "Older events") or ""
    assert "actor=id-carol" in older
    second = auditor.get(older).get_data(as_text=True)
    assert listed_seqs(first) + listed_seqs(second) == carol


@pytest.mark.req("AUD-1")
@pytest.mark.parametrize(
    ("query", "field", "words"),
    [
        ("since=yesterday", "since", "is not a time"),
        ("until=2026-13-45", "until", "is not a time"),
        ("since=0001-01-01T00:00%2B01:00", "since", "is not a time"),
        ("since=2026-03-02&until=2026-03-01", "until", "later than"),
        ("actor=nobody-at-all", "actor", "no actor"),
        ("action=DROP%20TABLE", "action", "area:subject:action"),
        ("target=a%00b", "target", "plain text"),
        ("before=-1", "before", "sequence number"),
    ],
)
def test_bad_filters_are_shown_on_the_form_with_the_field_named(
    auditor: FlaskClient, services: Services, query: str, field: str, words: str
) -> None:
    before = event_count(services)
    response = auditor.get(f"/audit?{query}")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert words in page
    assert 'role="alert"' in page
    if field not in ("before",):
        assert re.search(rf'id="f-{field}"[^>]*aria-invalid="true"', page), page
        assert f'id="e-{field}"' in page
    assert event_count(services) == before  # a refusal changes nothing


@pytest.mark.req("AUD-1")
def test_an_event_shows_its_values_in_full_escaped_with_its_hashes(
    auditor: FlaskClient, services: Services, clock: FrozenClock
) -> None:
    seq = record(
        services,
        clock,
        "policy:lockout:changed",
        Target("policy", "lockout"),
        DAVE,
        old={"max_failures": 5, "note": "<script>alert(1)</script>"},
        new={"max_failures": 3, "nested": {"a": [1, 2]}},
        reason="tightened",
    )
    with services.sessions() as session:
        stored = session.get(AuditEvent, seq)
        assert stored is not None
    raw = auditor.get(f"/audit/events/{seq}").get_data(as_text=True)
    assert "<script>alert" not in raw
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in raw
    page = html.unescape(raw)
    assert '"max_failures": 5' in page
    assert '"max_failures": 3' in page
    assert '"nested": {\n    "a": [\n      1,' in page  # indented, whole
    assert stored.hash in page
    assert stored.prev_hash in page
    assert "tightened" in page
    assert "Dave Director" in page
    assert auditor.get("/audit/events/999999").status_code == 404


@pytest.mark.req("AUD-3")
def test_verify_now_needs_the_csrf_token_and_records_who_verified(
    auditor: FlaskClient, services: Services, clock: FrozenClock
) -> None:
    seed(services, clock, 5)
    assert auditor.post("/audit/verify").status_code == 403
    before = event_count(services)
    token = page_csrf(auditor, "/audit")
    response = auditor.post("/audit/verify", data={"csrf_token": token})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert f"all {before} events link" in page
    # One event after the walk: who verified and the outcome (the home page shows it).
    assert event_count(services) == before + 1
    with services.sessions() as session:
        last = chain_state(session).verification
    assert last is not None
    assert (last.ok, last.head_seq, last.by) == (True, before, "Inspector")


@pytest.mark.req("AUD-3")
def test_verify_now_names_the_first_broken_link_of_a_tampered_chain(
    auditor: FlaskClient, services: Services, clock: FrozenClock
) -> None:
    seed(services, clock, 6)
    token = page_csrf(auditor, "/audit")
    tamper(services.engine, "UPDATE audit_events SET reason = 'rewritten' WHERE seq = 4")
    response = auditor.post("/audit/verify", data={"csrf_token": token})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "BROKEN at event 4" in page
    assert "event 4 was altered" in page
    assert 'href="/audit/events/4"' in page
    with services.sessions() as session:
        last = chain_state(session).verification
    assert last is not None
    assert (last.ok, last.first_bad_seq) == (False, 4)  # a broken walk is recorded as such


@pytest.mark.req("AUD-4")
def test_verify_now_compares_with_the_newest_checkpoint_and_lists_them(
    auditor: FlaskClient, services: Services, clock: FrozenClock
) -> None:
    with transaction(services.sessions) as session:
        services.keys.create(session, "audit", reason="test setup")
    seed(services, clock, 3)
    with transaction(services.sessions) as session:
        issued = services.checkpoints.issue(session)
        size, head = issued.size, issued.head_hash
    page = auditor.get("/audit/checkpoints").get_data(as_text=True)
    assert head in page
    assert f'href="/audit/events/{size}"' in page
    token = page_csrf(auditor, "/audit")
    ok = auditor.post("/audit/verify", data={"csrf_token": token}).get_data(as_text=True)
    assert "the chain extends it" in ok
    # Rewrite the whole chain from the checkpointed event on: only the checkpoint shows it.
    tamper(
        services.engine, f"UPDATE audit_events SET hash = 'x' || substr(hash, 2) WHERE seq = {size}"
    )
    bad = auditor.post("/audit/verify", data={"csrf_token": token})
    assert bad.status_code == 409


def export_of(auditor: FlaskClient, fmt: str, query: str) -> bytes:
    response = auditor.get(f"/audit/export.{fmt}?{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "attachment" in response.headers["Content-Disposition"]
    data = response.get_data()
    response.close()  # as a WSGI server does: closes the spooled copy
    return data


@pytest.mark.req("EXP-1")
def test_the_exports_hold_exactly_the_filtered_events(
    auditor: FlaskClient, services: Services, clock: FrozenClock
) -> None:
    seed(services, clock, 2 * PAGE_SIZE + 3)  # more than one page: the export is not the page
    query = "actor=id-carol&target=DOC-2&action=record:document:approved"
    wanted = sorted(
        matching(
            services,
            AuditEvent.actor_id == CAROL.id,
            AuditEvent.target_id == "DOC-2",
            AuditEvent.action == "record:document:approved",
        )
    )
    assert wanted
    page = auditor.get(f"/audit?{query}").get_data(as_text=True)
    assert link(page, "CSV") == f"/audit/export.csv?{query}"

    document = json.loads(export_of(auditor, "json", query))
    assert [e["seq"] for e in document["events"]] == wanted
    assert document["export"]["filter"]["action"] == "record:document:approved"
    assert document["export"]["chain"]["ok"] is True

    rows = list(csv.DictReader(io.StringIO(export_of(auditor, "csv", query).decode())))
    assert [int(row["seq"]) for row in rows] == wanted

    assert export_of(auditor, "pdf", query).startswith(b"%PDF")
    html_copy = export_of(auditor, "html", query).decode()
    assert re.findall(r'<tr id="seq-([0-9]+)">', html_copy) == [str(s) for s in wanted]


@pytest.mark.req("EXP-1")
def test_an_export_refused_is_shown_on_the_page(
    auditor: FlaskClient, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    from idgov.exports import streams

    monkeypatch.setattr(streams, "RENDER_CAP", 1)
    response = auditor.get("/audit/export.pdf")
    assert response.status_code == 400
    assert "narrow the filter" in response.get_data(as_text=True)
    assert auditor.get("/audit/export.xml").status_code == 404
    assert auditor.get("/audit/export.csv?since=never").status_code == 400


@pytest.mark.req("ACC-2")
@pytest.mark.parametrize("roles", [(), ("admin",), ("security_officer",), ("reviewer",)])
def test_only_auditors_open_the_trail_and_refusals_are_audited(
    app: Flask, services: Services, roles: tuple[str, ...]
) -> None:
    fast_hashing(services)
    client = browser(app, services, "curious", *roles)
    for url in ("/audit", "/audit/events/1", "/audit/checkpoints", "/audit/export.csv"):
        assert client.get(url).status_code == 403, url
    token = csrf_of(client.get("/account/password").get_data(as_text=True))
    assert client.post("/audit/verify", data={"csrf_token": token}).status_code == 403
    refused = matching(services, AuditEvent.action.like("access:audit_trail-%:refused"))
    assert len(refused) == 5
    home = client.get("/").get_data(as_text=True)
    assert 'href="/audit"' not in home
