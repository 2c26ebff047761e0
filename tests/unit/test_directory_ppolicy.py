"""The ppolicy response decoder (draft-behera-ldap-password-policy-10 6) and the bind mapping."""

from __future__ import annotations

import random

import pytest

from idgov.providers.directory.outcomes import BindOutcome, BindStatus
from idgov.providers.directory.ppolicy import (
    PPOLICY_OID,
    PolicyError,
    PolicyResponse,
    bind_outcome,
    decode_response,
    request_control,
)


def tlv(tag: int, content: bytes, long_form: int = 0) -> bytes:
    """One BER element; `long_form` > 0 writes the length in that many octets."""
    if long_form:
        return bytes([tag, 0x80 | long_form]) + len(content).to_bytes(long_form, "big") + content
    assert len(content) < 0x80
    return bytes([tag, len(content)]) + content


def response(*elements: bytes) -> bytes:
    return tlv(0x30, b"".join(elements))


def expires(seconds: bytes) -> bytes:
    return tlv(0xA0, tlv(0x80, seconds))


def grace(count: bytes) -> bytes:
    return tlv(0xA0, tlv(0x81, count))


def error(number: int) -> bytes:
    return tlv(0x81, bytes([number]))


NOTHING = PolicyResponse(expires_in=None, grace_remaining=None, error=None)
# What slapd's ppolicy overlay sends: 1 hour left; 2 grace logins left; account locked.
EXPIRES_IN_HOUR = bytes.fromhex("3006a00480020e10")
TWO_GRACE = bytes.fromhex("3005a003810102")
LOCKED = bytes.fromhex("3003810101")


def test_the_request_control_is_the_ppolicy_oid_without_a_value() -> None:
    assert PPOLICY_OID == "1.3.6.1.4.1.42.2.27.8.5.1"
    assert request_control() == ("1.3.6.1.4.1.42.2.27.8.5.1", False, None)


@pytest.mark.parametrize("value", [None, b"", b"\x30\x00"])
def test_no_value_or_an_empty_sequence_means_nothing_to_say(value: bytes | None) -> None:
    assert decode_response(value) == NOTHING


@pytest.mark.req("PWD-3")
def test_time_before_expiration() -> None:
    assert decode_response(EXPIRES_IN_HOUR) == PolicyResponse(3600, None, None)
    assert decode_response(response(expires(b"\x00"))).expires_in == 0
    assert decode_response(response(expires(b"\x7f\xff\xff\xff"))).expires_in == 2**31 - 1
    # A leading zero octet keeps a value with the top bit set positive.
    assert decode_response(response(expires(b"\x00\xff"))).expires_in == 255


@pytest.mark.req("PWD-3")
def test_grace_authentications_remaining() -> None:
    assert decode_response(TWO_GRACE) == PolicyResponse(None, 2, None)
    assert decode_response(response(grace(b"\x00"), error(0))) == PolicyResponse(
        None, 0, PolicyError.PASSWORD_EXPIRED
    )


@pytest.mark.req("LOCK-1")
def test_account_locked_error() -> None:
    assert decode_response(LOCKED) == PolicyResponse(None, None, PolicyError.ACCOUNT_LOCKED)


@pytest.mark.parametrize("number", range(10))
def test_every_error_number(number: int) -> None:
    assert decode_response(response(error(number))).error == PolicyError(number)
    assert [e.name for e in PolicyError] == [
        "PASSWORD_EXPIRED",
        "ACCOUNT_LOCKED",
        "CHANGE_AFTER_RESET",
        "PASSWORD_MOD_NOT_ALLOWED",
        "MUST_SUPPLY_OLD_PASSWORD",
        "INSUFFICIENT_PASSWORD_QUALITY",
        "PASSWORD_TOO_SHORT",
        "PASSWORD_TOO_YOUNG",
        "PASSWORD_IN_HISTORY",
        "PASSWORD_TOO_LONG",
    ]


@pytest.mark.req("PWD-3")
def test_warning_and_error_together() -> None:
    value = response(expires(b"\x01\x2c"), error(2))
    assert decode_response(value) == PolicyResponse(300, None, PolicyError.CHANGE_AFTER_RESET)


def test_long_form_lengths_are_read() -> None:
    inner = tlv(0x80, b"\x0e\x10", long_form=1)
    value = tlv(0x30, tlv(0xA0, inner, long_form=2) + tlv(0x81, b"\x05", long_form=1), 2)
    assert value[:2] == b"\x30\x82"
    assert decode_response(value) == PolicyResponse(
        3600, None, PolicyError.INSUFFICIENT_PASSWORD_QUALITY
    )


