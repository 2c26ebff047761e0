"""Policy documents: typed, range-checked; two password profiles (gxp-classic, nist-800-63b)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from idgov.text import PrintableText

PolicyKind = Literal["password", "lockout", "alerting", "session", "signing", "tokens"]
Profile = Literal["gxp-classic", "nist-800-63b"]


class _Policy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PasswordPolicy(_Policy):
    """PWD-1..4. `max_age_days` None means no forced rotation (NIST SP 800-63B 5.1.1.2)."""

    profile: Profile = "gxp-classic"
    min_length: int = Field(default=12, ge=8, le=128)
    max_length: int = Field(default=128, ge=16, le=1024)
    blocklist: bool = True
    forbid_personal_data: bool = True  # no username or name inside the password
    history_count: int = Field(default=12, ge=0, le=50)
    max_age_days: int | None = Field(default=90, ge=1, le=3650)
    warn_days: list[int] = Field(default=[14, 7, 1], max_length=10)
    min_age_days: int = Field(default=1, ge=0, le=30)
    temporary_valid_hours: int = Field(default=72, ge=1, le=720)
    # How a reset reaches the owner, never the resetting administrator (11.200(a)(3)): "email",
    # a single-use set-password link to the owner's address; "handover", the link retrieved
    # once by a second administrator or security officer who hands it to the owner.
    reset_delivery: Literal["email", "handover"] = "email"
    reset_link_minutes: int = Field(default=60, ge=5, le=1440)
    # argon2id parameters (RFC 9106); raising them re-hashes on the next login.
    argon2_time_cost: int = Field(default=3, ge=1, le=20)
    argon2_memory_kib: int = Field(default=65536, ge=8192, le=4 * 1024 * 1024)
    argon2_parallelism: int = Field(default=4, ge=1, le=16)

    @model_validator(mode="after")
    def _consistent(self) -> PasswordPolicy:
        if self.max_length < self.min_length:
            raise ValueError("max_length must not be below min_length")
        if any(day < 1 or day > 365 for day in self.warn_days):
            raise ValueError("warn_days must be between 1 and 365")
        return self


class LockoutPolicy(_Policy):
    """LOCK-1..3."""

    max_failures: int = Field(default=5, ge=1, le=20)
    # None: only a security officer unlocks (LOCK-2). A number: the lock lifts by itself after
    # that many minutes, and the lift is still alerted.
    timed_unlock_minutes: int | None = Field(default=None, ge=1, le=10080)
    attack_window_minutes: int = Field(default=15, ge=1, le=1440)
    unknown_username_threshold: int = Field(default=10, ge=1, le=10000)
    source_distinct_usernames_threshold: int = Field(default=5, ge=2, le=10000)
    # ALERT-1: wrong client secrets at /oauth/token, per client id and per source, in the window.
    client_secret_failures_threshold: int = Field(default=10, ge=1, le=10000)


class Webhook(_Policy):
    url: str = Field(pattern=r"^https?://", max_length=2000)
    secret: str = Field(description="secret reference (env:// or file://) for the HMAC key")


class AlertingPolicy(_Policy):
    """ALERT-1: who hears about lockouts and attacks, and how soon they are told again."""

    security_emails: list[str] = Field(default_factory=list, max_length=50)
    notify_manager: bool = True
    webhooks: list[Webhook] = Field(default_factory=list, max_length=10)
    renotify_minutes: int = Field(default=60, ge=5, le=10080)
    max_backoff_seconds: int = Field(default=300, ge=5, le=3600)


class SessionPolicy(_Policy):
    """ACC-3."""

    idle_minutes: int = Field(default=15, ge=1, le=720)
    absolute_hours: int = Field(default=8, ge=1, le=72)
    max_concurrent: int | None = Field(default=None, ge=1, le=100)


class TokenPolicy(_Policy):
    """TOK-1, LOSS-2: TOTP (RFC 6238) parameters, periodic testing, temporary replacements."""

    drift_steps: int = Field(default=1, ge=0, le=5)  # accepted 30 s steps either side
    test_interval_days: int = Field(default=90, ge=1, le=730)
    remind_days_before: int = Field(default=14, ge=0, le=90)
    failed_tests_to_suspend: int = Field(default=3, ge=1, le=20)
    temporary_valid_hours: int = Field(default=24, ge=1, le=168)
    temporary_max_uses: int = Field(default=3, ge=1, le=20)


class Meaning(_Policy):
    """MAN-1: what a signature means, as printed with it."""

    code: str = Field(pattern=r"^[a-z][a-z0-9-]{1,63}$")
    # Printed with every signature of this meaning (MAN-1): idgov/text.py's rule, 11.50(a).
    statement: PrintableText = Field(min_length=1, max_length=500)
    clients: list[str] | None = Field(
        default=None, description="Host clients (by name) that may use it; None: every client"
    )


DEFAULT_MEANINGS = [
    Meaning(code="authorship", statement="I am the author of this record."),
    Meaning(code="review", statement="I have reviewed this record."),
    Meaning(code="approval", statement="I approve this record."),
    Meaning(code="responsibility", statement="I take responsibility for this record."),
]


class SigningPolicy(_Policy):
    """CMP-1, MAN-1: the continuous signing session window, the token component, meanings."""

    session_idle_minutes: int = Field(default=15, ge=1, le=120)
    # 11.200(a)(1)(i)-(ii): however busy, a signing session ends this long after its first
    # signing; then every component is asked again (a new full authentication).
    session_absolute_hours: int = Field(default=12, ge=1, le=24)
    # How long a signing request waits for the person at the hosted ceremony.
    request_minutes: int = Field(default=10, ge=1, le=60)
    # Which identities must add a TOTP code (TOK-1): "holders" (anyone with an active token),
    # "all" (an identity without a token cannot sign), or "roles" (holders of otp_roles).
    require_otp: Literal["holders", "all", "roles"] = "holders"
    otp_roles: list[str] = Field(default_factory=list, max_length=10)
    meanings: list[Meaning] = Field(default=DEFAULT_MEANINGS, min_length=1, max_length=50)
    max_batch: int = Field(default=500, ge=1, le=500)

    @model_validator(mode="after")
    def _unique_codes(self) -> SigningPolicy:
        codes = [meaning.code for meaning in self.meanings]
        if len(codes) != len(set(codes)):
            raise ValueError("meaning codes must be unique")
        return self


POLICY_MODELS: dict[str, type[_Policy]] = {
    "password": PasswordPolicy,
    "lockout": LockoutPolicy,
    "alerting": AlertingPolicy,
    "session": SessionPolicy,
    "signing": SigningPolicy,
    "tokens": TokenPolicy,
}


def default_policy(kind: str, profile: Profile) -> _Policy:
    """The baseline before any change: the password profile picks the password defaults."""
    if kind == "password" and profile == "nist-800-63b":
        # NIST SP 800-63B 5.1.1.2: no periodic rotation, longer minimum, blocklist; credentials
        # are reviewed periodically instead (access reviews).
        return PasswordPolicy(
            profile="nist-800-63b", min_length=15, max_age_days=None, warn_days=[], min_age_days=0
        )
    return POLICY_MODELS[kind]()
