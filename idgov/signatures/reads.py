"""Read stored signatures: one by id, or every signature of a record in signing order."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from idgov.errors import InvalidRequest, NotFound
from idgov.exports import queries
from idgov.identity.usernames import normalize_username
from idgov.signatures.documents import SignatureDocument
from idgov.signatures.models import Signature

# Signature ids are UUIDs; anything else is looked up nowhere (and never reaches the database).
SIGNATURE_ID = re.compile(r"[0-9A-Za-z-]{1,36}")
# Signing order: server time of signing, then the signing session's step (a batch shares
# one signed_at), then the id so that the order is total.
SIGNING_ORDER = (Signature.signed_at, Signature.session_seq, Signature.id)
DIGEST = re.compile(r"(sha256:)?([0-9a-f]{64})")
SEARCH_LIMIT = 200


@dataclass(frozen=True)
class SignatureSearch:
    """What the console searches by; every given criterion must match (at least one)."""

    record: str | None = None  # "type:id" matches type and id; a bare value matches the id
    digest: str | None = None  # the record's content hash, "sha256:<64 hex>" or the hex alone
    signer: str | None = None  # the signer's username


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

    def search(self, session: Session, by: SignatureSearch) -> list[SignatureDocument]:
        """The newest SEARCH_LIMIT signatures matching `by` (console: auditors, admins).
        InvalidRequest names the field of a malformed digest or signer."""
        conds = []
        if by.record is not None:
            conds += queries.type_and_id(by.record, Signature.record_type, Signature.record_id)
        if by.digest is not None:
            found = DIGEST.fullmatch(by.digest.strip().lower())
            if found is None:
                raise InvalidRequest("a digest is sha256: and 64 hex digits", field="digest")
            conds.append(Signature.record_digest == f"sha256:{found.group(2)}")
        if by.signer is not None:
            try:
                conds.append(Signature.username == normalize_username(by.signer))
            except InvalidRequest as bad:
                raise InvalidRequest(f"signer: {bad.detail}", field="signer") from None
        if not conds:
            raise InvalidRequest("give a record, a digest or a signer", field="record")
        newest = [column.desc() for column in SIGNING_ORDER]
        query = select(Signature).where(*conds).order_by(*newest).limit(SEARCH_LIMIT)
        return [SignatureDocument.from_row(row) for row in session.scalars(query)]
