"""Request and response schemas: they validate requests and generate the OpenAPI document."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from idgov.clock import iso_utc


class Schema(BaseModel):
    """Unknown fields are refused. A boolean or integer in a JSON body is StrictBool or
    StrictInt: `0`, `"true"` or `1.0` are refused (422), never taken for another type."""

    model_config = ConfigDict(extra="forbid")


def _query_flag(value: object) -> object:
    """A boolean in a query string is text: exactly `true` or `false`, as OpenAPI serializes
    one (style form); `1`, `yes` or `on` are refused rather than guessed."""
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return value == "true"
    raise ValueError("must be true or false")


QueryFlag = Annotated[bool, BeforeValidator(_query_flag)]


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
