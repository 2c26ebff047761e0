"""Reviewer and admin pages for access reviews, through the Flask test client (REV-1..3, ACC)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from idgov.clock import FrozenClock
from idgov.reviews.decisions.signoff import decisions_digest
from idgov.reviews.models import CampaignDefinition, ReviewItem, ReviewSignoff
from idgov.signatures.models import Signature
from idgov.wiring import Services
from tests.functional.people import PASSWORD, login, page_csrf, person
from tests.functional.review_support import Org, campaign, entitlement, org
from tests.functional.totp import code, enrolled

ITEM = re.compile(r'name="item" value="(\d+)"')
HEADING = re.compile(r'<h2 id="group-\d+-title">([^<]+?)\s*<span')
DIGEST = re.compile(r'name="digest" value="(sha256:[0-9a-f]{64})"')


@dataclass(frozen=True)
class Review:
    team: Org
    campaign_id: str
    items: dict[str, int]  # "account:entitlement" -> item id


@pytest.fixture
def review(services: Services, client: FlaskClient) -> Review:
    """alice reviews bob and carol (qa-approvers, lims); the admin reviews alice and an orphan.
    carol signed in once, so only bob's items are flagged dormant (REV-6)."""
    team = org(services)
    assert login(client, "carol").status_code == 302
    client.post("/logout", data={"csrf_token": page_csrf(client, "/")})
    entitlement(
        services,
        "qa-approvers",
        {"bob": team.bob, "carol": team.carol, "alice": team.alice, "ghost": None},
    )
    entitlement(services, "lims-analyst", {"bob": team.bob}, source="lims", system=True)
    campaign_id = campaign(services, fallback=team.admin)
    with services.sessions() as session:
        rows = session.scalars(select(ReviewItem).where(ReviewItem.campaign_id == campaign_id))
        items = {f"{row.account}:{row.entitlement_name}": row.id for row in rows}
    return Review(team, campaign_id, items)


def decisions(services: Services, campaign_id: str) -> dict[int, str | None]:
    with services.sessions() as session:
        rows = session.execute(
            select(ReviewItem.id, ReviewItem.decision).where(ReviewItem.campaign_id == campaign_id)
        )
        return {row.id: row.decision for row in rows}


def shown(page: str) -> set[int]:
    return {int(found) for found in ITEM.findall(page)}


def decide(client: FlaskClient, review: Review, **form: object) -> object:
    path = f"/reviews/{review.campaign_id}"
    return client.post(f"{path}/decisions", data={"csrf_token": page_csrf(client, path), **form})


