#!/usr/bin/env python3
"""Verify an idgov e-signature token offline with PyJWT against the published JWK Set.

This is a host's (or an inspector's) own check and needs nothing from idgov but its public
keys: pip install "pyjwt[crypto]" (EdDSA keys need the `cryptography` package). It uses a
different JOSE library from the one idgov signs with, on purpose.

    python verify_offline.py --jwks https://idgov.example.com/.well-known/jwks.json \\
        --token @signature.jws --file SOP-0042-v4.pdf --record sop:SOP-0042:4

--jwks takes a URL or a saved file, --token the token itself, @FILE or - (standard input).
Exit status: 0 valid, 1 rejected (the reason is printed), 2 bad arguments.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import urllib.request
from pathlib import Path
from typing import Any

import jwt  # PyJWT

TOKEN_TYPE = "idgov-esig+jwt"  # noqa: S105 - the JWS typ header, not a secret
ALGORITHMS = ("EdDSA", "ES256")


class SignatureRejected(Exception):
    """The token is not a valid idgov signature for this record; str() says why."""


def record_digest(content: bytes) -> str:
    """The digest idgov binds: "sha256:" and the lower-case hex SHA-256 of the content."""
    return "sha256:" + hashlib.sha256(content).hexdigest()


def load_jwks(source: str) -> dict[str, Any]:
    """The JWK Set from an https:// (or http://) URL, or from a saved file."""
    if source.startswith(("https://", "http://")):
        with urllib.request.urlopen(source, timeout=10) as response:  # noqa: S310 - scheme checked
            document: dict[str, Any] = json.load(response)
    else:
        document = json.loads(Path(source).read_text(encoding="utf-8"))
    return document


def signature_key(jwks: dict[str, Any], kid: str) -> jwt.PyJWK:
    """The signature key `kid` of the set. Retired keys stay published, so old signatures
    keep verifying after a rotation; keys of another purpose (audit) are never used."""
    for entry in jwks.get("keys", []):
        if entry.get("kid") == kid and entry.get("idgov_purpose", "signature") == "signature":
            try:
                return jwt.PyJWK(entry)
            except jwt.PyJWKError as exc:
                raise SignatureRejected(f"unusable key {kid!r}: {exc}") from None
    raise SignatureRejected(f"unknown key {kid!r}: not a signature key in this JWK Set")


def verify_token(
    token: str,
    jwks: dict[str, Any],
    *,
    content: bytes | None = None,
    record: tuple[str, str, str] | None = None,
    issuer: str | None = None,
    audience: str | None = None,
) -> dict[str, Any]:
    """The token's verified claims; SignatureRejected if the signature, key, type, issuer,
    audience, record content (`content`) or record (type, id, version) do not match."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError as exc:
        raise SignatureRejected(f"malformed token: {exc}") from None
    if header.get("typ") != TOKEN_TYPE:
        raise SignatureRejected(f"not an idgov signature (typ {header.get('typ')!r})")
    if header.get("alg") not in ALGORITHMS:
        raise SignatureRejected(f"unexpected algorithm {header.get('alg')!r}")
    key = signature_key(jwks, str(header.get("kid")))
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key=key.key,
            # Only the key's own algorithm: never one the token's header chooses.
            algorithms=[key.algorithm_name],
            issuer=issuer,
            audience=audience,
            # A signature does not expire, and its time is the one in its manifest: the
            # checker's clock has no say (so no iat check either).
            options={"verify_aud": audience is not None, "verify_iat": False},
        )
    except jwt.InvalidSignatureError:
        raise SignatureRejected("signature does not verify: the token was changed") from None
    except jwt.InvalidTokenError as exc:  # issuer, audience, a malformed payload
        raise SignatureRejected(f"rejected: {exc}") from None
    bound = claims.get("record")
    if not isinstance(bound, dict) or not isinstance(claims.get("manifest"), dict):
        raise SignatureRejected("the token lacks the idgov manifest and record claims")
    if content is not None and record_digest(content) != bound["digest"]:
        raise SignatureRejected("the record's content differs from what was signed")
    if record is not None and record != (bound["type"], bound["id"], bound["version"]):
        raise SignatureRejected(
            f"signed for {bound['type']}:{bound['id']}:{bound['version']}, not {':'.join(record)}"
        )
    return claims


def _token(value: str) -> str:
    if value == "-":
        return sys.stdin.read().strip()
    if value.startswith("@"):
        return Path(value[1:]).read_text(encoding="utf-8").strip()
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jwks", required=True, help="URL or file of /.well-known/jwks.json")
    parser.add_argument("--token", required=True, help="the token, @FILE, or - for stdin")
    parser.add_argument("--file", type=Path, help="the record's content, to check its digest")
    parser.add_argument("--record", help="TYPE:ID:VERSION the signature must be bound to")
    parser.add_argument("--issuer", help="idgov's base URL, the token's iss")
    parser.add_argument("--audience", help="your client_id, the token's aud")
    args = parser.parse_args(argv)
    record = None
    if args.record:
        kind, _, rest = args.record.partition(":")
        ident, _, version = rest.rpartition(":")
        record = (kind, ident, version)
    try:
        claims = verify_token(
            _token(args.token),
            load_jwks(args.jwks),
            content=args.file.read_bytes() if args.file else None,
            record=record,
            issuer=args.issuer,
            audience=args.audience,
        )
    except SignatureRejected as exc:
        print(f"REJECTED: {exc}", file=sys.stderr)
        return 1
    shown, bound = claims["manifest"], claims["record"]
    print(f"VALID signature {claims['jti']}")
    print(f"  signed by   {shown['printed_name']} ({shown['username']})")
    print(f"  signed at   {shown['signed_at']} (UTC)")
    print(f"  meaning     {shown['meaning']}: {shown['statement']}")
    if shown.get("reason"):
        print(f"  reason      {shown['reason']}")
    print(f"  record      {bound['type']} {bound['id']} version {bound['version']}")
    print(f"  digest      {bound['digest']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
