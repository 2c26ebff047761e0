"""Schemas of the signing API: the signing request, its answers, and declared sequences."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    RootModel,
    StrictBool,
    model_validator,
)

from idgov.clock import iso_utc
from idgov.signatures.issuing import IssuedSignature, SigningOutcome
from idgov.text import AuditedText, PrintableText, printable_text

MAX_RECORDS = 500
# MAN-1, 11.10(e): the time of signing is the server's. A client's clock values are accepted so
# that hosts which send them are not broken, and ignored.
CLIENT_CLOCK_FIELDS = frozenset({"signed_at", "iat", "timestamp", "time"})


def _line(value: str) -> str:
    """One printed line (11.50(a)): printable text, not blank."""
    printable_text(value)
    if not value.strip():
        raise ValueError("must not be blank")
    return value


# Printed or signed: the record's type, id, version and title (MAN-1, LNK-1).
Line = Annotated[str, AfterValidator(_line)]
# Audited free text (reasons of administrative actions), never printed with a signature.
Text = AuditedText


class Strict(BaseModel):
    """Unknown fields are refused, by name."""

    model_config = ConfigDict(extra="forbid")


class Body(Strict):
    """A signing body: unknown fields are refused by name, client clock fields dropped."""

    @model_validator(mode="before")
    @classmethod
    def _ignore_client_clock(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {key: value for key, value in data.items() if key not in CLIENT_CLOCK_FIELDS}
        return data


class Record(Body):
    """The record signed, bound by its content hash (LNK-1, 11.70)."""

    type: Line = Field(min_length=1, max_length=64, examples=["sop"])
    id: Line = Field(min_length=1, max_length=200, examples=["SOP-0042"])
    version: Line = Field(min_length=1, max_length=64, examples=["4"])
    digest: str = Field(
        pattern=r"^sha256:[0-9a-f]{64}$",
        description="sha256: and the 64 lower-case hex digits of the record content's SHA-256",
    )
    title: Line | None = Field(default=None, max_length=500)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.type, self.id, self.version)


class SigningBody(Body):
    """What is signed and what the signature means: shared by a direct signing and a
    signing request for the hosted ceremony."""

    meaning: str = Field(min_length=1, max_length=64, examples=["approval"])
    # Printed in the manifestation: one line, no control/bidi/invisible characters (11.50(a)).
    reason: PrintableText | None = Field(default=None, max_length=2000)
    record: Record | None = None
    records: list[Record] | None = Field(
        default=None, min_length=1, max_length=MAX_RECORDS, description="A batch: all or none"
    )

    @model_validator(mode="after")
    def _one_target(self) -> SigningBody:
        if (self.record is None) == (self.records is None):
            raise ValueError("send exactly one of record and records")
        return self

    @property
    def targets(self) -> list[Record]:
        return [self.record] if self.record is not None else list(self.records or [])


class SignRequest(SigningBody):
    """The signer re-authenticates through the host (11.200(a)(1), CMP-1). Clock fields
    (signed_at, iat, timestamp, time) are ignored: the server's clock signs (MAN-1)."""

    username: str = Field(min_length=1, max_length=256)
    password: str = Field(min_length=1, max_length=4096)
    otp: str | None = Field(default=None, pattern=r"^[0-9]{6,8}$", description="TOTP code")
    temporary_credential: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="After a loss report: the temporary credential security issued (LOSS-2)",
    )
    signing_session: uuid.UUID | None = Field(
        default=None, description="The signing_session.id of an earlier signing (CMP-1)"
    )

    @property
    def session_id(self) -> str | None:
        return None if self.signing_session is None else str(self.signing_session)


class ManifestationOut(Strict):
    """MAN-1, MAN-2: what the host prints with the record."""

    printed_name: str
    username: str
    signed_at: str = Field(description="UTC, ISO 8601 with Z")
    meaning: str
    statement: str
    text: str = Field(description="One line for the record's human-readable copy")


class SigningSessionOut(Strict):
    id: str
    seq: int
    expires_at: str = Field(description="UTC; later signings within it need the password only")


class BatchSignatureOut(Strict):
    id: str
    token: str = Field(description="Compact JWS, typ idgov-esig+jwt")
    manifestation: ManifestationOut


class SignatureOut(BatchSignatureOut):
    signing_session: SigningSessionOut


class BatchOut(Strict):
    batch_id: str
    merkle_root: str = Field(description="RFC 6962 Merkle root over the record digests, in order")
    signatures: list[BatchSignatureOut]
    signing_session: SigningSessionOut


class SigningAnswer(RootModel[SignatureOut | BatchOut]):
    """201: a SignatureOut for `record`, a BatchOut for `records` (documentation only)."""


def _signature(issued: IssuedSignature) -> BatchSignatureOut:
    shown = issued.manifestation
    return BatchSignatureOut(
        id=issued.id,
        token=issued.token,
        manifestation=ManifestationOut(
            printed_name=shown.printed_name,
            username=shown.username,
            signed_at=iso_utc(shown.signed_at),
            meaning=shown.meaning,
            statement=shown.statement,
            text=shown.text(),
        ),
    )


def answer_for(outcome: SigningOutcome) -> SignatureOut | BatchOut:
    """The 201 body: one signature, or a batch with its id and Merkle root."""
    state = SigningSessionOut(
        id=outcome.session.id,
        seq=outcome.session.seq,
        expires_at=iso_utc(outcome.session.expires_at),
    )
    if outcome.batch is None:
        single = _signature(outcome.signatures[0])
        return SignatureOut(**single.model_dump(), signing_session=state)
    return BatchOut(
        batch_id=outcome.batch.id,
        merkle_root=outcome.batch.merkle_root,
        signatures=[_signature(issued) for issued in outcome.signatures],
        signing_session=state,
    )


class SequenceIn(Strict):
    """SEQ-1: the order in which meanings are signed on one record version."""

    meanings: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        min_length=1, max_length=50, examples=[["authorship", "review", "approval"]]
    )
    allow_same_signer: StrictBool = Field(
        default=False, description="May one person sign two steps of the same record version"
    )


class SequenceOut(Strict):
    record_type: str
    meanings: list[str]
    allow_same_signer: bool
    declared_at: str
