"""Request and response schemas: they validate requests and generate the OpenAPI document."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from idgov.clock import iso_utc


class Schema(BaseModel):
    model_config = ConfigDict(extra="forbid")


def iso_or_none(moment: datetime | None) -> str | None:
    """A time as ISO 8601 UTC, or None."""
    return None if moment is None else iso_utc(moment)


def columns_of(row: object, schema: type[Schema], *computed: str) -> dict[str, Any]:
    """The schema's fields read from the row of the same names, times as ISO 8601 UTC;
    `computed` fields are left to the caller."""
    names = [name for name in schema.model_fields if name not in computed]
    return {name: _plain(getattr(row, name)) for name in names}


def _plain(value: object) -> object:
    return iso_or_none(value) if isinstance(value, datetime) else value


class Problem(Schema):
    """RFC 9457 problem details."""

    model_config = ConfigDict(extra="allow")
    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None


class Health(Schema):
    status: Literal["ok"]


class Readiness(Schema):
    """Anonymous: says which component is ready, never how many of anything (LOCK-3)."""

    status: Literal["ready"]
    database: Literal["ok"] = Field(description="The database answered")
    audit_chain: Literal["ok"] = Field(description="The audit chain head is readable")


class Jwk(Schema):
    model_config = ConfigDict(extra="allow")
    kty: str
    kid: str
    alg: str
    use: str
    crv: str
    x: str
    y: str | None = None
    idgov_purpose: str
    idgov_valid_from: str
    idgov_valid_until: str | None = None


class JwkSet(Schema):
    keys: list[Jwk]
