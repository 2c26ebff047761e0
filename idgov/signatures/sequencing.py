"""Host-declared signing order per record type (11.10(f), SEQ-1): declare, read, enforce."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from idgov.audit.context import Actor, Target
from idgov.audit.trail import AuditTrail
from idgov.errors import OutOfSequence, UnprocessableRequest
from idgov.signatures.models import Signature, SigningSequence
from idgov.signatures.tokens import RecordRef


@dataclass(frozen=True)
class DeclaredSequence:
    record_type: str
    meanings: list[str]
    allow_same_signer: bool
    declared_at: datetime

    @classmethod
    def of(cls, row: SigningSequence) -> DeclaredSequence:
        return cls(
            row.record_type, json.loads(row.meanings), row.allow_same_signer, row.declared_at
        )


class SequenceRules:
    """A sequence is declared by one host client for one record type; it governs only that
    client's signatures. Without one, any meaning the client may use can be signed."""

    def __init__(self, trail: AuditTrail) -> None:
        self._trail = trail

    def declare(
        self,
        session: Session,
        *,
        client_id: str,
        record_type: str,
        meanings: list[str],
        allow_same_signer: bool,
        usable: set[str],
        now: datetime,
        actor: Actor,
    ) -> DeclaredSequence:
        """Declare or replace the order; `usable` are the meaning codes the client may use."""
        unknown = [code for code in meanings if code not in usable]
        if unknown:
            raise UnprocessableRequest(
                f"meanings not configured for this client: {', '.join(unknown)}", field="meanings"
            )
        if len(set(meanings)) != len(meanings):
            raise UnprocessableRequest("a meaning appears twice in the sequence", field="meanings")
        row = self._row(session, client_id, record_type)
        old = None if row is None else DeclaredSequence.of(row)
        if row is None:
            row = SigningSequence(client_id=client_id, record_type=record_type)
            session.add(row)
        row.meanings = json.dumps(meanings)
        row.allow_same_signer = allow_same_signer
        row.declared_at = now
        session.flush()
        self._trail.record(
            session,
            "signature:sequence:declared",
            Target("signing-sequence", f"{client_id}:{record_type}"[:200]),
            old=None if old is None else _values(old),
            new={"client_id": client_id, **_values(DeclaredSequence.of(row))},
            actor=actor,
        )
        return DeclaredSequence.of(row)

    def get(self, session: Session, client_id: str, record_type: str) -> DeclaredSequence | None:
        row = self._row(session, client_id, record_type)
        return None if row is None else DeclaredSequence.of(row)

    def check(
        self,
        session: Session,
        *,
        client_id: str,
        identity_id: str,
        meaning: str,
        records: Sequence[RecordRef],
    ) -> None:
        """Refuse (out-of-sequence 409) a step out of the declared order, a meaning outside
        it, or a second step by the same person unless the sequence allows it. The sequence row
        is locked, so two concurrent signings of one record cannot both take the same step."""
        by_type: dict[str, list[tuple[int, RecordRef]]] = defaultdict(list)
        for index, record in enumerate(records):
            by_type[record.type].append((index, record))
        for record_type, indexed in by_type.items():
            row = self._row(session, client_id, record_type, lock=True)
            if row is None:
                continue
            declared = DeclaredSequence.of(row)
            if meaning not in declared.meanings:
                raise OutOfSequence(
                    f"the signing order for {record_type!r} records has no step {meaning!r}; "
                    f"its steps are {', '.join(declared.meanings)}",
                    reason="meaning-not-in-sequence",
                    sequence=declared.meanings,
                )
            done = self._done(session, client_id, record_type, declared, indexed)
            for index, record in indexed:
                try:
                    _check_record(declared, done[(record.id, record.version)], identity_id, meaning)
                except OutOfSequence as refused:
                    # Name the record, and its place in a batch, beside the reason.
                    refused.extensions.update(record=_name(record), index=index)
                    raise

    def _done(
        self,
        session: Session,
        client_id: str,
        record_type: str,
        declared: DeclaredSequence,
        indexed: list[tuple[int, RecordRef]],
    ) -> dict[tuple[str, str], list[tuple[str, str]]]:
        """(meaning, identity) of the steps signed so far on each record version."""
        wanted = {(record.id, record.version) for _, record in indexed}
        signed = session.execute(
            select(
                Signature.record_id,
                Signature.record_version,
                Signature.meaning,
                Signature.identity_id,
            ).where(
                Signature.client_id == client_id,
                Signature.record_type == record_type,
                Signature.record_id.in_({record_id for record_id, _ in wanted}),
                Signature.meaning.in_(declared.meanings),
            )
        )
        done: dict[tuple[str, str], list[tuple[str, str]]] = {key: [] for key in wanted}
        for record_id, version, step, signer in signed:
            if (record_id, version) in done:
                done[(record_id, version)].append((step, signer))
        return done

    @staticmethod
    def _row(
        session: Session, client_id: str, record_type: str, lock: bool = False
    ) -> SigningSequence | None:
        query = select(SigningSequence).where(
            SigningSequence.client_id == client_id, SigningSequence.record_type == record_type
        )
        return session.scalars(query.with_for_update() if lock else query).first()


def _check_record(
    declared: DeclaredSequence, done: list[tuple[str, str]], identity_id: str, meaning: str
) -> None:
    steps = {step for step, _ in done}
    expected = next((step for step in declared.meanings if step not in steps), None)
    if meaning in steps:
        raise OutOfSequence(
            f"the step {meaning!r} of this record version is already signed",
            reason="step-already-signed",
            expected=expected,
        )
    if meaning != expected:
        raise OutOfSequence(
            f"the next step of this record version is {expected!r}, not {meaning!r}",
            reason="out-of-order",
            expected=expected,
        )
    if not declared.allow_same_signer and any(signer == identity_id for _, signer in done):
        raise OutOfSequence(
            "you signed another step of this record version; the declared order needs a "
            "different person for each step",
            reason="same-signer",
        )


def _name(record: RecordRef) -> str:
    return f"{record.type}:{record.id}:{record.version}"


def _values(declared: DeclaredSequence) -> dict[str, object]:
    return {
        "record_type": declared.record_type,
        "meanings": declared.meanings,
        "allow_same_signer": declared.allow_same_signer,
    }