@pytest.mark.req("REV-2")
def test_my_campaigns_and_the_inbox_grouped_by_person_or_system(
    services: Services, client: FlaskClient, review: Review
) -> None:
    login(client, "alice")
    listing = client.get("/reviews").get_data(as_text=True)
    assert f'href="/reviews/{review.campaign_id}"' in listing
    assert "0 of 3 decided" in listing

    page = client.get(f"/reviews/{review.campaign_id}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert HEADING.findall(text) == ["Bob Tester", "Carol Tester"]
    mine = {"bob:qa-approvers", "carol:qa-approvers", "bob:lims-analyst"}
    assert shown(text) == {review.items[key] for key in mine}
    assert "qa-approvers access" in text  # the entitlement's description
    assert 'class="badge dormant"' in text
    assert "Suggestion: revoke" in text
    assert not re.search(r'name="item"[^>]*checked', text)  # a suggestion is never preselected

    for name, kind in (("reviews.css", "text/css"), ("inbox.js", "text/javascript")):
        with client.get(f"/reviews/assets/{name}") as asset:  # files: the CSP refuses inline
            assert (asset.status_code, asset.mimetype) == (200, kind)
    assert client.get("/reviews/assets/inbox.html").status_code == 404
    by_system = client.get(f"/reviews/{review.campaign_id}?group=system").get_data(as_text=True)
    assert HEADING.findall(by_system) == ["Directory corp", "System lims"]


@pytest.mark.req("REV-6")
def test_filters_by_status_flag_source_and_text(
    services: Services, client: FlaskClient, review: Review
) -> None:
    login(client, "alice")
    path = f"/reviews/{review.campaign_id}"
    items = review.items

    def ids(query: str) -> set[int]:
        response = client.get(f"{path}?{query}")
        assert response.status_code == 200, response.get_data(as_text=True)
        return shown(response.get_data(as_text=True))

    assert ids("flagged=1") == {items["bob:qa-approvers"], items["bob:lims-analyst"]}
    assert ids("source=system-role:lims") == {items["bob:lims-analyst"]}
    assert ids("q=CAROL") == {items["carol:qa-approvers"]}
    assert ids("q=analyst+access") == {items["bob:lims-analyst"]}
    assert ids("q=%25") == set()  # a LIKE wildcard is searched for literally
    decide(client, review, item=[items["carol:qa-approvers"]], decision="certify")
    assert ids("status=decided") == {items["carol:qa-approvers"]}
    assert ids("status=undecided") == {items["bob:qa-approvers"], items["bob:lims-analyst"]}


@pytest.mark.req("REV-3")
def test_bulk_and_single_decisions_and_revocation_needs_a_justification(
    services: Services, client: FlaskClient, review: Review
) -> None:
    login(client, "alice")
    bob_qa, bob_lims = review.items["bob:qa-approvers"], review.items["bob:lims-analyst"]
    carol = review.items["carol:qa-approvers"]

    refused = decide(client, review, item=[bob_qa, carol], decision="revoke", justification=" ")
    text = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert 'role="alert"' in text
    assert "a revocation needs a justification" in text
    assert f'value="{bob_qa}" aria-label="Select Bob Tester: qa-approvers" checked' in text
    assert set(decisions(services, review.campaign_id).values()) == {None}  # nothing changed

    done = decide(client, review, item=[carol, bob_lims], decision="certify", status="undecided")
    assert done.status_code == 302
    assert done.headers["Location"] == f"/reviews/{review.campaign_id}?status=undecided"
    assert "2 items certified." in client.get(done.headers["Location"]).get_data(as_text=True)

    one = decide(client, review, one=f"revoke:{bob_qa}", item=[carol], justification="left\r\nQA")
    assert one.status_code == 302
    assert decisions(services, review.campaign_id)[bob_qa] == "revoke"
    with services.sessions() as session:  # printed as one line in the evidence (11.50(a))
        assert session.get(ReviewItem, bob_qa).justification == "left QA"  # type: ignore[union-attr]
    page = client.get(f"/reviews/{review.campaign_id}").get_data(as_text=True)
    assert "3 of 3 decided" in page
    assert "Continue to the sign-off" in page


@pytest.mark.req("REV-2")
@pytest.mark.req("ACC-2")
def test_another_reviewers_items_are_never_shown_and_refused(
    services: Services, client: FlaskClient, review: Review
) -> None:
    login(client, "admin1")
    page = client.get(f"/reviews/{review.campaign_id}").get_data(as_text=True)
    assert shown(page) == {review.items["alice:qa-approvers"], review.items["ghost:qa-approvers"]}
    assert "Bob Tester" not in page

    refused = decide(client, review, item=[review.items["bob:qa-approvers"]], decision="certify")
    assert refused.status_code == 404  # as an unknown item: nothing said of whose it is
    assert "no review items" in refused.get_data(as_text=True)
    assert "Bob Tester" not in refused.get_data(as_text=True)
    assert set(decisions(services, review.campaign_id).values()) == {None}

    client.post("/logout", data={"csrf_token": page_csrf(client, "/")})
    login(client, "dave")  # no items in this campaign: it does not exist for him
    assert client.get(f"/reviews/{review.campaign_id}").status_code == 404
    assert client.get(f"/reviews/{review.campaign_id}/signoff").status_code == 404


@pytest.mark.req("REV-3")
@pytest.mark.req("MAN-1")
def test_the_signoff_page_shows_the_digest_and_signs_with_the_password(
    services: Services, client: FlaskClient, review: Review
) -> None:
    login(client, "alice")
    signoff = f"/reviews/{review.campaign_id}/signoff"
    early = client.get(signoff).get_data(as_text=True)
    assert "3 of your 3 items are undecided" in early
    assert 'name="password"' not in early
    bob_qa = review.items["bob:qa-approvers"]
    others = [review.items["carol:qa-approvers"], review.items["bob:lims-analyst"]]
    decide(client, review, item=others, decision="certify")
    decide(client, review, item=[bob_qa], decision="revoke", justification="left the QA team")

    page = client.get(signoff).get_data(as_text=True)
    pending = services.signoffs.pending
    with services.sessions() as session:
        expected = decisions_digest(pending(session, review.campaign_id, review.team.alice))
    assert DIGEST.findall(page) == [expected]
    assert f">{expected}</code>" in page
    assert "3 (2 certified, 1 revoked)" in page
    assert "left the QA team" in page
    assert 'name="otp"' not in page  # alice holds no token

    token = page_csrf(client, signoff)
    wrong = client.post(signoff, data={"csrf_token": token, "digest": expected, "password": "x"})
    assert wrong.status_code == 401
    assert 'role="alert"' in wrong.get_data(as_text=True)

    signed = client.post(
        signoff, data={"csrf_token": token, "digest": expected, "password": PASSWORD}
    )
    assert signed.status_code == 302
    with services.sessions() as session:
        row = session.scalars(select(ReviewSignoff)).one()
    assert (row.digest, row.item_count) == (expected, 3)
    after = client.get(signoff).get_data(as_text=True)
    assert "Your review is signed: 3 decisions." in after
    assert f'id="signoff-{row.id}"' in after
    assert row.signature_id in after
    assert "Alice Tester (alice)" in after
    assert "review: I have reviewed this record." in after
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", after)
    assert 'name="password"' not in after


@pytest.mark.req("CMP-1")
def test_a_token_holder_signs_off_with_password_and_one_time_code(
    services: Services, client: FlaskClient, clock: FrozenClock, review: Review
) -> None:
    _, secret = enrolled(services, clock, review.team.alice)
    login(client, "alice")
    ids = [review.items[k] for k in ("bob:qa-approvers", "carol:qa-approvers", "bob:lims-analyst")]
    decide(client, review, item=ids, decision="certify")
    signoff = f"/reviews/{review.campaign_id}/signoff"
    page = client.get(signoff).get_data(as_text=True)
    assert 'name="otp"' in page
    form = {"csrf_token": page_csrf(client, signoff), "digest": DIGEST.findall(page)[0]}
    refused = client.post(signoff, data={**form, "password": PASSWORD})
    assert refused.status_code == 401
    assert "one-time code" in refused.get_data(as_text=True)
    signed = client.post(signoff, data={**form, "password": PASSWORD, "otp": code(secret, clock)})
    assert signed.status_code == 302
    with services.sessions() as session:
        row = session.scalars(select(ReviewSignoff)).one()
        assert session.get(Signature, row.signature_id).components == "username password otp"  # type: ignore[union-attr]


def test_signing_is_refused_when_the_decisions_changed_since_the_page(
    services: Services, client: FlaskClient, review: Review
) -> None:
    login(client, "alice")
    ids = [review.items[k] for k in ("bob:qa-approvers", "carol:qa-approvers", "bob:lims-analyst")]
    decide(client, review, item=ids, decision="certify")
    signoff = f"/reviews/{review.campaign_id}/signoff"
    shown_digest = DIGEST.findall(client.get(signoff).get_data(as_text=True))[0]
    decide(client, review, item=ids[:1], decision="revoke", justification="changed my mind")
    form = {"csrf_token": page_csrf(client, signoff), "digest": shown_digest, "password": PASSWORD}
    refused = client.post(signoff, data=form)
    assert refused.status_code == 409
    assert "changed since this page was shown" in refused.get_data(as_text=True)
    with services.sessions() as session:
        assert session.scalars(select(ReviewSignoff)).all() == []


@pytest.mark.req("ACC-1")
def test_forms_without_the_csrf_token_are_refused(
    services: Services, client: FlaskClient, review: Review
) -> None:
    login(client, "alice")
    bob_qa = review.items["bob:qa-approvers"]
    path = f"/reviews/{review.campaign_id}"
    refused = client.post(f"{path}/decisions", data={"item": [bob_qa], "decision": "certify"})
    assert refused.status_code == 403
    refused = client.post(f"{path}/signoff", data={"password": PASSWORD})
    assert refused.status_code == 403
    assert set(decisions(services, review.campaign_id).values()) == {None}
    client.post("/logout", data={"csrf_token": page_csrf(client, "/")})
    assert client.get(path).status_code == 302  # anonymous: to the login page
    assert client.get("/admin/reviews").headers["Location"].startswith("/login")


@pytest.mark.parametrize(
    ("method", "path", "form", "status"),
    [
        ("GET", "/reviews/{c}?group=team", None, 400),
        ("GET", "/reviews/{c}?status=maybe", None, 400),
        ("GET", "/reviews/{c}?source=nosuch:thing", None, 400),
        ("GET", "/reviews/{c}?q=a%00b", None, 400),
        ("GET", "/reviews/%00", None, 404),
        ("GET", "/reviews/" + "x" * 5000, None, 404),
        ("POST", "/reviews/{c}/decisions", {"item": ["1e9"], "decision": "certify"}, 422),
        ("POST", "/reviews/{c}/decisions", {"item": ["99999999999"], "decision": "certify"}, 422),
        ("POST", "/reviews/{c}/decisions", {"item": ["999999"], "decision": "certify"}, 404),
        ("POST", "/reviews/{c}/decisions", {"decision": "certify"}, 422),
        ("POST", "/reviews/{c}/decisions", {"one": "maybe:1"}, 400),
        ("POST", "/reviews/{c}/decisions", {"one": "certify:x"}, 422),
        ("POST", "/reviews/{c}/signoff", {"password": ""}, 422),
        ("POST", "/reviews/{c}/signoff", {"password": "p", "otp": "12ab56"}, 422),
        ("POST", "/reviews/%00/signoff", {"password": "p"}, 404),
        # PostgreSQL refuses a NUL: the id is looked up nowhere (was a 500)
        ("POST", "/reviews/a%00b/decisions", {"item": ["1"], "decision": "certify"}, 404),
    ],
)
def test_odd_input_gets_a_clear_refusal_never_a_500(
    services: Services,
    client: FlaskClient,
    review: Review,
    method: str,
    path: str,
    form: dict[str, object] | None,
    status: int,
) -> None:
    login(client, "alice")
    target = path.format(c=review.campaign_id)
    if method == "GET":
        response = client.get(target)
    else:
        token = page_csrf(client, f"/reviews/{review.campaign_id}")
        response = client.post(target, data={"csrf_token": token, **(form or {})})
    assert response.status_code == status, response.get_data(as_text=True)
    assert set(decisions(services, review.campaign_id).values()) == {None}


@pytest.mark.req("ACC-2")
def test_admin_pages_need_the_admin_role_and_auditors_only_read(
    services: Services, client: FlaskClient, review: Review
) -> None:
    login(client, "alice")
    assert client.get("/admin/reviews").status_code == 403
    assert client.get(f"/admin/reviews/{review.campaign_id}").status_code == 403
    client.post("/logout", data={"csrf_token": page_csrf(client, "/")})
    person(services, "audrey", roles=("auditor",))
    login(client, "audrey")
    page = client.get("/admin/reviews").get_data(as_text=True)
    assert review.campaign_id in page
    assert "New campaign definition" not in page
    assert "Start now" not in page
    assert client.get(f"/admin/reviews/{review.campaign_id}").status_code == 200
    token = page_csrf(client, "/admin/reviews")
    refused = client.post("/admin/reviews/definitions", data={"csrf_token": token, "name": "x"})
    assert refused.status_code == 403
    for odd in ("%00", "a%00b", "x" * 5000):  # a NUL was a 500 on PostgreSQL
        assert client.get(f"/admin/reviews/{odd}/evidence.pdf").status_code == 404


@pytest.mark.req("REV-1")
def test_an_admin_defines_and_starts_a_quarterly_campaign(
    services: Services, client: FlaskClient, review: Review
) -> None:
    login(client, "admin1")
    token = page_csrf(client, "/admin/reviews")
    form = {
        "csrf_token": token,
        "name": "Quarterly corp review",
        "scope_kind": "directories",
        "scope_names": "corp",
        "reviewer_rule": "manager",
        "fallback_reviewer": "nobody",
        "duration_days": "21",
        "reminder_days": "5",
        "schedule_kind": "scheduled",
        "schedule": "0 6 1 1,4,7,10 *",
    }
    refused = client.post("/admin/reviews/definitions", data=form)
    text = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert 'role="alert"' in text
    assert "fallback reviewer" in text
    assert 'value="Quarterly corp review"' in text
    bad_days = client.post(
        "/admin/reviews/definitions",
        data={**form, "fallback_reviewer": "admin1", "duration_days": "x"},
    )
    assert bad_days.status_code == 400
    assert "duration_days" in bad_days.get_data(as_text=True)
    with services.sessions() as session:
        names = session.scalars(select(CampaignDefinition.name)).all()
    assert "Quarterly corp review" not in names  # nothing kept

    created = client.post(
        "/admin/reviews/definitions", data={**form, "fallback_reviewer": "admin1"}
    )
    assert created.status_code == 302
    with services.sessions() as session:
        definition = session.scalars(
            select(CampaignDefinition).where(CampaignDefinition.name == "Quarterly corp review")
        ).one()
    assert (definition.schedule, definition.duration_days) == ("0 6 1 1,4,7,10 *", 21)
    listing = client.get("/admin/reviews").get_data(as_text=True)
    assert "quarterly" in listing
    assert "directories: corp" in listing

    started = client.post(
        f"/admin/reviews/definitions/{definition.id}/start", data={"csrf_token": token}
    )
    assert started.status_code == 302
    page = client.get(started.headers["Location"]).get_data(as_text=True)
    assert "is started with 4 items" in page  # the lims role is out of scope
    assert "Progress per reviewer" in page
    assert "Alice Tester" in page
    assert "sha256:" in page
    assert "directory-group:corp" in page
    assert re.search(r'href="/admin/reviews/[0-9a-f-]{36}/evidence\.pdf"', page)
    assert (
        client.post("/admin/reviews/definitions/%00/start", data={"csrf_token": token}).status_code
        == 404
    )


@pytest.mark.req("REV-5")
def test_the_admin_campaign_page_lists_overdue_items_and_progress(
    services: Services, client: FlaskClient, clock: FrozenClock, review: Review
) -> None:
    login(client, "alice")
    decide(client, review, item=[review.items["carol:qa-approvers"]], decision="certify")
    clock.advance(timedelta(days=31))
    login(client, "admin1")
    page = client.get(f"/admin/reviews/{review.campaign_id}").get_data(as_text=True)
    overdue = page.split("<h2>Overdue items</h2>", 1)[1].split("<h2>", 1)[0]
    assert "bob" in overdue
    assert "ghost" in overdue
    assert "carol" not in overdue
    assert "1 of 5 decided" in page
    assert "<strong>4 overdue</strong>" in page
