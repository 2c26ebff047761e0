"""One definition of overdue (REV-5): pages, API and evidence pack agree at the cut-off.

An item is overdue when it is undecided and its due time is before the cut-off; one due
exactly at the cut-off is still on time.
"""

from __future__ import annotations

import io
import json
import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from idgov.clock import FrozenClock
from idgov.wiring import Services
from tests.functional.api_client import sign_in
from tests.functional.people import login
from tests.functional.review_support import campaign, entitlement, load_campaign, org

OVERDUE = re.compile(r"<strong>(\d+) overdue</strong>")


def seen(services: Services, app: Flask, client: FlaskClient, campaign_id: str) -> dict[str, int]:
    """How many items are overdue as the admin page, the API and the evidence pack say."""
    page = client.get(f"/admin/reviews/{campaign_id}").get_data(as_text=True)
    listed_section = page.split("<h2>Overdue items</h2>", 1)[1].split("<h2>", 1)[0]
    api = sign_in(app, "admin1")
    counts = api.get(f"/api/v1/campaigns/{campaign_id}").get_json()["counts"]
    listed = api.get(f"/api/v1/campaigns/{campaign_id}/items?limit=1000").get_json()["items"]
    out = io.BytesIO()
    services.evidence.export(campaign_id, "json", out, "test")
    pack = json.loads(out.getvalue())["export"]
    return {
        "page": sum(int(count) for count in OVERDUE.findall(page[: page.index("<h2>")])),
        "page list": max(listed_section.count("</tr>") - 1, 0),  # less the heading row
        "api counts": counts["overdue"],
        "api items": sum(item["overdue"] for item in listed),
        "evidence": pack["exceptions"]["overdue"],
    }


@pytest.mark.req("REV-5")
def test_an_item_due_exactly_at_the_cut_off_is_on_time_everywhere(
    services: Services, app: Flask, client: FlaskClient, clock: FrozenClock
) -> None:
    team = org(services)
    entitlement(services, "qa-approvers", {"bob": team.bob, "carol": team.carol})
    campaign_id = campaign(services, fallback=team.admin)
    due = load_campaign(services, campaign_id).due_at

    clock.advance(due - clock.now())
    assert clock.now() == due
    login(client, "admin1")
    assert set(seen(services, app, client, campaign_id).values()) == {0}

    clock.advance(timedelta(seconds=1))
    assert set(seen(services, app, client, campaign_id).values()) == {2}
