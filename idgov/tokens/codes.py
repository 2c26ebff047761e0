"""TOTP codes (RFC 6238) checked against the server clock, with drift window and no replay."""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from urllib.parse import parse_qs, urlsplit

import pyotp

DIGITS = 6  # RFC 6238 with SHA-1, 30 s steps, 6 digits: what every authenticator app reads
STEP_SECONDS = 30
ISSUER = "idgov"
CODE = re.compile(r"^[0-9]{6}$")

Verdict = Literal["accepted", "wrong", "replayed"]


@dataclass(frozen=True)
class CodeCheck:
    """One code checked: `step` and `drift` (in steps, signed) are set when it matched."""

    verdict: Verdict
    step: int | None = None
    drift: int | None = None

    @property
    def ok(self) -> bool:
        return self.verdict == "accepted"


def new_secret() -> str:
    """A fresh base32 shared key of 160 bits (RFC 4226 section 4, R6)."""
    return pyotp.random_base32(32)


def otpauth_uri(secret: str, account: str) -> str:
    """The provisioning URI authenticator apps read (the otpauth:// key URI format)."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=account, issuer_name=ISSUER
    )


def secret_of(uri: str) -> str:
    """The base32 secret inside an otpauth URI (tests and support tooling)."""
    return parse_qs(urlsplit(uri).query)["secret"][0]


def check_code(
    secret: str, code: str, now: datetime, drift_steps: int, last_step: int | None
) -> CodeCheck:
    """RFC 6238 section 5.2: accept the code of the current step or of up to `drift_steps`
    steps either side (policy), by the server's clock `now`, never time.time(). A code of a
    step at or before `last_step` was already used or is older than one used: refused, so a
    code is accepted once (section 5.2: "the verifier MUST NOT accept the second attempt")."""
    if not CODE.match(code):
        return CodeCheck("wrong")
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    current = totp.timecode(now)
    # Nearest steps first, so that a code valid twice in the window reports the smallest drift.
    found = CodeCheck("wrong")
    for offset in sorted(range(-drift_steps, drift_steps + 1), key=abs):
        step = current + offset
        if not hmac.compare_digest(totp.generate_otp(step), code):
            continue
        if last_step is None or step > last_step:
            return CodeCheck("accepted", step, offset)
        if found.verdict == "wrong":
            found = CodeCheck("replayed", step, offset)
    return found
