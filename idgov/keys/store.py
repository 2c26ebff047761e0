"""KeyStore: create, load and publish service signing keys; private keys encrypted at rest."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    BestAvailableEncryption,
    Encoding,
    PrivateFormat,
    load_pem_private_key,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

from idgov.audit.context import Target
from idgov.audit.trail import AuditTrail
from idgov.clock import Clock, iso_utc
from idgov.errors import ConfigurationError, KeyUnavailable
from idgov.keys.jwk import load_public_jwk, public_jwk, thumbprint
from idgov.keys.jws import PrivateKey, PublicKey
from idgov.keys.models import SigningKey

PURPOSES = ("audit", "signature")


class KeyStore:
    """Keys live in the database so every replica signs with the same key set."""

    def __init__(
        self, passphrase: Callable[[], bytes], algorithm: str, clock: Clock, trail: AuditTrail
    ) -> None:
        self._passphrase = passphrase
        self._algorithm = algorithm
        self._clock = clock
        self._trail = trail

    def create(self, session: Session, purpose: str, reason: str) -> SigningKey:
        """Generate a new key for `purpose`, retiring the previous one (it stays published)."""
        if purpose not in PURPOSES:
            raise ValueError(f"unknown key purpose {purpose!r}")
        private: PrivateKey = (
            Ed25519PrivateKey.generate()
            if self._algorithm == "EdDSA"
            else ec.generate_private_key(ec.SECP256R1())
        )
        jwk = public_jwk(private.public_key())
        now = self._clock.now()
        previous = self.active(session, purpose)
        if previous is not None:
            previous.retired_at = now
        key = SigningKey(
            kid=thumbprint(jwk),
            purpose=purpose,
            alg=self._algorithm,
            public_jwk=json.dumps(jwk, sort_keys=True),
            private_key=private.private_bytes(
                Encoding.PEM, PrivateFormat.PKCS8, BestAvailableEncryption(self._secret())
            ),
            created_at=now,
        )
        session.add(key)
        self._trail.record(
            session,
            "keys:signing-key:created",
            Target("signing-key", key.kid),
            old={"active_kid": previous.kid} if previous else None,
            new={"kid": key.kid, "purpose": purpose, "alg": key.alg},
            reason=reason,
        )
        return key

    def _secret(self) -> bytes:
        try:
            return self._passphrase()
        except ConfigurationError as exc:
            raise KeyUnavailable(f"key passphrase unavailable: {exc.detail}") from exc

    def active(self, session: Session, purpose: str) -> SigningKey | None:
        return session.scalars(
            select(SigningKey)
            .where(SigningKey.purpose == purpose, SigningKey.retired_at.is_(None))
            .order_by(SigningKey.created_at.desc())
        ).first()

    def private_key(self, key: SigningKey) -> PrivateKey:
        """Decrypt a private key; a wrong passphrase refuses (fail closed)."""
        try:
            loaded = load_pem_private_key(key.private_key, password=self._secret())
        except (ValueError, TypeError) as exc:
            raise KeyUnavailable(f"signing key {key.kid} cannot be decrypted") from exc
        if not isinstance(loaded, Ed25519PrivateKey | ec.EllipticCurvePrivateKey):
            raise KeyUnavailable(f"signing key {key.kid} has an unsupported type")
        return loaded

    def public_key(
        self, session: Session, kid: str, purpose: str | None = None
    ) -> PublicKey | None:
        """The public key `kid`, retired or not; None if unknown or of another `purpose`."""
        key = session.get(SigningKey, kid)
        if key is None or (purpose is not None and key.purpose != purpose):
            return None
        return load_public_jwk(json.loads(key.public_jwk))

    def jwks(self, session: Session) -> dict[str, Any]:
        """Every key ever used, with its purpose and validity window (RFC 7517 JWK Set)."""
        keys = session.scalars(select(SigningKey).order_by(SigningKey.created_at)).all()
        return {"keys": [_published(key) for key in keys]}


def _published(key: SigningKey) -> dict[str, Any]:
    entry: dict[str, Any] = json.loads(key.public_jwk)
    entry.update(
        kid=key.kid,
        alg=key.alg,
        use="sig",
        idgov_purpose=key.purpose,
        idgov_valid_from=iso_utc(key.created_at),
    )
    if key.retired_at is not None:
        entry["idgov_valid_until"] = iso_utc(key.retired_at)
    return entry
