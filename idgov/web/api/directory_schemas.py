"""Schemas of the directories API (validate and document)."""

from __future__ import annotations

from pydantic import Field, StrictBool

from idgov.web.api.schemas import Schema


class DirectoryOut(Schema):
    name: str
    preset: str
    urls: list[str]
    tls: str
    verify_certificate: bool
    user_base: str
    group_base: str | None
    sync_interval_minutes: int
    full_sync_hours: int
    password_change: bool
    group_write_back: bool
    last_sync: SyncRunOut | None


class DirectoryList(Schema):
    directories: list[DirectoryOut]


class SyncRunOut(Schema):
    id: int
    provider: str
    kind: str
    status: str
    started_at: str
    finished_at: str
    server: str | None
    counts: dict[str, int]
    problems: list[dict[str, str]] = Field(description="Entries not mirrored, and why")
    error: str | None


class SyncRunList(Schema):
    runs: list[SyncRunOut]


class SyncIn(Schema):
    full: StrictBool = Field(default=False, description="Read everything and find gone accounts")
    allow_mass_deactivation: StrictBool = False


class HoldingOut(Schema):
    grant_id: int
    entitlement_id: str
    source_type: str
    source: str
    name: str
    description: str | None
    owner_id: str | None
    account: str
    via: str | None = Field(description="Nested groups the membership comes through")
    granted_at: str


class HoldingList(Schema):
    entitlements: list[HoldingOut]


DirectoryOut.model_rebuild()
