"""What a directory said about a bind, in idgov's terms (ppolicy control, AD sub-codes)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class BindStatus(StrEnum):
    """The directory's verdict on a bind as the user, independent of the server's dialect."""

    OK = "ok"
    BAD_CREDENTIALS = "bad-credentials"  # wrong password or no such user (AD 52e, 525)
    LOCKED = "directory-locked"  # ppolicy accountLocked, AD 775
    PASSWORD_EXPIRED = "password-expired"  # noqa: S105 - a status name; ppolicy passwordExpired, AD 532
    MUST_CHANGE = "must-change"  # AD 773: bind refused until the password is reset
    ACCOUNT_DISABLED = "account-disabled"  # AD 533
    ACCOUNT_EXPIRED = "account-expired"  # AD 701
    RESTRICTED = "logon-restricted"  # AD 530 (time of day), 531 (workstation)
    UNAVAILABLE = "provider-unavailable"  # no server answered, or it failed mid-operation


@dataclass(frozen=True)
class BindOutcome:
    """The decoded answer to one bind. On OK, `change_after_reset` (ppolicy changeAfterReset:
    the password was set by an administrator and must be changed, CMP-2), `grace_remaining`
    (the password has expired and this was a grace login, PWD-3) and `expires_in_seconds`
    (ppolicy timeBeforeExpiration) describe the credential; otherwise `status` says why."""

    status: BindStatus
    change_after_reset: bool = False
    grace_remaining: int | None = None
    expires_in_seconds: int | None = None
    diagnostic: str = ""  # the server's own words, for the audit trail (never a secret)

    @property
    def ok(self) -> bool:
        return self.status == BindStatus.OK
