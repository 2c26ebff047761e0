"""Read stored signatures: one by id, or every signature of a record in signing order."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from idgov.errors import NotFound
from idgov.signatures.documents import SignatureDocument
from idgov.signatures.models import Signature

# Signature ids are UUIDs; anything else is looked up nowhere (and never reaches the database).
SIGNATURE_ID = re.compile(r"[0-9A-Za-z-]{1,36}")
# Signing order: server time of signing, then the signing session's step (a batch shares
# one signed_at), then the id so that the order is total.
SIGNING_ORDER = (Signature.signed_at, Signature.session_seq, Signature.id)


class SignatureReader:
    """Hosts read only their own signatures (`client_id` given); auditors read all."""

    def get(
        self, session: Session, signature_id: str, client_id: str | None = None
    ) -> SignatureDocument:
        """The signature; NotFound also when it belongs to another host (no existence leak)."""
        row = session.get(Signature, signature_id) if SIGNATURE_ID.fullmatch(signature_id) else None
        if row is None or (client_id is not None and row.client_id != client_id):
            raise NotFound(f"no signature {signature_id!r}")
        return SignatureDocument.from_row(row)

    def for_record(
        self,
        session: Session,
        record_type: str,
        record_id: str,
        version: str | None = None,
        client_id: str | None = None,
    ) -> list[SignatureDocument]:
        """Every signature of the record (of one version when given), in signing order."""
        query = select(Signature).where(
            Signature.record_type == record_type, Signature.record_id == record_id
        )
        if version is not None:
            query = query.where(Signature.record_version == version)
        if client_id is not None:
            query = query.where(Signature.client_id == client_id)
        rows = session.scalars(query.order_by(*SIGNING_ORDER)).all()
        return [SignatureDocument.from_row(row) for row in rows]
