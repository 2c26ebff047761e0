"""The LDAP Password Policy control (draft-behera-ldap-password-policy-10 6) from OpenLDAP."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from idgov.providers.directory.outcomes import BindOutcome, BindStatus

# draft-behera-ldap-password-policy-10 6.1: the same OID names the request and the response.
PPOLICY_OID = "1.3.6.1.4.1.42.2.27.8.5.1"

# RFC 4511 4.1.9 resultCode values, plus the client-side codes of the C API family
# (draft-ietf-ldapext-ldap-c-api: LDAP_SERVER_DOWN 0x51, LDAP_CONNECT_ERROR 0x5b) that some
# libraries put in the same field: the directory did not answer, so the bind proves nothing.
SUCCESS = 0
INVALID_CREDENTIALS = 49
UNWILLING_TO_PERFORM = 53
UNAVAILABLE_CODES = frozenset({51, 52, 80, 81, 85, 91})  # busy, unavailable, other, down,
# timeout, connect error

DIAGNOSTIC_LIMIT = 200  # characters of the server's diagnosticMessage kept for the audit trail
MAX_INT = 2**31 - 1  # RFC 4511 4.1.1 maxInt, the draft's upper bound for both warnings


class PolicyError(IntEnum):
    """draft-behera-ldap-password-policy-10 6.2: the `error` ENUMERATED of the response."""

    PASSWORD_EXPIRED = 0
    ACCOUNT_LOCKED = 1
    CHANGE_AFTER_RESET = 2
    PASSWORD_MOD_NOT_ALLOWED = 3
    MUST_SUPPLY_OLD_PASSWORD = 4
    INSUFFICIENT_PASSWORD_QUALITY = 5
    PASSWORD_TOO_SHORT = 6
    PASSWORD_TOO_YOUNG = 7
    PASSWORD_IN_HISTORY = 8
    PASSWORD_TOO_LONG = 9  # draft-behera-ldap-password-policy-11; OpenLDAP 2.5+ pwdMaxLength


@dataclass(frozen=True)
class PolicyResponse:
    """A decoded response control. At most one of `expires_in` (timeBeforeExpiration, seconds)
    and `grace_remaining` (graceAuthNsRemaining) is set: the draft makes them a CHOICE."""

    expires_in: int | None
    grace_remaining: int | None
    error: PolicyError | None


EMPTY = PolicyResponse(expires_in=None, grace_remaining=None, error=None)


def request_control() -> tuple[str, bool, None]:
    """The request control in ldap3's `controls=[...]` form: no value, not critical (a server
    without the overlay must still answer the bind; draft-behera 6.1)."""
    return (PPOLICY_OID, False, None)


def _tlv(data: bytes, pos: int, end: int, what: str) -> tuple[int, int, int]:
    """Read one BER tag-length (X.690 8.1) at `pos`; (tag, content start, content end)."""
    if pos >= end:
        raise ValueError(f"ppolicy response truncated: {what} expected at byte {pos}")
    tag = data[pos]
    pos += 1
    if pos >= end:
        raise ValueError(f"ppolicy response truncated: no length for {what} at byte {pos}")
    first = data[pos]
    pos += 1
    if first < 0x80:  # X.690 8.1.3.4 short form
        length = first
    elif first == 0x80:  # X.690 8.1.3.6 indefinite form; RFC 4511 5.1 forbids it
        raise ValueError(f"ppolicy response uses an indefinite length for {what}")
    else:  # X.690 8.1.3.5 long form: the low bits count the length octets
        count = first & 0x7F
        if count > 4 or pos + count > end:
            raise ValueError(f"ppolicy response has a bad long-form length for {what}")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    if pos + length > end:
        raise ValueError(f"ppolicy response truncated: {what} runs past the end of its container")
    return tag, pos, pos + length


def _integer(data: bytes, start: int, end: int, what: str) -> int:
    """A non-negative BER INTEGER / ENUMERATED content (X.690 8.3, 8.4)."""
    if start == end:
        raise ValueError(f"ppolicy response has an empty {what}")
    if end - start > 5:  # 0 .. maxInt fits in 4 octets, 5 with a leading zero
        raise ValueError(f"ppolicy response has an oversized {what}")
    value = int.from_bytes(data[start:end], "big", signed=True)
    if value < 0:
        raise ValueError(f"ppolicy response has a negative {what} ({value})")
    if value > MAX_INT:
        raise ValueError(f"ppolicy response has a {what} above maxInt ({value})")
    return value


def decode_response(value: bytes | None) -> PolicyResponse:
    """Decode the response control's value (draft-behera-ldap-password-policy-10 6.2):

        PasswordPolicyResponseValue ::= SEQUENCE {
            warning [0] CHOICE { timeBeforeExpiration [0] INTEGER (0 .. maxInt),
                                 graceAuthNsRemaining [1] INTEGER (0 .. maxInt) } OPTIONAL,
            error   [1] ENUMERATED { passwordExpired (0), ... } OPTIONAL }

    On the wire: 30 L [A0 L (80 L int | 81 L int)] [81 L enum]. No value, b"" and an empty
    SEQUENCE all mean "no warning, no error". Anything malformed raises ValueError only."""
    if not value:
        return EMPTY
    data = bytes(value)
    tag, pos, end = _tlv(data, 0, len(data), "the SEQUENCE")
    if tag != 0x30:
        raise ValueError(f"ppolicy response does not start with a SEQUENCE (tag 0x{tag:02x})")
    if end != len(data):
        raise ValueError(f"ppolicy response has {len(data) - end} byte(s) after the SEQUENCE")
    expires_in: int | None = None
    grace: int | None = None
    error: PolicyError | None = None
    if pos < end and data[pos] == 0xA0:  # warning [0] CHOICE: a tagged CHOICE is explicit
        _, inner, pos = _tlv(data, pos, end, "the warning")
        choice, start, stop = _tlv(data, inner, pos, "the warning's value")
        if stop != pos:
            raise ValueError("ppolicy response has extra bytes inside the warning")
        if choice == 0x80:
            expires_in = _integer(data, start, stop, "timeBeforeExpiration")
        elif choice == 0x81:
            grace = _integer(data, start, stop, "graceAuthNsRemaining")
        else:
            raise ValueError(f"ppolicy response has an unknown warning (tag 0x{choice:02x})")
    if pos < end and data[pos] == 0x81:  # error [1] ENUMERATED, implicitly tagged
        _, start, pos = _tlv(data, pos, end, "the error")
        number = _integer(data, start, pos, "error")
        try:
            error = PolicyError(number)
        except ValueError:
            raise ValueError(f"ppolicy response has an unknown error number {number}") from None
    if pos != end:
        raise ValueError(f"ppolicy response has an unexpected element (tag 0x{data[pos]:02x})")
    return PolicyResponse(expires_in=expires_in, grace_remaining=grace, error=error)


def clip_diagnostic(diagnostic: str) -> str:
    """The server's diagnosticMessage as kept in a BindOutcome: at most 200 characters."""
    return diagnostic[:DIAGNOSTIC_LIMIT]


