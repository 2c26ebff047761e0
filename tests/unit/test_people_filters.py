"""The people list's pure pieces: a prefix as a range of byte-ordered strings, the sources a
filter offers, and the filter form's refusals naming their field."""

from __future__ import annotations

import pytest

from idgov.errors import InvalidRequest
from idgov.identity.people_query import PeopleFilter, known_sources, prefix_range
from idgov.web.ui.people import people_filter

WORDS = ["ma", "maria", "marib", "mb", "m", "l~", "ma\U0010ffff", "ma\ud7ffx", "ma\ue000"]


@pytest.mark.parametrize(
    "prefix", ["m", "ma", "ma\ud7ff", "a.b", "é", "ma\U0010ffff", "\U0010ffff"]
)
def test_the_range_holds_exactly_the_strings_with_the_prefix(prefix: str) -> None:
    low, high = prefix_range(prefix)
    for word in [*WORDS, prefix, prefix + "z", prefix + "\U0010ffff"]:
        inside = low <= word and (high is None or word < high)
        assert inside == word.startswith(prefix), (prefix, word)


def test_the_range_skips_surrogates_and_carries_past_the_last_code_point() -> None:
    assert prefix_range("a\ud7ff") == ("a\ud7ff", "a\ue000")
    assert prefix_range("a\U0010ffff") == ("a\U0010ffff", "b")
    assert prefix_range("\U0010ffff") == ("\U0010ffff", None)


def test_sources_are_local_then_directories_then_openid_providers() -> None:
    assert known_sources(["corp", "apac"], ["okta"]) == ("local", "apac", "corp", "oidc:okta")


def test_an_empty_form_filters_nothing() -> None:
    assert people_filter({"q": " ", "status": ""}, ("local",)) == PeopleFilter()


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"status": "retired"}, "status"),
        ({"role": "signer"}, "role"),
        ({"source": "corp"}, "source"),
        ({"q": "tab\there"}, "q"),
        ({"q": "x" * 201}, "q"),
    ],
)
def test_a_bad_value_is_refused_naming_its_field(values: dict[str, str], field: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        people_filter(values, ("local",))
    assert refused.value.extensions["field"] == field
