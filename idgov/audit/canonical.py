"""Canonical JSON and the event hash: SHA-256 over sorted-key, whitespace-free UTF-8 JSON."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

# The C string encoder behind json.dumps(ensure_ascii=False); reused so that the fast path
# below produces byte-for-byte what canonical_json() would (tests hold the two together).
from json.encoder import encode_basestring as _quote
from typing import Any

# AUD-1 (11.10(e)): the trail shows old and new values of everything regulated, so only
# fields that hold a secret's value are redacted, matched by exact key name at any depth. A
# pattern on key names hid require_otp, otp_roles, must_change_password and which credential
# was lost; a name here is a field whose value is itself a secret (DESIGN: rules of the house).
SECRET_FIELDS = frozenset(
    {
        # passwords and passphrases as typed (PWD-1: only their argon2id hashes are kept)
        "password",
        "new_password",
        "current_password",
        "old_password",
        "temporary_password",
        "passphrase",
        "bind_password",
        # TOTP: the seed, its otpauth:// URI and a typed code (TOK-1)
        "otp",
        "otp_code",
        "otp_secret",
        "otp_seed",
        "totp_secret",
        "seed",
        "provisioning_uri",
        "otpauth_uri",
        # host clients and webhooks (DEV-1, ALERT-1): the secret itself, never its digest
        "secret",
        "client_secret",
        "webhook_secret",
        "hmac_key",
        "api_key",
        # loss replacements (LOSS-2): the temporary credential as issued
        "temporary_credential",
        # keys (LNK-1): private key material
        "private_key",
        "private_jwk",
        # bearer and session values: whoever holds one acts with it
        "access_token",
        "refresh_token",
        "id_token",
        "authorization",
        "cookie",
        "session_token",
        "browser_secret",
        "csrf_token",
        "code_verifier",
    }
)
REDACTED = "<redacted>"


def canonical_json(value: Any) -> str:
    """Sorted keys, no insignificant whitespace, UTF-8 text (not ASCII-escaped)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def redact(value: Any) -> Any:
    """Replace the values of the named secret fields (SECRET_FIELDS, exact key, any depth):
    secrets never reach audit values or alert details; every other value is kept (AUD-1)."""
    if isinstance(value, dict):
        return {
            str(key): REDACTED if str(key).lower() in SECRET_FIELDS else redact(item)
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


# The hashed document, keys in sorted order (docs/audit-trail.md). Split around prev_hash and
# seq so that PostgreSQL appends can fill those two in from the locked head (audit/append.py).
BEFORE_PREV = (
    '{"action":%s,"actor":{"id":%s,"name":%s,"type":%s},"event_id":%s,"new":%s,'
    '"occurred_at":%s,"old":%s,"prev_hash":'
)
BEFORE_SEQ = ',"reason":%s,"request_id":%s,"seq":'
REST = ',"source_address":%s,"target":{"id":%s,"type":%s}}'
_DOCUMENT = BEFORE_PREV + "%s" + BEFORE_SEQ + "%d" + REST


def _q(value: str | None) -> str:
    return "null" if value is None else _quote(value)


def hash_row(
    seq: int,
    event_id: str,
    occurred_at: str,
    actor_type: str,
    actor_id: str,
    actor_name: str,
    action: str,
    target_type: str,
    target_id: str,
    old_values: str,
    new_values: str,
    reason: str | None,
    request_id: str | None,
    source_address: str | None,
    prev_hash: str,
) -> str:
    """SHA-256 (hex) of the canonical document; arguments in HashedFields order, as stored.

    This is the hot loop of `idgov audit verify`: plain string formatting with the C JSON
    string encoder, which gives exactly what canonical_json() gives for the same document.
    """
    document = _DOCUMENT % (
        _quote(action),
        _quote(actor_id),
        _quote(actor_name),
        _quote(actor_type),
        _quote(event_id),
        new_values,
        _quote(occurred_at),
        old_values,
        _quote(prev_hash),
        _q(reason),
        _q(request_id),
        seq,
        _q(source_address),
        _quote(target_id),
        _quote(target_type),
    )
    return hashlib.sha256(document.encode("utf-8")).hexdigest()


def hash_input_parts(f: HashedFields) -> tuple[str, str, str]:
    """(a, b, c) such that the hashed document is a + quoted(prev_hash) + b + str(seq) + c."""
    return (
        BEFORE_PREV
        % (
            _quote(f.action),
            _quote(f.actor_id),
            _quote(f.actor_name),
            _quote(f.actor_type),
            _quote(f.event_id),
            f.new_values,
            _quote(f.occurred_at),
            f.old_values,
        ),
        BEFORE_SEQ % (_q(f.reason), _q(f.request_id)),
        REST % (_q(f.source_address), _quote(f.target_id), _quote(f.target_type)),
    )


def hash_input(f: HashedFields) -> str:
    """The canonical JSON document that is hashed."""
    before_prev, before_seq, rest = hash_input_parts(f)
    return f"{before_prev}{_q(f.prev_hash)}{before_seq}{f.seq}{rest}"


def event_hash(f: HashedFields) -> str:
    return hash_row(*(getattr(f, name) for name in HashedFields.__slots__))


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
