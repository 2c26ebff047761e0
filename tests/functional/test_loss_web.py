"""The owner's loss report page (LOSS-1): reported, disabled and signed out at once."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from idgov.tokens.models import LossCase
from idgov.wiring import Services
from tests.functional.loss_support import add_token, member
from tests.functional.people import fast_hashing, login, page_csrf


@pytest.mark.req("LOSS-1")
def test_the_owner_reports_a_lost_token_from_the_page(
    client: FlaskClient, services: Services
) -> None:
    fast_hashing(services)
    owner = member(services, "olga")
    token_id = add_token(services, owner)
    login(client, "olga")
    page = client.get("/account/loss-report")
    assert page.status_code == 200
    assert "Report and disable now" in page.get_data(as_text=True)
    token = page_csrf(client, "/account/loss-report")
    form = {"csrf_token": token, "credential": "token", "kind": "lost", "token_id": token_id}
    answer = client.post("/account/loss-report", data=form)
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith("/login")
    assert client.get("/").status_code == 302  # signed out everywhere, this session too
    with services.sessions() as session:
        case = session.scalars(select(LossCase)).one()
    assert (case.identity_id, case.reported_by, case.status) == (owner, owner, "deauthorized")
    assert case.deauthorized_at == case.reported_at


def test_bad_choices_are_refused_with_the_form_again(
    client: FlaskClient, services: Services
) -> None:
    fast_hashing(services)
    member(services, "olga")
    login(client, "olga")
    token = page_csrf(client, "/account/loss-report")
    answer = client.post(
        "/account/loss-report", data={"csrf_token": token, "credential": "car", "kind": "lost"}
    )
    assert answer.status_code == 422
    assert "credential must be one of" in answer.get_data(as_text=True)
    missing_csrf = client.post("/account/loss-report", data={"credential": "card", "kind": "lost"})
    assert missing_csrf.status_code == 403
