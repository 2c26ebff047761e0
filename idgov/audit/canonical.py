"""Canonical JSON and the event hash: SHA-256 over sorted-key, whitespace-free UTF-8 JSON."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

# The C string encoder behind json.dumps(ensure_ascii=False); reused so that the fast path
# below produces byte-for-byte what canonical_json() would (tests hold the two together).
from json.encoder import encode_basestring as _quote
from typing import Any

SECRET_KEY_PATTERN = re.compile(r"pass(word|phrase)?|secret|otp|private|credential", re.I)
REDACTED = "<redacted>"


def canonical_json(value: Any) -> str:
    """Sorted keys, no insignificant whitespace, UTF-8 text (not ASCII-escaped)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def redact(value: Any) -> Any:
    """Replace values under secret-looking keys: secrets never reach audit values."""
    if isinstance(value, dict):
        return {
            str(key): REDACTED if SECRET_KEY_PATTERN.search(str(key)) else redact(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(item) for item in value]
    return value


@dataclass(frozen=True, slots=True)
class HashedFields:
    """The fields of an event that its hash covers, as stored."""

    seq: int
    event_id: str
    occurred_at: str  # ISO 8601 UTC, microseconds, Z
    actor_type: str
    actor_id: str
    actor_name: str
    action: str
    target_type: str
    target_id: str
    old_values: str  # canonical JSON text
    new_values: str
    reason: str | None
    request_id: str | None
    source_address: str | None
    prev_hash: str


def _q(value: str | None) -> str:
    return "null" if value is None else _quote(value)


def hash_input_parts(f: HashedFields) -> tuple[str, str, str]:
    """The hashed document split around prev_hash and seq: (a, b, c) such that the document
    is a + quoted(prev_hash) + b + str(seq) + c. PostgreSQL appends fill in the two values
    from the locked chain head in the same statement (see audit/append.py)."""
    before_prev = (
        f'{{"action":{_q(f.action)}'
        f',"actor":{{"id":{_q(f.actor_id)},"name":{_q(f.actor_name)},"type":{_q(f.actor_type)}}}'
        f',"event_id":{_q(f.event_id)}'
        f',"new":{f.new_values}'
        f',"occurred_at":{_q(f.occurred_at)}'
        f',"old":{f.old_values}'
        ',"prev_hash":'
    )
    before_seq = f',"reason":{_q(f.reason)},"request_id":{_q(f.request_id)},"seq":'
    rest = (
        f',"source_address":{_q(f.source_address)}'
        f',"target":{{"id":{_q(f.target_id)},"type":{_q(f.target_type)}}}}}'
    )
    return before_prev, before_seq, rest


def hash_input(f: HashedFields) -> str:
    """The canonical JSON document that is hashed; documented in docs/audit-trail.md."""
    before_prev, before_seq, rest = hash_input_parts(f)
    return f"{before_prev}{_q(f.prev_hash)}{before_seq}{f.seq}{rest}"


def event_hash(fields: HashedFields) -> str:
    return hashlib.sha256(hash_input(fields).encode("utf-8")).hexdigest()


def reference_document(f: HashedFields) -> dict[str, Any]:
    """The same document as a plain object: what an inspector re-hashes from an export."""
    return {
        "action": f.action,
        "actor": {"id": f.actor_id, "name": f.actor_name, "type": f.actor_type},
        "event_id": f.event_id,
        "new": json.loads(f.new_values),
        "occurred_at": f.occurred_at,
        "old": json.loads(f.old_values),
        "prev_hash": f.prev_hash,
        "reason": f.reason,
        "request_id": f.request_id,
        "seq": f.seq,
        "source_address": f.source_address,
        "target": {"id": f.target_id, "type": f.target_type},
    }
