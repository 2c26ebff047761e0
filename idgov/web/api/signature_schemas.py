"""Schemas of the signature reading and verification API (LNK-1, MAN-2)."""

from __future__ import annotations

from pydantic import ConfigDict, Field, JsonValue, ValidationInfo, field_validator

from idgov.signatures.requests import Line, ManifestationOut, Strict
from idgov.signatures.verification import MAX_TOKEN_CHARS, Reason

DIGEST_PATTERN = r"^sha256:[0-9a-f]{64}$"
# What the server checks, in the OpenAPI document too: a digest or a record, or both (LNK-1).
BOUND: list[JsonValue] = [
    {"required": ["digest"], "properties": {"digest": {"type": "string"}}},
    {"required": ["record"], "properties": {"record": {"type": "object"}}},
]


class StoredManifestationOut(ManifestationOut):
    reason: str | None = Field(description="The signer's reason, if one was given")


class RecordOut(Strict):
    type: str
    id: str
    version: str
    digest: str = Field(description="sha256: and 64 lower-case hex digits")
    title: str | None


class SessionStepOut(Strict):
    id: str
    seq: int


class BatchRefOut(Strict):
    id: str
    index: int | None
    merkle_root: str | None


class SignatureDetail(Strict):
    id: str = Field(description="The signature id, the token's jti")
    manifestation: StoredManifestationOut
    record: RecordOut
    identity_id: str = Field(description="The signer's stable identity id, the token's sub")
    client_id: str = Field(description="The host client it was signed through, the token's aud")
    signing_session: SessionStepOut
    components: list[str] = Field(description="What the signer presented (11.200(a)(1))")
    batch: BatchRefOut | None
    kid: str = Field(description="The key that signed it, in /.well-known/jwks.json")
    token: str | None = Field(default=None, description="The compact JWS as issued")


class SignatureList(Strict):
    signatures: list[SignatureDetail] = Field(description="In signing order")


class SignatureQuery(Strict):
    type: Line = Field(min_length=1, max_length=64, description="Record type")
    id: Line = Field(min_length=1, max_length=200, description="Record id")
    version: Line | None = Field(
        default=None, min_length=1, max_length=64, description="One version only"
    )


class RecordKeyIn(Strict):
    type: Line = Field(min_length=1, max_length=64)
    id: Line = Field(min_length=1, max_length=200)
    version: Line = Field(min_length=1, max_length=64)


class VerifyIn(Strict):
    """What to check: the token, against the record's digest and/or key, and the audience."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"anyOf": BOUND})

    token: str = Field(min_length=1, max_length=MAX_TOKEN_CHARS, description="Compact JWS")
    digest: str | None = Field(
        default=None, pattern=DIGEST_PATTERN, description="The record content's hash to match"
    )
    record: RecordKeyIn | None = Field(
        default=None,
        validate_default=True,
        description="The record it must be bound to; digest or record (or both) is required",
    )
    aud: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="The host client id the token must have been issued to (its aud claim)",
    )

    @field_validator("record")
    @classmethod
    def _bound_to_something(
        cls, record: RecordKeyIn | None, info: ValidationInfo
    ) -> RecordKeyIn | None:
        # LNK-1: a signature proves something only about a given record; a token checked
        # against nothing would be "valid" for any record. (A digest that failed its own
        # check is absent from info.data and reported under its own name.)
        if record is None and "digest" in info.data and info.data["digest"] is None:
            raise ValueError("send digest or record (or both): the record the token must bind")
        return record


class VerifyOut(Strict):
    valid: bool
    reasons: list[Reason] = Field(description="Empty when valid")
    signature: SignatureDetail | None = Field(
        description="What the token asserts, when its JWS signature verified"
    )
