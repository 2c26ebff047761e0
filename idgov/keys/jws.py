"""Compact JWS (RFC 7515) with EdDSA/Ed25519 (RFC 8037) and ES256 (RFC 7518 section 3.4)."""

from __future__ import annotations

import base64
import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

PrivateKey = Ed25519PrivateKey | ec.EllipticCurvePrivateKey
PublicKey = Ed25519PublicKey | ec.EllipticCurvePublicKey
ES256_COORDINATE = 32


class JwsError(ValueError):
    """A token that is malformed or whose signature does not verify."""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as exc:
        raise JwsError("not base64url") from exc


def _json_part(value: dict[str, Any]) -> str:
    return b64url(json.dumps(value, separators=(",", ":"), sort_keys=True).encode("utf-8"))


def sign_compact(header: dict[str, Any], payload: dict[str, Any], key: PrivateKey) -> str:
    signing_input = f"{_json_part(header)}.{_json_part(payload)}".encode("ascii")
    return f"{signing_input.decode('ascii')}.{b64url(_signature(signing_input, key))}"


def sign_detached(header: dict[str, Any], payload: bytes, key: PrivateKey) -> str:
    """A compact JWS with a detached payload (RFC 7515 appendix F): the payload part is left
    empty; whoever checks it supplies the payload bytes."""
    head = _json_part(header)
    signature = _signature(f"{head}.{b64url(payload)}".encode("ascii"), key)
    return f"{head}..{b64url(signature)}"


def _signature(signing_input: bytes, key: PrivateKey) -> bytes:
    if isinstance(key, Ed25519PrivateKey):
        return key.sign(signing_input)
    # ES256 signatures are the raw r || s pair, 32 bytes each (RFC 7518 section 3.4).
    r, s = decode_dss_signature(key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(ES256_COORDINATE, "big") + s.to_bytes(ES256_COORDINATE, "big")


def read_header(token: str) -> dict[str, Any]:
    """The protected header, unverified: only to pick the key by `kid`."""
    parts = token.split(".")
    if len(parts) != 3:
        raise JwsError("not a compact JWS (three dot-separated parts expected)")
    return _decode_json(parts[0], "header")


def verify_compact(
    token: str, key: PublicKey, header: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Verify the signature with `key` and return the payload (`header`: read_header(token),
    when the caller has it already)."""
    header = read_header(token) if header is None else header
    head, body, sig = token.split(".")
    _check(header, f"{head}.{body}".encode("ascii"), b64url_decode(sig), key)
    return _decode_json(body, "payload")


def verify_detached(token: str, payload: bytes, key: PublicKey) -> dict[str, Any]:
    """Verify a detached-payload JWS (RFC 7515 appendix F) over `payload`; the header."""
    header = read_header(token)
    head, body, sig = token.split(".")
    if body:
        raise JwsError("not a detached JWS (its payload part is not empty)")
    _check(header, f"{head}.{b64url(payload)}".encode("ascii"), b64url_decode(sig), key)
    return header


def _check(header: dict[str, Any], signing_input: bytes, signature: bytes, key: PublicKey) -> None:
    try:
        if isinstance(key, Ed25519PublicKey):
            if header.get("alg") != "EdDSA":
                raise JwsError("algorithm does not match the key")
            key.verify(signature, signing_input)
        else:
            if header.get("alg") != "ES256" or len(signature) != 2 * ES256_COORDINATE:
                raise JwsError("algorithm does not match the key")
            r = int.from_bytes(signature[:ES256_COORDINATE], "big")
            s = int.from_bytes(signature[ES256_COORDINATE:], "big")
            key.verify(encode_dss_signature(r, s), signing_input, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as exc:
        raise JwsError("signature does not verify") from exc


def _decode_json(part: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(b64url_decode(part))
    except (ValueError, UnicodeDecodeError) as exc:
        raise JwsError(f"{what} is not JSON") from exc
    if not isinstance(value, dict):
        raise JwsError(f"{what} is not a JSON object")
    return value
