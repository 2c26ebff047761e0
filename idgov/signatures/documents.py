"""One signature as hosts and inspectors read it, built from a stored row or a verified token."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from idgov.clock import iso_utc
from idgov.signatures.models import Signature
from idgov.signatures.tokens import Manifestation, RecordRef


@dataclass(frozen=True)
class SignatureDocument:
    """The manifestation (MAN-1, MAN-2), the record it is bound to (LNK-1), and how it was made."""

    id: str
    kid: str
    identity_id: str
    client_id: str
    manifestation: Manifestation
    record: RecordRef
    signing_session: str
    session_seq: int
    components: tuple[str, ...]
    batch_id: str | None = None
    batch_index: int | None = None
    merkle_root: str | None = None
    token: str | None = None

    @classmethod
    def from_row(cls, row: Signature) -> SignatureDocument:
        return cls(
            id=row.id,
            kid=row.kid,
            identity_id=row.identity_id,
            client_id=row.client_id,
            manifestation=Manifestation(
                printed_name=row.printed_name,
                username=row.username,
                signed_at=row.signed_at,
                meaning=row.meaning,
                statement=row.statement,
                reason=row.reason,
            ),
            record=RecordRef(
                row.record_type,
                row.record_id,
                row.record_version,
                row.record_digest,
                row.record_title or None,
            ),
            signing_session=row.signing_session_id,
            session_seq=row.session_seq,
            components=tuple(row.components.split()),
            batch_id=row.batch_id,
            batch_index=row.batch_index,
            merkle_root=row.merkle_root,
            token=row.token,
        )

    @classmethod
    def from_claims(cls, claims: dict[str, Any], kid: str) -> SignatureDocument:
        """From a verified token's payload; ValueError when it lacks the idgov claims."""
        try:
            manifest, record, authn = claims["manifest"], claims["record"], claims["authn"]
            session, batch = authn["signing_session"], claims.get("batch") or {}
            return cls(
                id=_text(claims, "jti"),
                kid=kid,
                identity_id=_text(claims, "sub"),
                client_id=_text(claims, "aud"),
                manifestation=Manifestation(
                    printed_name=_text(manifest, "printed_name"),
                    username=_text(manifest, "username"),
                    signed_at=_utc(_text(manifest, "signed_at")),
                    meaning=_text(manifest, "meaning"),
                    statement=_text(manifest, "statement"),
                    reason=_maybe(manifest, "reason"),
                ),
                record=RecordRef(
                    _text(record, "type"),
                    _text(record, "id"),
                    _text(record, "version"),
                    _text(record, "digest"),
                    _maybe(record, "title"),
                ),
                signing_session=_text(session, "id"),
                session_seq=int(session["seq"]),
                components=tuple(str(c) for c in authn["components"]),
                batch_id=_maybe(batch, "id"),
                batch_index=None if batch.get("index") is None else int(batch["index"]),
                merkle_root=_maybe(batch, "merkle_root"),
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"not an idgov signature payload: {exc!r}") from exc

    def as_dict(self) -> dict[str, Any]:
        """The JSON form: API responses and the JSON export."""
        document: dict[str, Any] = {
            "id": self.id,
            "manifestation": manifestation_json(self.manifestation),
            "record": {
                "type": self.record.type,
                "id": self.record.id,
                "version": self.record.version,
                "digest": self.record.digest,
                "title": self.record.title,
            },
            "identity_id": self.identity_id,
            "client_id": self.client_id,
            "signing_session": {"id": self.signing_session, "seq": self.session_seq},
            "components": list(self.components),
            "batch": None
            if self.batch_id is None
            else {"id": self.batch_id, "index": self.batch_index, "merkle_root": self.merkle_root},
            "kid": self.kid,
        }
        if self.token is not None:
            document["token"] = self.token
        return document


def _text(mapping: dict[str, Any], key: str) -> str:
    value = mapping[key]
    if not isinstance(value, str):
        raise TypeError(f"{key} is not a string")
    return value


def _maybe(mapping: dict[str, Any], key: str) -> str | None:
    return None if mapping.get(key) is None else _text(mapping, key)


def _utc(text: str) -> datetime:
    # What iso_utc wrote: fromisoformat reads its trailing Z (Python 3.11) and is much faster
    # than strptime, which matters when thousands of tokens are checked (bench/).
    moment = datetime.fromisoformat(text)
    if moment.utcoffset() != timedelta(0):
        raise ValueError("signed_at is not a UTC time")
    return moment.astimezone(UTC)


def manifestation_json(m: Manifestation) -> dict[str, Any]:
    """MAN-1, MAN-2: a manifestation's fields and its printed line, as JSON."""
    return {
        "printed_name": m.printed_name,
        "username": m.username,
        "signed_at": iso_utc(m.signed_at),
        "meaning": m.meaning,
        "statement": m.statement,
        "reason": m.reason,
        "text": m.text(),
    }
