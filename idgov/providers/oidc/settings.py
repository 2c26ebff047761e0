"""Settings of one OpenID provider ([oidc.NAME]): where it is, our client, claims and policy."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class OidcSettings(BaseModel):
    """One OpenID Connect provider (DESIGN.md, "OpenID Connect"). The issuer is discovered at
    `{issuer}/.well-known/openid-configuration` (OIDC Discovery 1.0 section 4)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    issuer: str
    client_id: str = Field(min_length=1, max_length=200)
    client_secret: str  # a secret reference: env://NAME or file://path
    display_name: str | None = None  # "Sign in with ..." (the block's name when unset)
    scopes: list[str] = ["openid", "profile", "email"]
    # Which ID-token claims give the idgov username, printed name, e-mail and groups.
    username_claim: str = "preferred_username"
    name_claim: str = "name"
    email_claim: str = "email"
    groups_claim: str | None = None  # groups become entitlements of system "oidc:NAME"
    acr_values: list[str] = []  # asked for at signing (OIDC Core 1.0 3.1.2.1)
    accepted_acr: list[str] = []  # an ID token's acr must be one of these; empty: any
    required_amr: list[str] = []  # every one of these must be in the ID token's amr
    clock_skew_seconds: int = Field(default=60, ge=0, le=300)
    # STEP-1: how old the provider's auth_time may be when a signature is issued.
    signing_freshness_seconds: int = Field(default=120, ge=1, le=900)
    # "pending": an unknown person is created pending verification (IDV-1); "existing": refused
    # until an administrator links them (idgov identities link).
    provisioning: Literal["pending", "existing"] = "pending"
    timeout_seconds: float = Field(default=10.0, gt=0, le=60)

    @field_validator("issuer")
    @classmethod
    def _issuer(cls, issuer: str) -> str:
        # OIDC Core 1.0 section 2: the issuer is an https URL with no query or fragment;
        # http is allowed for a loopback provider (development, tests).
        loopback = issuer.startswith(("http://127.0.0.1", "http://localhost", "http://[::1]"))
        if not (issuer.startswith("https://") or loopback) or "?" in issuer or "#" in issuer:
            raise ValueError("must be an https:// URL without query or fragment")
        return issuer.rstrip("/")

    @field_validator("scopes")
    @classmethod
    def _scopes(cls, scopes: list[str]) -> list[str]:
        if "openid" not in scopes:
            raise ValueError("must include 'openid' (OIDC Core 1.0 3.1.2.1)")
        return scopes
