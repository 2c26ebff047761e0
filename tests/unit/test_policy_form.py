"""A policy as a form and back, and two versions compared field by field (CHG-1)."""

from __future__ import annotations

import pytest

from idgov.errors import UnprocessableRequest
from idgov.policies.diff import MISSING, FieldChange, field_changes
from idgov.policies.documents import POLICY_MODELS, PasswordPolicy, default_policy
from idgov.web.ui.policy_form import changes_of, fields_of


@pytest.mark.req("CHG-1")
@pytest.mark.parametrize("kind", sorted(POLICY_MODELS))
def test_every_kind_reads_back_unchanged_from_its_own_form(kind: str) -> None:
    for profile in ("gxp-classic", "nist-800-63b"):
        current = default_policy(kind, profile).model_dump(mode="json")  # type: ignore[arg-type]
        fields = fields_of(POLICY_MODELS[kind])
        assert [field.name for field in fields] == list(current)
        shown = {field.name: field.shown(current[field.name]) for field in fields}
        assert changes_of(fields, shown, current) == {}


@pytest.mark.req("CHG-1")
def test_each_widget_turns_text_into_the_models_value() -> None:
    fields = fields_of(PasswordPolicy)
    current = PasswordPolicy().model_dump(mode="json")
    form = {
        "min_length": " 14 ",
        "max_age_days": "",
        "warn_days": "10, 3",
        "blocklist": "no",
        "reset_delivery": "handover",
    }
    assert changes_of(fields, form, current) == {
        "min_length": 14,
        "max_age_days": None,
        "warn_days": [10, 3],
        "blocklist": False,
        "reset_delivery": "handover",
    }
    hints = {field.name: field.hint for field in fields}
    assert hints["min_length"] == "at least 8, at most 128"
    assert hints["max_age_days"] == "at least 1, at most 3650; empty: none"


@pytest.mark.req("CHG-1")
def test_text_of_the_wrong_kind_is_refused_naming_every_field() -> None:
    fields = fields_of(PasswordPolicy)
    current = PasswordPolicy().model_dump(mode="json")
    form = {"min_length": "twelve", "blocklist": "maybe", "warn_days": "1, x", "min_age_days": ""}
    with pytest.raises(UnprocessableRequest) as refused:
        changes_of(fields, form, current)
    named = [error["field"] for error in refused.value.extensions["errors"]]
    assert named == ["min_length", "blocklist", "warn_days", "min_age_days"]


@pytest.mark.req("CHG-1")
def test_a_diff_lists_only_what_differs_old_and_new() -> None:
    old = {"a": 1, "b": [1, 2], "gone": True}
    new = {"a": 1, "b": [2], "added": None}
    assert field_changes(old, new) == [
        FieldChange("b", [1, 2], [2]),
        FieldChange("added", MISSING, None),
        FieldChange("gone", True, MISSING),
    ]
    assert field_changes(new, new) == []
