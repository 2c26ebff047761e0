"""Pure password rules: quality (PWD-4), aging and warning days (PWD-3), minimum age (PWD-4)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from idgov.policies.documents import PasswordPolicy, default_policy
from idgov.policies.password import (
    aging_status,
    check_quality,
    common_passwords,
    is_common,
    min_age_blocks,
    personal_parts,
)

CLASSIC = PasswordPolicy()


def nist_policy() -> PasswordPolicy:
    policy = default_policy("password", "nist-800-63b")
    assert isinstance(policy, PasswordPolicy)
    return policy


NIST = nist_policy()
GOOD = "granite-kettle-orbit"
CHANGED = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def problems(password: object, policy: PasswordPolicy = CLASSIC) -> list[str]:
    return check_quality(password, policy, "jdoe", "Jane Q. Doe-Smith")


@pytest.mark.req("PWD-4")
def test_a_good_password_has_no_problems() -> None:
    assert problems(GOOD) == []


@pytest.mark.req("PWD-4")
def test_minimum_and_maximum_length() -> None:
    assert problems("x7#kQ2!mZ9a") == ["the password is too short: at least 12 characters"]
    assert problems("x7#kQ2!mZ9ab") == []
    assert problems("x" * 129) == ["the password is too long: at most 128 characters"]
    assert problems("kettle-orbit-" * 100_000) == [
        "the password is too long: at most 128 characters"
    ]


@pytest.mark.req("PWD-4")
def test_nist_profile_needs_fifteen_characters() -> None:
    assert problems("x7#kQ2!mZ9ab", NIST) == ["the password is too short: at least 15 characters"]
    assert problems("x7#kQ2!mZ9ab-zz", NIST) == []


@pytest.mark.req("PWD-4")
def test_length_counts_code_points_after_nfkc() -> None:
    # "ﬃ" (one ligature) is "ffi" after NFKC; "é" composed from e + U+0301 is one code point.
    assert problems("ﬃ" * 4) == []
    assert problems("ﬃ" * 3) == ["the password is too short: at least 12 characters"]
    decomposed = "e\u0301" * 12
    assert problems(decomposed) == []
    assert problems("e\u0301" * 11) == ["the password is too short: at least 12 characters"]
    # Emoji and non-Latin scripts are welcome (NIST SP 800-63B 5.1.1.2).
    assert problems("山川🌲海風空雲🌧️星月花鳥") == []


@pytest.mark.req("PWD-4")
@pytest.mark.parametrize(
    "bad", ["granite\x00kettle-orbit", "granite\nkettle-orbit", "abc\x7fdefghijkl"]
)
def test_control_characters_are_refused(bad: str) -> None:
    assert problems(bad) == [
        "the password must not contain control characters (such as NUL or line breaks)"
    ]


@pytest.mark.req("PWD-4")
@pytest.mark.parametrize("bad", [None, 12345678901234, b"granite-kettle-orbit", ["x"]])
def test_a_password_must_be_text(bad: object) -> None:
    assert problems(bad) == ["the password must be text"]


@pytest.mark.req("PWD-4")
def test_lone_surrogates_are_refused() -> None:
    assert problems("granite-kettle\udc80-orbit") == [
        "the password contains characters that cannot be encoded (invalid Unicode)"
    ]


@pytest.mark.req("PWD-4")
@pytest.mark.parametrize(
    "common",
    [
        "password1234",
        "Password1234",
        "PASSWORD123456!",
        "Summer2031!!",
        "!!Welcome2024",
        "qwertyuiop123",
        "P@ssw0rd12345",
        "Letmein!!!!!",
        "123456789012",
        "1qaz2wsx3edc",
        "aaaaaaaaaaaa",
        "December2035",
    ],
)
def test_blocklist_variants_are_refused(common: str) -> None:
    assert is_common(common)
    assert "the password is in the blocklist of common passwords" in problems(common)


@pytest.mark.req("PWD-4")
def test_blocklist_is_shipped_loaded_once_and_can_be_turned_off() -> None:
    listed = common_passwords()
    assert common_passwords() is listed
    assert 5_000 < len(listed) < 30_000
    assert {"password", "123456", "qwerty", "letmein", "welcome"} <= listed
    assert not any(entry.startswith("#") for entry in listed)
    assert not is_common(GOOD)
    relaxed = CLASSIC.model_copy(update={"blocklist": False})
    assert problems("password1234", relaxed) == []


@pytest.mark.req("PWD-4")
@pytest.mark.parametrize(
    "personal", ["jdoe-kettle-orbit", "granite-JDOE-99", "kettle-smith-orbit", "orbit-JANE-kettle"]
)
def test_username_and_name_parts_are_refused(personal: str) -> None:
    assert problems(personal) == ["the password contains the username or a part of the name"]


@pytest.mark.req("PWD-4")
def test_short_name_parts_do_not_count_and_the_rule_can_be_off() -> None:
    assert personal_parts("jdoe", "Jane Q. Doe-Smith") == {"jdoe", "jane", "doe", "smith"}
    assert problems("q-kettle-orbit-granite") == []  # "Q" is under three characters
    relaxed = CLASSIC.model_copy(update={"forbid_personal_data": False})
    assert problems("jdoe-kettle-orbit", relaxed) == []


@pytest.mark.req("PWD-4")
def test_problems_never_quote_the_password() -> None:
    secret = "jdoe"  # too short, personal and more
    assert all(secret not in problem for problem in problems(secret + "1"))


@pytest.mark.req("PWD-3")
@pytest.mark.parametrize(
    ("elapsed", "days_left", "warn_day"),
    [
        (timedelta(days=0), 90, None),
        (timedelta(days=75, seconds=-1), 16, None),
        (timedelta(days=75, hours=23), 15, None),
        (timedelta(days=76), 14, 14),
        (timedelta(days=80), 10, 14),
        (timedelta(days=83), 7, 7),
        (timedelta(days=88), 2, 7),
        (timedelta(days=89), 1, 1),
        (timedelta(days=89, hours=23), 1, 1),
    ],
)
def test_gxp_classic_aging_and_warning_days(
    elapsed: timedelta, days_left: int, warn_day: int | None
) -> None:
    status = aging_status(CHANGED, CHANGED + elapsed, CLASSIC)
    assert not status.expired
    assert status.expires_at == CHANGED + timedelta(days=90)
    assert status.days_left == days_left
    assert status.warn_day == warn_day


@pytest.mark.req("PWD-3")
def test_gxp_classic_expires_after_ninety_days() -> None:
    status = aging_status(CHANGED, CHANGED + timedelta(days=90), CLASSIC)
    assert status.expired
    assert status.days_left == 0
    assert status.warn_day is None


@pytest.mark.req("PWD-3")
def test_nist_profile_never_expires_or_warns() -> None:
    status = aging_status(CHANGED, CHANGED + timedelta(days=3650), NIST)
    assert not status.expired
    assert status.expires_at is None
    assert status.days_left is None
    assert status.warn_day is None


@pytest.mark.req("PWD-3")
def test_custom_warning_days() -> None:
    policy = CLASSIC.model_copy(update={"max_age_days": 30, "warn_days": [3]})
    assert aging_status(CHANGED, CHANGED + timedelta(days=26), policy).warn_day is None
    assert aging_status(CHANGED, CHANGED + timedelta(days=27), policy).warn_day == 3


@pytest.mark.req("PWD-4")
def test_minimum_age() -> None:
    assert min_age_blocks(CHANGED, CHANGED + timedelta(hours=23), CLASSIC)
    assert not min_age_blocks(CHANGED, CHANGED + timedelta(days=1), CLASSIC)
    assert not min_age_blocks(CHANGED, CHANGED, NIST)  # min_age_days = 0
