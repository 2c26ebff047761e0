"""Pure review rules: who reviews (REV-2), schedules (REV-1), scopes (REV-1)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from idgov.errors import InvalidRequest
from idgov.reviews.campaigns.assignment import Person, Reviewers, escalation_target, primary
from idgov.reviews.campaigns.schedule import QUARTERLY, parse_schedule
from idgov.reviews.campaigns.scope import parse_scope

ACTIVE, GONE = "active", "deactivated"


def team(**overrides: Person) -> Reviewers:
    people = {
        "boss": Person("boss", ACTIVE, None),
        "mgr": Person("mgr", ACTIVE, "boss"),
        "ann": Person("ann", ACTIVE, "mgr"),
        "fallback": Person("fallback", ACTIVE, "boss"),
        "admin": Person("admin", ACTIVE, None),
        "left": Person("left", GONE, None),
    }
    people.update(overrides)
    return Reviewers(people, "fallback", ("admin",))


@pytest.mark.req("REV-2")
def test_the_rules_reviewer_is_chosen_when_eligible() -> None:
    assert team().first(["mgr"], holder="ann") == "mgr"


@pytest.mark.req("REV-2")
@pytest.mark.parametrize(
    ("candidates", "holder", "expected"),
    [
        (["ann"], "ann", "fallback"),  # never the holder: the next eligible reviewer
        ([None], "ann", "fallback"),  # no manager or owner
        (["left"], "ann", "fallback"),  # a deactivated reviewer cannot sign
        (["mgr"], "fallback", "mgr"),
        ([None], "fallback", "boss"),  # the fallback holds it: the fallback's manager
        ([None], "boss", "fallback"),
    ],
)
def test_the_next_eligible_reviewer_never_the_holder(
    candidates: list[str | None], holder: str, expected: str
) -> None:
    assert team().first(candidates, holder) == expected


@pytest.mark.req("REV-2")
def test_when_everyone_else_is_the_holder_the_admins_are_last() -> None:
    reviewers = Reviewers(
        {"solo": Person("solo", ACTIVE, None), "admin": Person("admin", ACTIVE, None)},
        "solo",
        ("admin",),
    )
    assert reviewers.first(["solo"], holder="solo") == "admin"
    assert Reviewers({"solo": Person("solo", ACTIVE, None)}, "solo", ()).first([], "solo") is None


@pytest.mark.req("REV-5")
def test_escalation_goes_to_the_reviewers_manager_then_on_down_the_chain() -> None:
    assert escalation_target(team(), current="mgr", holder="ann") == "boss"
    # The reviewer's manager is the holder: skipped, to the fallback.
    assert escalation_target(team(), current="mgr", holder="boss") == "fallback"


def test_primary_by_rule_and_stage() -> None:
    assert primary("manager", 1, "m", "o") == "m"
    assert primary("owner", 1, "m", "o") == "o"
    assert (
        primary("manager-then-owner", 1, "m", "o"),
        primary("manager-then-owner", 2, "m", "o"),
    ) == (
        "m",
        "o",
    )


@pytest.mark.req("REV-1")
def test_quarterly_by_default() -> None:
    schedule = parse_schedule(QUARTERLY)
    after = datetime(2026, 11, 22, 12, tzinfo=UTC)
    first = schedule.next_after(after)
    assert first == datetime(2027, 1, 1, 6, tzinfo=UTC)
    assert schedule.next_after(first) == datetime(2027, 4, 1, 6, tzinfo=UTC)


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        (
            "30 2 * * 1",
            datetime(2026, 11, 22, tzinfo=UTC),
            datetime(2026, 11, 23, 2, 30, tzinfo=UTC),
        ),
        (
            "*/15 9-17 * * 1-5",
            datetime(2026, 11, 20, 17, 50, tzinfo=UTC),
            datetime(2026, 11, 23, 9, 0, tzinfo=UTC),
        ),
        ("0 0 29 2 *", datetime(2026, 3, 1, tzinfo=UTC), datetime(2028, 2, 29, tzinfo=UTC)),
        ("0 6 1 * 7", datetime(2026, 11, 22, 7, tzinfo=UTC), datetime(2026, 11, 29, 6, tzinfo=UTC)),
    ],
)
def test_cron_fields(expression: str, after: datetime, expected: datetime) -> None:
    assert parse_schedule(expression).next_after(after) == expected


@pytest.mark.parametrize(
    "expression",
    ["", "* * * *", "60 * * * *", "* 24 * * *", "a * * * *", "*/0 * * * *", "5-1 * * * *"],
)
def test_bad_schedules_are_refused_naming_the_field(expression: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        parse_schedule(expression)
    assert refused.value.extensions["field"] == "schedule"


def test_scopes() -> None:
    assert parse_scope({"all": True}).everything
    scope = parse_scope('{"systems": ["lims", "lims"], "groups": ["corp/qa-approvers"]}')
    assert (scope.systems, scope.groups) == (("lims",), (("corp", "qa-approvers"),))


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({}, "the scope is empty"),
        ({"systems": []}, "the scope is empty"),
        ({"teams": ["x"]}, "unknown keys"),
        ({"groups": ["qa-approvers"]}, "DIRECTORY/GROUP"),
        ({"all": True, "systems": ["x"]}, "stands alone"),
        ({"systems": "lims"}, "list of names"),
        ("{not json", "not JSON"),
        ([], "must be an object"),
    ],
)
def test_bad_scopes_are_refused(raw: object, message: str) -> None:
    with pytest.raises(InvalidRequest, match=message):
        parse_scope(raw)


def test_a_starred_day_field_with_a_step_still_combines_with_the_weekday() -> None:
    """Vixie cron: "*/2" in the day of month leaves it unrestricted for the OR rule, so
    "0 6 */2 * 1" fires on odd days that are Mondays (not on odd days or Mondays)."""
    schedule = parse_schedule("0 6 */2 * 1")
    first = schedule.next_after(datetime(2026, 11, 22, tzinfo=UTC))  # a Sunday
    assert first == datetime(2026, 11, 23, 6, tzinfo=UTC)  # Monday the 23rd: odd
    assert schedule.next_after(first) == datetime(2026, 12, 7, 6, tzinfo=UTC)  # the 30th: even
