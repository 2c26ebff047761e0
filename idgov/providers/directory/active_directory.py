"""Active Directory specifics: bind sub-codes, FILETIME values, userAccountControl, objectGUID."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from enum import IntFlag

from idgov.providers.directory.outcomes import BindOutcome, BindStatus
from idgov.providers.directory.ppolicy import (
    INVALID_CREDENTIALS,
    SUCCESS,
    UNAVAILABLE_CODES,
    clip_diagnostic,
)

# "Active Directory LDAP bind errors" (learn.microsoft.com, troubleshoot/windows-server/
# active-directory) and [MS-ADTS] 3.1.1.3.1: a failed simple bind is resultCode 49 with
# "..., comment: AcceptSecurityContext error, data <hex Win32 error>, v<build>" in the
# diagnosticMessage; the hex is the Win32 error (winerror.h) that says why.
SUB_CODES: dict[str, BindStatus] = {
    "525": BindStatus.BAD_CREDENTIALS,  # ERROR_NO_SUCH_USER: same answer as a wrong password
    "52e": BindStatus.BAD_CREDENTIALS,  # ERROR_LOGON_FAILURE: invalid credentials
    "530": BindStatus.RESTRICTED,  # ERROR_INVALID_LOGON_HOURS: not permitted at this time
    "531": BindStatus.RESTRICTED,  # ERROR_INVALID_WORKSTATION: not at this workstation
    "532": BindStatus.PASSWORD_EXPIRED,  # ERROR_PASSWORD_EXPIRED
    "533": BindStatus.ACCOUNT_DISABLED,  # ERROR_ACCOUNT_DISABLED
    "568": BindStatus.BAD_CREDENTIALS,  # ERROR_TOO_MANY_CONTEXT_IDS: too many security IDs
    "701": BindStatus.ACCOUNT_EXPIRED,  # ERROR_ACCOUNT_EXPIRED
    "773": BindStatus.MUST_CHANGE,  # ERROR_PASSWORD_MUST_CHANGE: user must reset password
    "775": BindStatus.LOCKED,  # ERROR_ACCOUNT_LOCKED_OUT
}

_DATA = re.compile(r"\bdata\s+([0-9a-f]+)", re.IGNORECASE)


def sub_code(diagnostic: str) -> str | None:
    """The hex Win32 error after "data " in an AD bind diagnostic, lower-case and without
    leading zeros ("52e"); None when the message carries none. A trailing NUL is ignored."""
    found = _DATA.search(diagnostic)
    if found is None:
        return None
    return format(int(found.group(1), 16), "x")


def bind_outcome(result_code: int, diagnostic: str) -> BindOutcome:
    """What an AD simple bind answer means: 0 is OK; 49 is decoded from the diagnostic's
    sub-code (SUB_CODES; unknown or missing is BAD_CREDENTIALS); 51, 52, 80, 81, 91 are
    UNAVAILABLE; anything else is BAD_CREDENTIALS (fail closed). The diagnostic is passed
    through without AD's trailing NUL, clipped to 200 characters."""
    text = clip_diagnostic(diagnostic.rstrip("\x00"))
    if result_code == SUCCESS:
        return BindOutcome(status=BindStatus.OK, diagnostic=text)
    if result_code in UNAVAILABLE_CODES:
        return BindOutcome(status=BindStatus.UNAVAILABLE, diagnostic=text)
    status = BindStatus.BAD_CREDENTIALS
    if result_code == INVALID_CREDENTIALS:
        code = sub_code(diagnostic)
        if code is not None:
            status = SUB_CODES.get(code, BindStatus.BAD_CREDENTIALS)
    return BindOutcome(status=status, diagnostic=text)


