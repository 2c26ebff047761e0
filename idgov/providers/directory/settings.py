"""Settings of one directory ([directories.NAME]): where it is, how to trust it, what to read."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from idgov.loopback import is_loopback_url
from idgov.providers.directory.attributes import attribute_map

PRESET_NAMES = ("openldap", "active-directory")
NAME_PATTERN = r"^[a-z][a-z0-9-]{0,30}$"


class DirectorySettings(BaseModel):
    """One LDAP / Active Directory source. Certificate checks are on by default: a directory
    that cannot prove who it is never sees a password (fail closed)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    preset: Literal["openldap", "active-directory"] = "openldap"
    # Tried in order (failover); ldaps:// speaks TLS from the start, ldap:// upgrades with
    # StartTLS (RFC 4513 3) unless tls = "none".
    urls: list[str] = Field(min_length=1)
    tls: Literal["starttls", "ldaps", "none"] = "starttls"
    ca_file: str | None = None  # PEM bundle; the system CAs when unset
    verify_certificate: bool = True
    bind_dn: str
    bind_password: str  # a secret reference: env://NAME or file://path
    user_base: str
    user_filter: str | None = None  # the preset's when unset
    group_base: str | None = None
    group_filter: str | None = None
    attributes: dict[str, str] = {}  # overrides of the preset's attribute map
    connect_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    operation_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    pool_size: int = Field(default=4, ge=1, le=64)
    page_size: int = Field(default=500, ge=10, le=5000)
    # Worker schedule: an incremental sync every N minutes and a full one (which also finds
    # accounts gone from the directory) every M hours; 0 turns either off.
    sync_interval_minutes: int = Field(default=15, ge=0, le=1440)
    full_sync_hours: int = Field(default=24, ge=0, le=24 * 31)
    # Refuse a sync that would deactivate more than this share of the directory's identities
    # at once (a mis-set filter or base must not deactivate everyone); 100 turns it off.
    max_deactivation_percent: int = Field(default=20, ge=1, le=100)
    password_change: bool = False  # people may change their directory password through idgov
    group_write_back: bool = False  # access-review revocations remove group members

    @field_validator("urls")
    @classmethod
    def _urls(cls, urls: list[str]) -> list[str]:
        for url in urls:
            scheme, sep, rest = url.partition("://")
            if not sep or scheme not in ("ldap", "ldaps") or not rest.strip("/"):
                raise ValueError(f"{url!r} is not an ldap:// or ldaps:// URL")
        return urls

    @model_validator(mode="after")
    def _consistent(self) -> DirectorySettings:
        schemes = {url.partition("://")[0] for url in self.urls}
        if self.tls == "ldaps" and schemes != {"ldaps"}:
            raise ValueError('tls = "ldaps" needs ldaps:// URLs')
        if self.tls != "ldaps" and "ldaps" in schemes:
            raise ValueError('ldaps:// URLs need tls = "ldaps"')
        if self.group_write_back and not self.group_base:
            raise ValueError("group_write_back needs group_base")
        if self.password_change and self.tls == "none" and not all(map(is_loopback_url, self.urls)):
            # A new password would cross the network in clear; RFC 4513 6.3.1 strongly
            # discourages clear-text passwords without confidentiality protection. On a
            # loopback URL it never leaves the host.
            raise ValueError(
                'password_change = true with tls = "none" would send passwords in clear over '
                'the network: set tls = "starttls" (or "ldaps" with ldaps:// URLs), or set '
                "password_change = false; without TLS only loopback URLs (ldap://127.0.0.1, "
                "ldap://[::1], ldap://localhost) are allowed"
            )
        attribute_map(self.preset, self.attributes)  # unknown names: a clear ValueError
        return self
