"""Directory passwords: bind outcomes in idgov's terms, idgov's aging on top, the check flow."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from idgov.clock import FrozenClock
from idgov.errors import ProviderUnavailable
from idgov.policies.documents import PasswordPolicy
from idgov.providers.directory.attributes import DirectoryUser, EntryProblem
from idgov.providers.directory.outcomes import BindOutcome, BindStatus
from idgov.providers.directory.passwords import (
    DirectoryAttempt,
    DirectoryPasswords,
    directory_credential,
    verdict,
)
from idgov.providers.interfaces import CredentialState, SourceRefusal

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
DAYS = timedelta(days=1)
OK = BindOutcome(BindStatus.OK)
KEY = "5f0c2a8e-1111-4a5b-9c3d-000000000001"
ANN = DirectoryUser(
    dn="uid=ann,ou=people,dc=example",
    key=KEY,
    username="ann",
    printed_name="Ann Example",
    email="ann@example.com",
    manager_dn=None,
    member_of=(),
    password_changed_at=NOW - 10 * DAYS,
    password_expires_at=None,
    must_change=False,
    locked=False,
    disabled=False,
    modify_stamp=None,
)
PASSWORD = "Lantern-Otter-Harbour-47"


def entry(**changes: object) -> DirectoryUser:
    return replace(ANN, **changes)


def credential(
    user: DirectoryUser,
    outcome: BindOutcome = OK,
    first_seen_at: datetime | None = None,
    policy: PasswordPolicy | None = None,
) -> CredentialState:
    return directory_credential(user, outcome, first_seen_at, NOW, policy or PasswordPolicy())


# --- verdict ---------------------------------------------------------------------------------


def test_ok_bind_is_true() -> None:
    assert verdict(OK, "corp") is True


@pytest.mark.req("LOCK-1")
def test_bad_credentials_are_a_wrong_password() -> None:
    assert verdict(BindOutcome(BindStatus.BAD_CREDENTIALS), "corp") is False


def test_unavailable_directory_is_a_refusal_that_does_not_count() -> None:
    refusal = verdict(BindOutcome(BindStatus.UNAVAILABLE, diagnostic="timeout"), "corp")
    assert isinstance(refusal, SourceRefusal)
    assert (refusal.reason, refusal.counts) == ("provider-unavailable", False)
    assert refusal.detail["provider"] == "corp"
    assert "timeout" in refusal.detail["error"]


@pytest.mark.req("LOCK-1")
def test_directory_lock_is_a_refusal_that_counts_toward_lockout() -> None:
    refusal = verdict(BindOutcome(BindStatus.LOCKED), "corp")
    assert isinstance(refusal, SourceRefusal)
    assert (refusal.reason, refusal.counts) == ("directory-locked", True)
    assert refusal.detail == {"provider": "corp", "directory_status": "directory-locked"}


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (BindStatus.PASSWORD_EXPIRED, "password-expired"),
        (BindStatus.MUST_CHANGE, "password-must-change"),
        (BindStatus.ACCOUNT_DISABLED, "account-disabled"),
        (BindStatus.ACCOUNT_EXPIRED, "account-expired"),
        (BindStatus.RESTRICTED, "logon-restricted"),
    ],
)
def test_directory_policy_refusals_have_a_reason_and_message_and_do_not_count(
    status: BindStatus, reason: str
) -> None:
    refusal = verdict(BindOutcome(status), "corp")
    assert isinstance(refusal, SourceRefusal)
    assert (refusal.reason, refusal.counts) == (reason, False)
    assert refusal.message.strip()


@pytest.mark.parametrize("status", list(BindStatus))
def test_every_bind_status_has_a_verdict(status: BindStatus) -> None:
    result = verdict(BindOutcome(status), "corp")  # a status without one raises KeyError
    assert result is True or result is False or isinstance(result, SourceRefusal)


# --- directory_credential: idgov's aging on top of the directory's (PWD-3) -------------------


@pytest.mark.req("PWD-3")
def test_password_older_than_the_default_90_days_is_expired() -> None:
    state = credential(entry(password_changed_at=NOW - 91 * DAYS))
    assert (state.expired, state.days_left) == (True, 0)


@pytest.mark.req("PWD-3")
def test_password_exactly_90_days_old_is_expired() -> None:
    assert credential(entry(password_changed_at=NOW - 90 * DAYS)).expired is True


@pytest.mark.req("PWD-3")
def test_younger_password_is_valid_with_days_left_to_its_maximum_age() -> None:
    state = credential(entry(password_changed_at=NOW - 80 * DAYS))
    assert state == CredentialState(temporary=False, expired=False, days_left=10)


@pytest.mark.req("PWD-3")
def test_age_comes_from_the_change_time_before_the_creation_time() -> None:
    user = entry(password_changed_at=NOW - 10 * DAYS, created_at=NOW - 400 * DAYS)
    assert credential(user).expired is False


@pytest.mark.req("PWD-3")
def test_without_a_change_time_the_age_comes_from_the_entry_creation() -> None:
    user = entry(password_changed_at=None, created_at=NOW - 100 * DAYS)
    assert credential(user, first_seen_at=NOW - DAYS).expired is True


@pytest.mark.req("PWD-3")
def test_without_change_or_creation_time_the_age_comes_from_first_seen() -> None:
    user = entry(password_changed_at=None, created_at=None)
    assert credential(user, first_seen_at=NOW - 100 * DAYS).expired is True
    assert credential(user, first_seen_at=NOW - 85 * DAYS).days_left == 5


@pytest.mark.req("PWD-3")
def test_past_ad_computed_expiry_expires_a_password_young_by_idgovs_policy() -> None:
    state = credential(entry(password_expires_at=NOW - timedelta(minutes=1)))
    assert (state.expired, state.days_left) == (True, 0)


@pytest.mark.req("PWD-3")
def test_grace_login_means_the_password_has_expired() -> None:
    state = credential(ANN, BindOutcome(BindStatus.OK, grace_remaining=0))
    assert (state.expired, state.days_left) == (True, 0)


def test_reset_password_is_temporary_but_not_expired() -> None:
    state = credential(ANN, BindOutcome(BindStatus.OK, change_after_reset=True))
    assert (state.temporary, state.expired) == (True, False)


def test_entry_that_must_change_is_temporary() -> None:
    assert credential(entry(must_change=True)).temporary is True


@pytest.mark.req("PWD-3")
def test_days_left_is_the_nearest_of_idgov_and_ad_expiry() -> None:
    state = credential(entry(password_expires_at=NOW + 5 * DAYS))  # idgov: 80 days left
    assert state.days_left == 5


@pytest.mark.req("PWD-3")
def test_days_left_counts_the_directory_time_before_expiration() -> None:
    outcome = BindOutcome(BindStatus.OK, expires_in_seconds=3 * 86400 - 60)
    assert credential(ANN, outcome).days_left == 3


@pytest.mark.req("PWD-3")
def test_policy_without_maximum_age_expires_nothing_by_age() -> None:
    no_rotation = PasswordPolicy(max_age_days=None)
    state = credential(entry(password_changed_at=NOW - 1000 * DAYS), policy=no_rotation)
    assert (state.expired, state.days_left) == (False, None)


@pytest.mark.req("PWD-3")
def test_policy_without_maximum_age_still_honours_the_ad_expiry() -> None:
    no_rotation = PasswordPolicy(max_age_days=None)
    user = entry(password_expires_at=NOW - DAYS)
    assert credential(user, policy=no_rotation).expired is True


# --- DirectoryPasswords.check ----------------------------------------------------------------


class FakeDirectory:
    """find_user and bind, answering as told and recording every call."""

    name = "corp"

    def __init__(
        self,
        found: DirectoryUser | EntryProblem | None = ANN,
        outcome: BindOutcome = OK,
        fails: str | None = None,
    ) -> None:
        self.found, self.outcome, self.fails = found, outcome, fails
        self.calls: list[tuple[str, str | None, str | None]] = []

    def find_user(self, username: str) -> DirectoryUser | EntryProblem | None:
        self.calls.append(("find_user", username, None))
        if self.fails == "find_user":
            raise ProviderUnavailable("ldaps://dc1.example: connection refused")
        return self.found

    def bind(self, dn: str | None, password: str) -> BindOutcome:
        self.calls.append(("bind", dn, password))
        if self.fails == "bind":
            raise ProviderUnavailable("ldaps://dc1.example: connection reset")
        return self.outcome


def attempt(key: str | None = KEY, username: str = "ann") -> DirectoryAttempt:
    return DirectoryAttempt("corp", username, key, NOW - 30 * DAYS, PasswordPolicy())


def passwords(directory: FakeDirectory) -> DirectoryPasswords:
    # check() never reads the clock or the policy store: plain stand-ins do.
    return DirectoryPasswords(FrozenClock(NOW), None, {"corp": directory})  # type: ignore[arg-type]


@pytest.mark.req("LOCK-3")
def test_unknown_identity_still_costs_a_search_and_a_bind_and_fails() -> None:
    directory = FakeDirectory()
    assert passwords(directory).check(attempt(key=None), PASSWORD) is False
    assert directory.calls == [("find_user", "ann", None), ("bind", None, PASSWORD)]


@pytest.mark.req("LOCK-3")
@pytest.mark.parametrize("found", [None, EntryProblem(ANN.dn, "attribute 'mail' is missing")])
def test_username_without_a_usable_entry_binds_as_nobody_and_fails(
    found: EntryProblem | None,
) -> None:
    directory = FakeDirectory(found=found)
    assert passwords(directory).check(attempt(), PASSWORD) is False
    assert directory.calls[-1] == ("bind", None, PASSWORD)


@pytest.mark.req("UNQ-1")
def test_different_immutable_key_is_refused_as_reused_without_a_bind() -> None:
    directory = FakeDirectory(found=entry(key="a-recycled-account-key"))
    refusal = passwords(directory).check(attempt(), PASSWORD)
    assert isinstance(refusal, SourceRefusal)
    assert refusal.reason == "identifier-reused"
    assert refusal.detail["directory_key"] == "a-recycled-account-key"
    assert [call[0] for call in directory.calls] == ["find_user"]


def test_matching_key_binds_as_the_entry_and_keeps_what_the_directory_said() -> None:
    directory = FakeDirectory()
    prepared = attempt()
    assert passwords(directory).check(prepared, PASSWORD) is True
    assert directory.calls[-1] == ("bind", ANN.dn, PASSWORD)
    assert (prepared.entry, prepared.outcome) == (ANN, OK)


@pytest.mark.req("LOCK-1")
def test_directory_lock_seen_by_check_counts_toward_lockout() -> None:
    directory = FakeDirectory(outcome=BindOutcome(BindStatus.LOCKED))
    refusal = passwords(directory).check(attempt(), PASSWORD)
    assert isinstance(refusal, SourceRefusal)
    assert (refusal.reason, refusal.counts) == ("directory-locked", True)


@pytest.mark.parametrize("fails", ["find_user", "bind"])
def test_unreachable_directory_is_a_provider_unavailable_refusal(fails: str) -> None:
    refusal = passwords(FakeDirectory(fails=fails)).check(attempt(), PASSWORD)
    assert isinstance(refusal, SourceRefusal)
    assert (refusal.reason, refusal.counts) == ("provider-unavailable", False)
    assert "ldaps://dc1.example" in refusal.detail["error"]  # for the audit trail
    assert "dc1" not in refusal.message  # never shown to the person


def test_unconfigured_directory_is_a_provider_unavailable_refusal() -> None:
    prepared = replace(attempt(), provider="gone")
    refusal = passwords(FakeDirectory()).check(prepared, PASSWORD)
    assert isinstance(refusal, SourceRefusal)
    assert refusal.reason == "provider-unavailable"


@pytest.mark.parametrize("password", [None, 12345, b"bytes-password", "", "x" * 1025])
def test_unusable_password_fails_without_asking_the_directory(password: object) -> None:
    directory = FakeDirectory()
    assert passwords(directory).check(attempt(), password) is False
    assert directory.calls == []


def test_anything_but_a_directory_attempt_fails_without_asking_the_directory() -> None:
    directory = FakeDirectory()
    assert passwords(directory).check(object(), PASSWORD) is False
    assert directory.calls == []