# [MS-ADA1]/[MS-ADA3] pwdLastSet, lockoutTime, accountExpires and the constructed
# msDS-UserPasswordExpiryTimeComputed are FILETIMEs ([MS-DTYP] 2.3.3): 100-nanosecond
# intervals since 1601-01-01 UTC, as a decimal Integer8 (LargeInteger) string. Two values
# are special: 0 (pwdLastSet: must change at next logon; lockoutTime: not locked;
# accountExpires: never) and 0x7FFFFFFFFFFFFFFF (never: accountExpires, and the expiry time
# of a password that does not expire).
FILETIME_NEVER = 0x7FFFFFFFFFFFFFFF
FILETIME_EPOCH = datetime(1601, 1, 1, tzinfo=UTC)


def _number(value: bytes | str | int, what: str) -> int:
    """A decimal integer as LDAP returns it (ASCII bytes or text), or an int as is."""
    if isinstance(value, int):
        return value
    text = value.decode("ascii", "replace") if isinstance(value, bytes) else value
    text = text.strip()
    digits = text[1:] if text.startswith("-") else text
    if not (digits.isascii() and digits.isdigit()):
        raise ValueError(f"{what} {value!r} is not a decimal number")
    return int(text)


def filetime_ticks(value: bytes | str | int | None) -> int | None:
    """The raw FILETIME number (None when absent); ValueError when it is not one."""
    if value is None:
        return None
    ticks = _number(value, "FILETIME")
    if ticks < 0 or ticks > FILETIME_NEVER:
        raise ValueError(f"FILETIME {value!r} is out of range")
    return ticks


def is_never(value: bytes | str | int | None) -> bool:
    """True for 0x7FFFFFFFFFFFFFFF, AD's "never" (the 0 value means never only for
    accountExpires; for pwdLastSet it means "must change", for lockoutTime "not locked")."""
    return filetime_ticks(value) == FILETIME_NEVER


def filetime(value: bytes | str | int | None) -> datetime | None:
    """A FILETIME as an aware UTC datetime; None for absent, 0 and FILETIME_NEVER (callers
    that must tell 0 from "never" use filetime_ticks / is_never). Bad text, negative values
    and times past year 9999 raise ValueError."""
    ticks = filetime_ticks(value)
    if ticks is None or ticks in (0, FILETIME_NEVER):
        return None
    try:
        return FILETIME_EPOCH + timedelta(microseconds=ticks // 10)
    except OverflowError:
        raise ValueError(f"FILETIME {value!r} is past the year 9999") from None


class AccountControl(IntFlag):
    """userAccountControl bits ("Use the UserAccountControl flags to manipulate user account
    properties", learn.microsoft.com; [MS-ADTS] 2.2.16). AD computes LOCKOUT and
    PASSWORD_EXPIRED into msDS-User-Account-Control-Computed rather than storing them;
    they are honoured here when present."""

    ACCOUNTDISABLE = 0x2
    LOCKOUT = 0x10
    PASSWD_NOTREQD = 0x20
    NORMAL_ACCOUNT = 0x200
    DONT_EXPIRE_PASSWORD = 0x10000
    PASSWORD_EXPIRED = 0x800000


def account_control(value: bytes | str | int | None) -> AccountControl:
    """userAccountControl (a decimal 32-bit integer) as flags; no flags when absent. Unknown
    bits are kept. AD returns the attribute as a signed 32-bit integer, so a negative value
    is read as its unsigned form; other bad values raise ValueError."""
    if value is None:
        return AccountControl(0)
    number = _number(value, "userAccountControl")
    if not -(2**31) <= number <= 0xFFFFFFFF:
        raise ValueError(f"userAccountControl {value!r} is out of range")
    return AccountControl(number & 0xFFFFFFFF)


def guid_text(raw: bytes) -> str:
    """objectGUID (16 bytes, the first three fields little-endian as Windows stores a GUID,
    [MS-DTYP] 2.3.4.2) as the canonical lower-case text "4a5c6b8e-2f1d-...". UNQ-1 keys on
    it. Any other length raises ValueError."""
    if len(raw) != 16:
        raise ValueError(f"objectGUID has {len(raw)} bytes where 16 are expected")
    return str(uuid.UUID(bytes_le=bytes(raw)))
