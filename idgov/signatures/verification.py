"""Check a signature token: its JWS signature, key, type, issuer and record binding (LNK-1/2)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from sqlalchemy import select
from sqlalchemy.orm import Session

from idgov.keys.jwk import load_public_jwk
from idgov.keys.jws import JwsError, PublicKey, read_header, verify_compact
from idgov.keys.models import SigningKey
from idgov.keys.store import KeyStore
from idgov.signatures.documents import SignatureDocument
from idgov.signatures.tokens import TOKEN_TYPE

SIGNATURE_PURPOSE = "signature"
MAX_TOKEN_CHARS = 20_000
# RFC 7515 section 7.1: three base64url parts (no padding) joined by dots; anything else,
# whitespace and non-ASCII included, is refused before any decoding.
COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
# Our kids are RFC 7638 thumbprints (base64url); anything else is no key of ours, and is
# never sent to the database.
KID = re.compile(r"[A-Za-z0-9_-]{1,64}")
# The stable reason codes, in the order they are reported.
Reason = Literal[
    "malformed",
    "wrong-type",
    "unknown-key",
    "bad-signature",
    "wrong-issuer",
    "digest-mismatch",
    "record-mismatch",
    "wrong-audience",
]
REASONS: tuple[Reason, ...] = get_args(Reason)

KeyLookup = Callable[[str], PublicKey | None]


@dataclass(frozen=True)
class RecordKey:
    """Which record a signature must be bound to (version included: 11.70)."""

    type: str
    id: str
    version: str


@dataclass(frozen=True)
class VerificationResult:
    valid: bool
    reasons: list[Reason] = field(default_factory=list)
    claims: dict[str, Any] | None = None  # only when the JWS signature verified
    signature_id: str | None = None
    kid: str | None = None
    document: SignatureDocument | None = None  # the claims, read as a signature


def check_token(
    token: str,
    find_key: KeyLookup,
    *,
    issuer: str | None = None,
    digest: str | None = None,
    record: RecordKey | None = None,
    audience: str | None = None,
) -> VerificationResult:
    """Verify `token` against the signature keys `find_key` knows (a pure function).

    valid is true only with no reason at all. With `digest`, the token must bind that content
    hash; with `record`, that record type, id and version: a signature cannot be copied onto
    another record or another version (LNK-1). With `audience`, the token must have been
    issued to that host client (RFC 7519 sec. 4.1.3: a token for another audience is not
    valid here).
    """
    token = token.strip() if isinstance(token, str) else ""
    if len(token) > MAX_TOKEN_CHARS or not COMPACT_JWS.fullmatch(token):
        return _invalid("malformed")
    try:
        header = read_header(token)
    except JwsError:
        return _invalid("malformed")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        return _invalid("malformed")
    reasons: list[Reason] = [] if header.get("typ") == TOKEN_TYPE else ["wrong-type"]
    # RFC 7515 section 4.1.4: the kid picks the key; only signature-purpose keys count, so an
    # audit checkpoint token (another key, another typ) never passes for a signature.
    key = find_key(kid)
    if key is None:
        return _invalid(*reasons, "unknown-key", kid=kid)
    try:
        # The alg must match the key's type (RFC 7515 section 10.7; RFC 8037 for EdDSA).
        claims = verify_compact(token, key, header)
        document = SignatureDocument.from_claims(claims, kid)
    except JwsError:
        return _invalid(*reasons, "bad-signature", kid=kid)
    except ValueError:
        return _invalid(*reasons, "malformed", kid=kid)
    if issuer is not None and claims.get("iss") != issuer:
        reasons.append("wrong-issuer")
    if digest is not None and digest.lower() != document.record.digest.lower():
        reasons.append("digest-mismatch")
    bound = RecordKey(document.record.type, document.record.id, document.record.version)
    if record is not None and record != bound:
        reasons.append("record-mismatch")
    if audience is not None and not _for_audience(claims.get("aud"), audience):
        reasons.append("wrong-audience")
    return VerificationResult(not reasons, reasons, claims, document.id, kid, document)


def _for_audience(aud: object, audience: str) -> bool:
    """RFC 7519 sec. 4.1.3: `aud` is one string or an array of strings."""
    return aud == audience or (isinstance(aud, list) and audience in aud)


def _invalid(*reasons: Reason, kid: str | None = None) -> VerificationResult:
    return VerificationResult(False, list(reasons), None, None, kid)


def jwks_keys(jwks: Mapping[str, Any]) -> dict[str, PublicKey]:
    """The signature keys of a JWK Set (RFC 7517 section 5), by kid; unusable entries and keys
    of another idgov purpose are left out."""
    found: dict[str, PublicKey] = {}
    entries = jwks.get("keys")
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or not isinstance(entry.get("kid"), str):
            continue
        if entry.get("idgov_purpose", SIGNATURE_PURPOSE) != SIGNATURE_PURPOSE:
            continue
        try:
            found[entry["kid"]] = load_public_jwk(entry)
        except JwsError:
            continue
    return found


def verify_with_jwks(
    token: str,
    jwks: Mapping[str, Any],
    *,
    issuer: str | None = None,
    digest: str | None = None,
    record: RecordKey | None = None,
    audience: str | None = None,
) -> VerificationResult:
    """Offline verification against a published /.well-known/jwks.json (LNK-2)."""
    return check_token(
        token,
        jwks_keys(jwks).get,
        issuer=issuer,
        digest=digest,
        record=record,
        audience=audience,
    )


class SignatureVerifier:
    """Verifies tokens against this installation's signature keys, retired ones included:
    rotation never breaks an old signature (LNK-2)."""

    def __init__(self, keys: KeyStore, issuer: str) -> None:
        self._keys = keys
        self._issuer = issuer
        # A kid is the key's RFC 7638 thumbprint and keys are never changed or deleted, so a
        # key once found can be kept; an unknown kid is asked again (it may be created later).
        self._cache: dict[str, PublicKey] = {}

    def verify(
        self,
        session: Session,
        token: str,
        digest: str | None = None,
        record: RecordKey | None = None,
        audience: str | None = None,
    ) -> VerificationResult:
        """Check `token`; see check_token for what each reason means."""
        return self.check(token, lambda kid: self._key(session, kid), digest, record, audience)

    def known_keys(self, session: Session) -> KeyLookup:
        """Every signature key loaded at once: for checking many tokens (exports)."""
        kids = session.scalars(
            select(SigningKey.kid).where(SigningKey.purpose == SIGNATURE_PURPOSE)
        ).all()
        for kid in kids:
            self._key(session, kid)
        return dict(self._cache).get

    def check(
        self,
        token: str,
        find_key: KeyLookup,
        digest: str | None = None,
        record: RecordKey | None = None,
        audience: str | None = None,
    ) -> VerificationResult:
        """Check `token` against the keys `find_key` knows (known_keys: many tokens at once)."""
        return check_token(
            token, find_key, issuer=self._issuer, digest=digest, record=record, audience=audience
        )

    def _key(self, session: Session, kid: str) -> PublicKey | None:
        key = self._cache.get(kid)
        if key is None and KID.fullmatch(kid):
            key = self._keys.public_key(session, kid, purpose=SIGNATURE_PURPOSE)
            if key is not None:
                self._cache[kid] = key
        return key