MALFORMED = {
    "not a sequence": b"\x31\x00",
    "trailing bytes": LOCKED + b"\x00",
    "truncated sequence": LOCKED[:-1],
    "length only": b"\x30",
    "length past the end": b"\x30\x05\x81\x01\x01",
    "inner length past its container": b"\x30\x03\x81\x05\x01",
    "indefinite length": b"\x30\x80\x81\x01\x01\x00\x00",
    "too many length octets": b"\x30\x85\x00\x00\x00\x00\x03\x81\x01\x01",
    "long form past the end": b"\x30\x82\x00",
    "negative time": response(expires(b"\xff")),
    "negative grace": response(grace(b"\x80\x00")),
    "negative error": response(tlv(0x81, b"\xff")),
    "above maxInt": response(expires(b"\x00\x80\x00\x00\x00")),
    "oversized integer": response(expires(b"\x00" * 6 + b"\x01")),
    "empty integer": response(expires(b"")),
    "empty warning": response(tlv(0xA0, b"")),
    "unknown error number": response(error(10)),
    "unknown warning tag": response(tlv(0xA0, tlv(0x82, b"\x01"))),
    "two warnings in one": response(tlv(0xA0, tlv(0x80, b"\x01") + tlv(0x81, b"\x01"))),
    "error before warning": response(error(1), expires(b"\x01")),
    "unknown element": response(tlv(0x82, b"\x01")),
    "two errors": response(error(1), error(1)),
    "universal integer": response(tlv(0x02, b"\x01")),
}


@pytest.mark.parametrize("value", MALFORMED.values(), ids=list(MALFORMED))
def test_malformed_values_raise_value_error(value: bytes) -> None:
    with pytest.raises(ValueError, match="ppolicy response"):
        decode_response(value)


def test_fuzzed_input_only_ever_decodes_or_raises_value_error() -> None:
    rng = random.Random(20240611)
    valid = [EXPIRES_IN_HOUR, TWO_GRACE, LOCKED, response(expires(b"\x01\x2c"), error(2))]
    samples = [v[:cut] for v in valid for cut in range(len(v) + 1)]
    for _ in range(3000):
        samples.append(bytes(rng.randrange(256) for _ in range(rng.randrange(12))))
        flipped = bytearray(rng.choice(valid))
        flipped[rng.randrange(len(flipped))] = rng.randrange(256)
        samples.append(bytes(flipped))
        samples.append(
            bytes([0x30, rng.randrange(256)]) + bytes(rng.randrange(256) for _ in "xxxxx")
        )
    decoded = 0
    for sample in samples:
        try:
            assert isinstance(decode_response(sample), PolicyResponse)
            decoded += 1
        except ValueError:
            pass
    assert 0 < decoded < len(samples)


# -- bind_outcome -------------------------------------------------------------------------

LOCKED_RESPONSE = PolicyResponse(None, None, PolicyError.ACCOUNT_LOCKED)
EXPIRED_RESPONSE = PolicyResponse(None, None, PolicyError.PASSWORD_EXPIRED)
RESET_RESPONSE = PolicyResponse(None, None, PolicyError.CHANGE_AFTER_RESET)


def test_success_without_a_control() -> None:
    assert bind_outcome(0, None, "") == BindOutcome(BindStatus.OK)


def test_success_after_an_administrator_reset() -> None:
    outcome = bind_outcome(0, RESET_RESPONSE, "")
    assert outcome.ok
    assert outcome.change_after_reset


@pytest.mark.req("PWD-3")
def test_success_carries_the_aging_warnings() -> None:
    assert bind_outcome(0, decode_response(TWO_GRACE), "") == BindOutcome(
        BindStatus.OK, grace_remaining=2
    )
    assert bind_outcome(0, decode_response(EXPIRES_IN_HOUR), "") == BindOutcome(
        BindStatus.OK, expires_in_seconds=3600
    )
    assert not bind_outcome(0, decode_response(EXPIRES_IN_HOUR), "").change_after_reset


@pytest.mark.req("LOCK-1")
@pytest.mark.parametrize("code", [49, 53])
def test_account_locked_is_a_directory_lock(code: int) -> None:
    assert bind_outcome(code, LOCKED_RESPONSE, "").status == BindStatus.LOCKED
    assert bind_outcome(code, decode_response(LOCKED), "").status == BindStatus.LOCKED


@pytest.mark.req("PWD-3")
def test_expired_with_no_grace_left() -> None:
    assert bind_outcome(49, EXPIRED_RESPONSE, "").status == BindStatus.PASSWORD_EXPIRED


@pytest.mark.parametrize(
    ("code", "policy"),
    [
        (49, None),
        (49, NOTHING),
        (49, RESET_RESPONSE),
        (53, None),
        (53, EXPIRED_RESPONSE),
        (50, LOCKED_RESPONSE),  # insufficientAccessRights: only 49 and 53 say "locked"
        (1, None),
        (2, None),
        (32, None),
        (48, None),
        (34, EXPIRED_RESPONSE),
    ],
)
def test_other_refusals_are_bad_credentials(code: int, policy: PolicyResponse | None) -> None:
    assert bind_outcome(code, policy, "").status == BindStatus.BAD_CREDENTIALS


@pytest.mark.parametrize("code", [51, 52, 80, 81, 91])
@pytest.mark.parametrize("policy", [None, LOCKED_RESPONSE])
def test_server_trouble_is_unavailable(code: int, policy: PolicyResponse | None) -> None:
    outcome = bind_outcome(code, policy, "")
    assert outcome.status == BindStatus.UNAVAILABLE
    assert not outcome.ok


@pytest.mark.parametrize(("code", "policy"), [(0, None), (49, LOCKED_RESPONSE), (52, None)])
def test_the_diagnostic_is_passed_through_clipped(code: int, policy: PolicyResponse | None) -> None:
    assert bind_outcome(code, policy, "Account locked").diagnostic == "Account locked"
    assert bind_outcome(code, policy, "x" * 500).diagnostic == "x" * 200
