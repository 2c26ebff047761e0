"""EvidenceService: the evidence pack of a campaign as JSON, CSV and PDF, audited (REV-5, EXP-1)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from datetime import datetime
from typing import IO, BinaryIO, Literal, cast

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from idgov.audit.context import Target
from idgov.audit.models import AuditEvent
from idgov.audit.trail import AuditTrail
from idgov.clock import Clock, iso_utc
from idgov.db import reading, transaction
from idgov.errors import Conflict, InvalidRequest, NotFound
from idgov.exports.streams import write_csv, write_json
from idgov.reviews.evidence import documents
from idgov.reviews.evidence.pack import EvidencePack, build_pack
from idgov.reviews.models import Campaign, CampaignState

EvidenceFormat = Literal["pdf", "csv", "json"]
FORMATS: tuple[EvidenceFormat, ...] = ("pdf", "csv", "json")
GENERATED = "review:evidence:generated"
CLOSING = "closing"  # the occasion of the packs whose digests closing seals


@dataclass(frozen=True)
class Written:
    """One evidence copy as written: what, how big, its SHA-256."""

    campaign_id: str
    format: str
    sha256: str
    size: int
    items: int
    as_of: datetime
    sealed: str | None = None  # the SHA-256 this format had when the campaign closed

    @property
    def matches_sealed(self) -> bool | None:
        return None if self.sealed is None else self.sealed == self.sha256


class _Digesting:
    """Hands bytes on to `out` (if any) and hashes them: the SHA-256 of exactly what was
    written, whatever the writer."""

    def __init__(self, out: IO[bytes] | None) -> None:
        self._out = out
        self.hash = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.hash.update(data)
        self.size += len(data)
        if self._out is not None:
            self._out.write(data)
        return len(data)


class EvidenceService:
    """Makes packs inside the caller's session (`pack`, `write`); `export` and `seal` are a
    named exception to the transaction rule: a read snapshot, then a short transaction."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        clock: Clock,
        trail: AuditTrail,
        base_url: str,
    ) -> None:
        self._session_factory = session_factory
        self._clock = clock
        self._trail = trail
        self._base_url = base_url

    def pack(self, session: Session, campaign_id: str) -> EvidencePack:
        """The campaign's evidence (REV-5): its definition, scope and completeness statement
        (counts per source, snapshot times, population hash, rechecked), sign-offs with their
        manifestations, totals and exceptions; items stream from `session`, which must stay
        open while the pack is written. A draft has no evidence (Conflict); a closed campaign's
        pack is as of its closing time, so unchanged records make the same pack again."""
        campaign = session.get(Campaign, campaign_id)
        if campaign is None:
            raise NotFound(f"no campaign {campaign_id!r}", field="campaign")
        if campaign.state == CampaignState.DRAFT:
            raise Conflict(
                f"campaign {campaign_id} is a draft: it has no population and no evidence yet",
                field="campaign",
            )
        return build_pack(session, campaign, self._base_url, self._clock.now())

    def write_json(self, pack: EvidencePack, out: IO[bytes]) -> Written:
        """`{"export": facts, totals, sign-offs, "items": [...]}`, every item, streamed."""
        sink = _Digesting(out)
        documents_ = map(documents.item_document, pack.items())
        count = write_json(cast(BinaryIO, sink), documents.metadata(pack), "items", documents_)
        return self._written(pack, "json", sink, count)

    def write_csv(self, pack: EvidencePack, out: IO[bytes]) -> Written:
        """Comment lines starting with "# " that hold the campaign's facts
        (documents.csv_comments), then a header row and one row per item, every item,
        streamed."""
        sink = _Digesting(out)
        sink.write(documents.csv_comments(pack).encode("utf-8"))
        rows = map(documents.csv_row, pack.items())
        count = write_csv(
            cast(BinaryIO, sink), documents.CSV_COLUMNS, rows, documents.EXACT_COLUMNS
        )
        return self._written(pack, "csv", sink, count)

    def write_pdf(self, pack: EvidencePack, out: IO[bytes]) -> Written:
        """The human-readable copy (evidence_pdf): title page, sign-offs with manifestations,
        items, remediation and exceptions; each table capped at PDF_ROW_CAP rows."""
        from idgov.reviews.evidence.pdf import render_pdf

        sink = _Digesting(out)
        sink.write(render_pdf(pack))
        return self._written(pack, "pdf", sink, pack.totals.items)

    def write(self, pack: EvidencePack, fmt: str, out: IO[bytes]) -> Written:
        if fmt == "json":
            return self.write_json(pack, out)
        if fmt == "csv":
            return self.write_csv(pack, out)
        if fmt == "pdf":
            return self.write_pdf(pack, out)
        raise InvalidRequest(f"evidence comes as {', '.join(FORMATS)}, not {fmt!r}", field="format")

    def export(self, campaign_id: str, fmt: str, out: IO[bytes], occasion: str) -> Written:
        """Write the pack to `out` from one read snapshot (no write lock held while it is
        made), then record `review:evidence:generated` in a short transaction of its own.
        Raises when that record fails: the caller must then not hand the copy out."""
        if fmt not in FORMATS:
            raise InvalidRequest(
                f"evidence comes as {', '.join(FORMATS)}, not {fmt!r}", field="format"
            )
        with reading(self._session_factory, snapshot=True) as session:
            written = self.write(self.pack(session, campaign_id), fmt, out)
            sealed = self.sealed(session, campaign_id).get(fmt)
        written = replace(written, sealed=sealed)
        with transaction(self._session_factory) as session:
            self.record(session, written, occasion)
        return written

    def seal(self, campaign_id: str) -> dict[str, str]:
        """Right after closing: every format made from one read snapshot (not stored: `idgov
        campaigns report` makes them again), then their SHA-256s audited in a short
        transaction; format -> sha256."""
        with reading(self._session_factory, snapshot=True) as session:
            pack = self.pack(session, campaign_id)
            made = [self.write(pack, fmt, cast(BinaryIO, _Digesting(None))) for fmt in FORMATS]
        with transaction(self._session_factory) as session:
            for written in made:
                self.record(session, written, CLOSING)
        return {written.format: written.sha256 for written in made}

    def sealed(self, session: Session, campaign_id: str) -> dict[str, str]:
        """The SHA-256 per format recorded when the campaign closed (latest sealing)."""
        found: dict[str, str] = {}
        for values in session.scalars(
            select(AuditEvent.new_values)
            .where(
                AuditEvent.action == GENERATED,
                AuditEvent.target_type == "review-campaign",
                AuditEvent.target_id == campaign_id,
            )
            .order_by(AuditEvent.seq)
        ):
            event = json.loads(values or "null") or {}
            if event.get("occasion") == CLOSING:
                found[str(event["format"])] = str(event["sha256"])
        return found

    def record(self, session: Session, written: Written, occasion: str) -> None:
        """Audit one written copy: who (the actor), campaign, format, SHA-256, size (AUD-1)."""
        self._trail.record(
            session,
            GENERATED,
            Target("review-campaign", written.campaign_id),
            new={
                "format": written.format,
                "sha256": written.sha256,
                "bytes": written.size,
                "items": written.items,
                "as_of": iso_utc(written.as_of),
                "occasion": occasion,
                "matches_closing": written.matches_sealed,
            },
        )

    @staticmethod
    def _written(pack: EvidencePack, fmt: str, sink: _Digesting, items: int) -> Written:
        digest = "sha256:" + sink.hash.hexdigest()
        return Written(pack.campaign.id, fmt, digest, sink.size, items, pack.as_of)
