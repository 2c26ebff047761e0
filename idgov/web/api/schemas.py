"""Request and response schemas: they validate requests and generate the OpenAPI document."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Schema(BaseModel):
    model_config = ConfigDict(extra="forbid")


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
    status: Literal["ready"]
    audit_events: int = Field(description="Number of events in the audit chain")


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
