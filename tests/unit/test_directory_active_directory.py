"""Active Directory decoding against recorded server answers: sub-codes, FILETIME, UAC, GUID."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from idgov.providers.directory.active_directory import (
    FILETIME_NEVER,
    AccountControl,
    account_control,
    bind_outcome,
    filetime,
    filetime_ticks,
    guid_text,
    is_never,
    sub_code,
)
from idgov.providers.directory.outcomes import BindStatus


def recorded(code: str, dsid: str = "0C09044E", version: str = "4563") -> str:
    """A simple-bind diagnosticMessage exactly as Windows Server sends it (NUL-terminated)."""
    return (
        f"80090308: LdapErr: DSID-{dsid}, comment: AcceptSecurityContext error, "
        f"data {code}, v{version}\x00"
    )


# (diagnostic as recorded, its sub-code, what it means). Windows Server 2016 answers v2580,
# 2012 R2 v3839 and 2019/2022 v4563; the DSID is the source location and varies by build.
RECORDED = [
    (recorded("525", "0C090447", "3839"), "525", BindStatus.BAD_CREDENTIALS),
    (recorded("52e", "0C090447", "3839"), "52e", BindStatus.BAD_CREDENTIALS),
    (recorded("52e", "0C09042F", "2580"), "52e", BindStatus.BAD_CREDENTIALS),
    (recorded("52e"), "52e", BindStatus.BAD_CREDENTIALS),
    (recorded("530", "0C09042F", "2580"), "530", BindStatus.RESTRICTED),
    (recorded("531", "0C090447", "3839"), "531", BindStatus.RESTRICTED),
    (recorded("532"), "532", BindStatus.PASSWORD_EXPIRED),
    (recorded("533", "0C09042F", "2580"), "533", BindStatus.ACCOUNT_DISABLED),
    (recorded("568", "0C090447", "3839"), "568", BindStatus.BAD_CREDENTIALS),
    (recorded("701"), "701", BindStatus.ACCOUNT_EXPIRED),
    (recorded("773", "0C09042F", "2580"), "773", BindStatus.MUST_CHANGE),
    (recorded("775"), "775", BindStatus.LOCKED),
    (recorded("775", "0C090447", "3839"), "775", BindStatus.LOCKED),
]


@pytest.mark.parametrize(("diagnostic", "code", "status"), RECORDED)
def test_recorded_bind_refusals(diagnostic: str, code: str, status: BindStatus) -> None:
    assert sub_code(diagnostic) == code
    outcome = bind_outcome(49, diagnostic)
    assert outcome.status == status
    assert outcome.diagnostic == diagnostic.rstrip("\x00")


@pytest.mark.req("LOCK-1")
def test_a_locked_out_account_is_a_directory_lock() -> None:
    diagnostic = (
        "80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, "
        "data 775, v4563\x00"
    )
    assert bind_outcome(49, diagnostic).status == BindStatus.LOCKED


@pytest.mark.req("PWD-3")
def test_expired_and_must_reset_passwords_are_told_apart() -> None:
    assert bind_outcome(49, recorded("532")).status == BindStatus.PASSWORD_EXPIRED
    assert bind_outcome(49, recorded("773")).status == BindStatus.MUST_CHANGE


@pytest.mark.parametrize(
    ("diagnostic", "code"),
    [
        (
            "80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, "
            "DATA 52E, v4563",
            "52e",
        ),
        ("... data 0000052e, v1db1", "52e"),  # zero-padded form seen from some proxies
        ("data 775\x00", "775"),
        ("data 52e", "52e"),
        ("80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error", None),
        ("", None),
        ("metadata 52e", None),
        ("data xyz", None),
    ],
)
def test_sub_code_parsing(diagnostic: str, code: str | None) -> None:
    assert sub_code(diagnostic) == code


@pytest.mark.parametrize(
    "diagnostic",
    [recorded("52f"), recorded("0"), "invalid credentials", "", recorded("52e").upper()[:40]],
)
def test_unknown_or_missing_sub_codes_are_bad_credentials(diagnostic: str) -> None:
    assert bind_outcome(49, diagnostic).status == BindStatus.BAD_CREDENTIALS


def test_success_and_other_result_codes() -> None:
    assert bind_outcome(0, "").status == BindStatus.OK
    for code in (51, 52, 80, 81, 91):
        assert bind_outcome(code, recorded("775")).status == BindStatus.UNAVAILABLE
    # A sub-code only counts on invalidCredentials: 53 with "data 775" is still a refusal.
    for code in (1, 2, 8, 50, 53):
        assert bind_outcome(code, recorded("775")).status == BindStatus.BAD_CREDENTIALS


def test_the_diagnostic_loses_its_nul_and_is_clipped() -> None:
    assert bind_outcome(49, recorded("52e")).diagnostic.endswith("data 52e, v4563")
    long = "data 775, " + "x" * 400 + "\x00"
    outcome = bind_outcome(49, long)
    assert outcome.status == BindStatus.LOCKED
    assert outcome.diagnostic == long[:200]


# -- FILETIME ------------------------------------------------------------------------------


@pytest.mark.req("PWD-3")
def test_pwd_last_set_examples() -> None:
    raw = 133400000000000000
    expected = datetime(1601, 1, 1, tzinfo=UTC) + timedelta(microseconds=raw // 10)
    assert expected == datetime(2023, 9, 24, 3, 33, 20, tzinfo=UTC)
    assert filetime(raw) == expected
    assert filetime(b"133400000000000000") == expected
    assert filetime("133400000000000000") == expected
    assert filetime(b"133485408000000000") == datetime(2024, 1, 1, tzinfo=UTC)
    assert filetime(b"133549650001234567") == datetime(2024, 3, 15, 8, 30, 0, 123456, tzinfo=UTC)
    assert filetime(raw).tzinfo is UTC  # type: ignore[union-attr]


@pytest.mark.req("PWD-3")
def test_zero_and_never() -> None:
    assert FILETIME_NEVER == 9223372036854775807
    for value in (0, b"0", "0", None):
        assert filetime(value) is None
        assert not is_never(value)
    for value in (FILETIME_NEVER, b"9223372036854775807", "9223372036854775807"):
        assert filetime(value) is None
        assert is_never(value)
    assert filetime_ticks(b"0") == 0  # pwdLastSet 0: must change, not "never"
    assert filetime_ticks(None) is None
    assert not is_never(b"133400000000000000")


@pytest.mark.parametrize(
    "value",
    [
        b"",
        "abc",
        "1.5",
        "-5",
        -5,
        b"0x1F",
        "1_000",
        "\u0661\u0662",
        b"\xff\xfe",
        "9223372036854775808",
    ],
)
def test_bad_filetimes_raise_value_error(value: bytes | str | int) -> None:
    with pytest.raises(ValueError, match="FILETIME"):
        filetime(value)


def test_a_filetime_past_the_year_9999_is_an_error() -> None:
    with pytest.raises(ValueError, match="9999"):
        filetime(FILETIME_NEVER - 1)


# -- userAccountControl ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "flags"),
    [
        (b"512", AccountControl.NORMAL_ACCOUNT),
        (b"514", AccountControl.NORMAL_ACCOUNT | AccountControl.ACCOUNTDISABLE),
        ("66048", AccountControl.NORMAL_ACCOUNT | AccountControl.DONT_EXPIRE_PASSWORD),
        (544, AccountControl.NORMAL_ACCOUNT | AccountControl.PASSWD_NOTREQD),
        (b"528", AccountControl.NORMAL_ACCOUNT | AccountControl.LOCKOUT),
        (b"8389120", AccountControl.NORMAL_ACCOUNT | AccountControl.PASSWORD_EXPIRED),
        (None, AccountControl(0)),
    ],
)
def test_account_control_flags(value: bytes | str | int | None, flags: AccountControl) -> None:
    assert account_control(value) == flags


def test_account_control_keeps_unknown_bits_and_reads_signed_values() -> None:
    trusted = account_control(b"4096")  # WORKSTATION_TRUST_ACCOUNT, not named here
    assert int(trusted) == 4096
    assert AccountControl.ACCOUNTDISABLE not in trusted
    assert int(account_control(b"-2147483136")) == 0x80000200


@pytest.mark.parametrize("value", [b"", b"abc", "5.0", 2**32, "-2147483649"])
def test_bad_account_control_raises_value_error(value: bytes | str | int) -> None:
    with pytest.raises(ValueError, match="userAccountControl"):
        account_control(value)


def test_account_control_bit_values() -> None:
    assert AccountControl.ACCOUNTDISABLE == 0x2
    assert AccountControl.LOCKOUT == 0x10
    assert AccountControl.PASSWD_NOTREQD == 0x20
    assert AccountControl.NORMAL_ACCOUNT == 0x200
    assert AccountControl.DONT_EXPIRE_PASSWORD == 0x10000
    assert AccountControl.PASSWORD_EXPIRED == 0x800000


# -- objectGUID ---------------------------------------------------------------------------

# objectGUID of 4a5c6b8e-2f1d-4c3b-9a8e-1b2c3d4e5f60 as AD returns it: the first three
# fields byte-swapped (little-endian), the last eight bytes as written.
RAW_GUID = b"\x8e\x6b\x5c\x4a\x1d\x2f\x3b\x4c\x9a\x8e\x1b\x2c\x3d\x4e\x5f\x60"


@pytest.mark.req("UNQ-1")
def test_object_guid_to_text() -> None:
    assert guid_text(RAW_GUID) == "4a5c6b8e-2f1d-4c3b-9a8e-1b2c3d4e5f60"
    assert uuid.UUID("4a5c6b8e-2f1d-4c3b-9a8e-1b2c3d4e5f60").bytes_le == RAW_GUID
    assert guid_text(RAW_GUID) != str(uuid.UUID(bytes=RAW_GUID))  # not big-endian
    assert guid_text(b"\xab" * 16) == "abababab-abab-abab-abab-abababababab"


@pytest.mark.req("UNQ-1")
@pytest.mark.parametrize("raw", [b"", RAW_GUID[:15], RAW_GUID + b"\x00", b"4a5c6b8e-2f1d-4c3b"])
def test_a_guid_must_be_sixteen_bytes(raw: bytes) -> None:
    with pytest.raises(ValueError, match="16"):
        guid_text(raw)