def bind_outcome(result_code: int, response: PolicyResponse | None, diagnostic: str) -> BindOutcome:
    """What a simple bind with the ppolicy request control means, as OpenLDAP's ppolicy
    overlay answers it (slapo-ppolicy(5); draft-behera 8.1, bind checks):

    - 0 is OK; the control adds changeAfterReset, graceAuthNsRemaining (a grace login after
      expiry) and timeBeforeExpiration;
    - 49 invalidCredentials is LOCKED with accountLocked, PASSWORD_EXPIRED with passwordExpired
      (no grace logins left), else BAD_CREDENTIALS (the overlay hides which, on purpose);
    - 51, 52, 80 and the client codes 81, 91 are UNAVAILABLE (the server did not decide);
    - 53 unwillingToPerform is LOCKED with accountLocked, else BAD_CREDENTIALS;
    - any other code is BAD_CREDENTIALS (fail closed).

    `diagnostic` is passed through, clipped to 200 characters."""
    error = response.error if response is not None else None
    text = clip_diagnostic(diagnostic)
    if result_code == SUCCESS:
        return BindOutcome(
            status=BindStatus.OK,
            change_after_reset=error == PolicyError.CHANGE_AFTER_RESET,
            grace_remaining=response.grace_remaining if response is not None else None,
            expires_in_seconds=response.expires_in if response is not None else None,
            diagnostic=text,
        )
    if result_code in UNAVAILABLE_CODES:
        status = BindStatus.UNAVAILABLE
    elif error == PolicyError.ACCOUNT_LOCKED and result_code in (
        INVALID_CREDENTIALS,
        UNWILLING_TO_PERFORM,
    ):
        status = BindStatus.LOCKED
    elif error == PolicyError.PASSWORD_EXPIRED and result_code == INVALID_CREDENTIALS:
        status = BindStatus.PASSWORD_EXPIRED
    else:
        status = BindStatus.BAD_CREDENTIALS
    return BindOutcome(status=status, diagnostic=text)
