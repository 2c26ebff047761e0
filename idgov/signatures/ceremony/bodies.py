"""What a signing request stands for: the body of the signing it asks for, with the person's
credentials for a password signing, or alone for a signer verified elsewhere (OIDC)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TypeVar

from pydantic import ValidationError

from idgov.errors import InvalidRequest
from idgov.signatures.ceremony.models import SigningRequest
from idgov.signatures.requests import SigningBody, SignRequest

Body = TypeVar("Body", SignRequest, SigningBody)


@dataclass(frozen=True)
class Credentials:
    """What the person typed at the ceremony page; never stored, never sent to the host."""

    username: str
    password: str
    otp: str | None = None
    temporary_credential: str | None = None


def sign_request(row: SigningRequest, credentials: Credentials) -> SignRequest:
    """The direct signing body this ceremony stands for: the host's records and meaning, the
    person's credentials."""
    typed = {
        "username": credentials.username,
        "password": credentials.password,
        "otp": credentials.otp or None,
        "temporary_credential": credentials.temporary_credential or None,
    }
    return _validated(SignRequest, {**typed, **_signed_fields(row)})


def signing_body(row: SigningRequest) -> SigningBody:
    """What the request asks to sign, for a signer who re-authenticates elsewhere (OIDC)."""
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
        raise InvalidRequest(f"{field}: {first['msg']}", field=field) from None
