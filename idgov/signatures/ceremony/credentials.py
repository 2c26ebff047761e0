"""What the person types at the ceremony page, turned into the direct signing body."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TypeVar

from pydantic import ValidationError

from idgov.errors import InvalidRequest
from idgov.identity.usernames import normalize_username
from idgov.signatures.ceremony.models import SigningRequest
from idgov.signatures.requests import SigningBody, SignRequest

Body = TypeVar("Body", SignRequest, SigningBody)

# What the person typed, said in their words when it cannot be right (the rest cannot fail:
# the host's part was checked when the request was made).
TYPED = {
    "username": "Type your username.",
    "password": "Type your password.",
    "otp": "The one-time code is the 6 to 8 digits your token shows.",
    "temporary_credential": "The temporary credential is the code security gave you, as given.",
}


@dataclass(frozen=True)
class Credentials:
    """What the person typed at the ceremony page; never stored, never sent to the host."""

    username: str
    password: str
    otp: str | None = None
    temporary_credential: str | None = None


def typed_username(typed: str) -> str | None:
    """The username as idgov compares it, or None for one no username can be."""
    try:
        return normalize_username(typed)
    except InvalidRequest:
        return None


def signing_body(row: SigningRequest, credentials: Credentials) -> SignRequest:
    """The direct signing body this ceremony stands for: the host's records and meaning, the
    person's credentials."""
    typed = {
        "username": credentials.username,
        "password": credentials.password,
        "otp": credentials.otp or None,
        "temporary_credential": credentials.temporary_credential or None,
    }
    return _validated(SignRequest, {**typed, **_signed_fields(row)})


def federated_body(row: SigningRequest) -> SigningBody:
    """What the request asks to sign, for a signer verified at an OpenID provider (STEP-1)."""
    return _validated(SigningBody, _signed_fields(row))


def _signed_fields(row: SigningRequest) -> dict[str, object]:
    records = json.loads(row.records)
    target = {"records": records} if row.batched else {"record": records[0]}
    return {"meaning": row.meaning, "reason": row.reason, **target}


def _validated(model: type[Body], fields: dict[str, object]) -> Body:
    try:
        return model.model_validate(fields)
    except ValidationError as invalid:
        first = invalid.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise InvalidRequest(TYPED.get(field, f"{field}: {first['msg']}"), field=field) from None
