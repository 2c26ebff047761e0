"""One error class per refusal; whether the refused attempt was recorded is the instance's."""

from __future__ import annotations

from idgov.errors import (
    IdentifierReused,
    InvalidCredentials,
    Locked,
    NotEligible,
    ProviderUnavailable,
)


def test_a_recorded_refusal_is_the_same_problem_as_an_unrecorded_one() -> None:
    for kind in (InvalidCredentials, Locked, NotEligible, ProviderUnavailable):
        plain, recorded = kind("refused"), kind("refused", recorded=True)
        assert (plain.recorded, recorded.recorded) == (False, True)
        assert plain.to_problem() == recorded.to_problem()
        assert "recorded" not in recorded.to_problem()


def test_refusals_that_are_always_recorded_say_so() -> None:
    assert IdentifierReused("taken").recorded
    assert not IdentifierReused("taken", recorded=False).recorded
