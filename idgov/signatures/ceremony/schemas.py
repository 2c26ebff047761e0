"""Schemas of the ceremony API: a host's signing request and what it learns of the outcome."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from idgov.signatures.requests import BatchOut, SignatureOut, SigningBody, Strict

Status = Literal["pending", "completed", "declined", "expired", "failed"]


class SigningRequestIn(SigningBody):
    """What the person will be shown and asked to sign at idgov; the host never sees their
    password (11.200(a)(2), 11.300)."""

    signer: str | None = Field(
        default=None,
        min_length=1,
        max_length=256,
        description="The username the host expects to sign; anyone else is refused",
    )
    return_url: str = Field(
        min_length=1,
        max_length=2000,
        description="One of the client's registered return URLs, compared exactly",
    )
    state: str | None = Field(
        default=None,
        pattern=r"^[\x20-\x7e]{1,1000}$",
        description="Opaque to idgov; echoed to the host on return (printable ASCII)",
    )


class SigningRequestOut(Strict):
    id: str
    status: Status
    ceremony_url: str = Field(description="Send the person here: {base_url}/sign/{id}")
    created_at: str = Field(description="UTC, ISO 8601 with Z")
    expires_at: str = Field(description="UTC; the person must finish before then")
    reason: str | None = Field(
        default=None, description="Why it failed (status failed), for the host's logs"
    )
    result: SignatureOut | BatchOut | None = Field(
        default=None,
        description="Once completed: the same body as a 201 from POST /api/v1/signatures",
    )
