"""Pure password rules: quality (PWD-4), aging and warning days (PWD-3), minimum age (PWD-4)."""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from importlib import resources

from idgov.counted import counted
from idgov.policies.documents import PasswordPolicy

# Digits, punctuation, symbols and spaces around a word: "Summer2031!!" is "summer" padded.
_PADDING = re.compile(r"^[\W\d_]+|[\W\d_]+$")
_TRAILING = re.compile(r"[\W\d_]+$")
# Common substitutions (leet), undone before the blocklist check; "1" stands for i or l.
_LEET = {"0": "o", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"}
_SUBSTITUTIONS = tuple(str.maketrans({**_LEET, "1": one}) for one in ("i", "l"))
# Name and username parts: "Anne-Marie O'Neil" -> anne, marie, neil; "j.doe" -> doe.
_PART_SEPARATORS = re.compile(r"[\W_]+")
MIN_PART = 3
# NFKC composes at most a few code points into one (Hangul jamo: 3 into 1), so text longer than
# this multiple of the maximum cannot come back under it.
EXPANSION = 4
DAY = timedelta(days=1)


def normalize(password: str) -> str:
    """NFKC, as NIST SP 800-63B 5.1.1.2 asks before length checks and hashing."""
    return unicodedata.normalize("NFKC", password)


def encodable(password: str) -> bool:
    """False for text that is not valid UTF-8 once encoded (lone surrogates)."""
    try:
        password.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@cache
def common_passwords() -> frozenset[str]:
    """The blocklist shipped with the package (idgov/data/common-passwords.txt), lower case."""
    text = (resources.files("idgov") / "data" / "common-passwords.txt").read_text("utf-8")
    return frozenset(
        normalize(line.strip()).casefold()
        for line in text.splitlines()
        if line.strip() and not line.startswith("#")
    )


def is_common(password: str) -> bool:
    """Listed as is (any case), once leading and trailing digits and symbols are stripped, or
    once common substitutions are undone ("P@ssw0rd1!" is "password"): NIST SP 800-63B-4
    sec. 3.1.1.2 asks the blocklist to catch the obvious variants of a listed password."""
    listed = common_passwords()
    return any(candidate and candidate in listed for candidate in blocklist_forms(password))


def blocklist_forms(password: str) -> set[str]:
    """The forms of a password checked against the blocklist: case-folded; with its padding
    stripped; and each of those with the substitutions undone, then stripped again. Padding is
    stripped before the substitutions are undone too, so "password1" is not read "passwordi"."""
    folded = normalize(password).casefold()
    stripped = _stripped(folded)
    forms = set(stripped)
    for text in stripped:
        for table in _SUBSTITUTIONS:
            forms |= _stripped(text.translate(table))
    return forms


def _stripped(text: str) -> set[str]:
    return {text, _TRAILING.sub("", text), _PADDING.sub("", text)}


def personal_parts(username: str | None, printed_name: str | None) -> set[str]:
    """The username and the parts of it and of the name that a password must not contain."""
    texts = [normalize(text).casefold() for text in (username, printed_name) if text]
    parts = {p for text in texts for p in _PART_SEPARATORS.split(text) if len(p) >= MIN_PART}
    if username and len(username) >= MIN_PART:
        parts.add(normalize(username).casefold())
    return parts


def check_quality(
    password: object, policy: PasswordPolicy, username: str | None, printed_name: str | None
) -> list[str]:
    """Every rule the password breaks, in plain words (PWD-4); an empty list means acceptable.

    The problems never quote the password. Length is counted in Unicode code points after NFKC
    (NIST SP 800-63B 5.1.1.2), so a character typed as one symbol counts once.
    """
    if not isinstance(password, str):
        return ["the password must be text"]
    too_long = f"the password is too long: at most {counted(policy.max_length, 'character')}"
    if len(password) > EXPANSION * policy.max_length:
        return [too_long]  # not worth normalizing megabytes to learn what is already clear
    if not encodable(password):
        return ["the password contains characters that cannot be encoded (invalid Unicode)"]
    text = normalize(password)
    if any(unicodedata.category(char) == "Cc" for char in text):
        return ["the password must not contain control characters (such as NUL or line breaks)"]
    problems: list[str] = []
    if len(text) < policy.min_length:
        problems.append(
            f"the password is too short: at least {counted(policy.min_length, 'character')}"
        )
    if len(text) > policy.max_length:
        problems.append(too_long)
        return problems
    if policy.blocklist and is_common(text):
        problems.append("the password is in the blocklist of common passwords")
    if policy.forbid_personal_data:
        folded = text.casefold()
        if any(part in folded for part in personal_parts(username, printed_name)):
            problems.append("the password contains the username or a part of the name")
    return problems


@dataclass(frozen=True)
class AgingStatus:
    """Where a password stands against the maximum age (PWD-3)."""

    expired: bool
    expires_at: datetime | None  # None: the policy forces no rotation
    days_left: int | None  # whole days, rounded up; 0 once expired
    warn_day: int | None  # the warning window the password is in now (e.g. 7), if any


def aging_status(changed_at: datetime, now: datetime, policy: PasswordPolicy) -> AgingStatus:
    """Expiry and the current warning day. `warn_day` is the smallest configured warning day
    that is not less than the days left: with 14, 7, 1 and 10 days left it is 14."""
    if policy.max_age_days is None:
        # nist-800-63b: no periodic rotation (NIST SP 800-63B 5.1.1.2).
        return AgingStatus(expired=False, expires_at=None, days_left=None, warn_day=None)
    expires_at = changed_at + timedelta(days=policy.max_age_days)
    if now >= expires_at:
        return AgingStatus(expired=True, expires_at=expires_at, days_left=0, warn_day=None)
    days_left = math.ceil((expires_at - now) / DAY)
    windows = [day for day in policy.warn_days if day >= days_left]
    return AgingStatus(
        expired=False,
        expires_at=expires_at,
        days_left=days_left,
        warn_day=min(windows) if windows else None,
    )


def min_age_blocks(changed_at: datetime, now: datetime, policy: PasswordPolicy) -> bool:
    """True while the password is younger than the minimum age: stops someone cycling through
    the history in one sitting to get an old password back (PWD-4)."""
    return policy.min_age_days > 0 and now < changed_at + timedelta(days=policy.min_age_days)
