"""TOTP shared secrets encrypted at rest: AES-256-GCM under a key derived from the passphrase."""

from __future__ import annotations

import os
from collections.abc import Callable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from idgov.errors import ConfigurationError, KeyUnavailable

INFO = b"idgov token secret"
NONCE_BYTES = 12  # 96-bit nonce, random per secret (NIST SP 800-38D 8.2.2)
KEY_BYTES = 32  # AES-256


class SecretBox:
    """Seals and opens token secrets (RFC 6238 shared keys, TOK-1).

    The key is derived with HKDF-SHA256 (RFC 5869) from the installation's key passphrase,
    the same secret that protects the signing keys; the token id is bound in as associated
    data, so a sealed secret copied onto another token row does not open. Without the
    passphrase nothing is sealed or opened (KeyUnavailable: fail closed).
    """

    def __init__(self, passphrase: Callable[[], bytes]) -> None:
        self._passphrase = passphrase

    def seal(self, secret: str, token_id: str) -> bytes:
        """nonce (12 bytes) + ciphertext and tag of the base32 secret."""
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._cipher().encrypt(nonce, secret.encode("ascii"), token_id.encode("utf-8"))
        return nonce + sealed

    def open(self, sealed: bytes, token_id: str) -> str:
        """The base32 secret; a wrong passphrase or altered row refuses (KeyUnavailable)."""
        nonce, body = sealed[:NONCE_BYTES], sealed[NONCE_BYTES:]
        if len(nonce) != NONCE_BYTES or not body:
            raise KeyUnavailable(f"the secret of token {token_id} is damaged")
        try:
            plain = self._cipher().decrypt(nonce, body, token_id.encode("utf-8"))
        except InvalidTag:
            raise KeyUnavailable(f"the secret of token {token_id} cannot be decrypted") from None
        return plain.decode("ascii")

    def _cipher(self) -> AESGCM:
        try:
            passphrase = self._passphrase()
        except ConfigurationError as exc:
            raise KeyUnavailable(f"key passphrase unavailable: {exc.detail}") from exc
        if not passphrase:
            raise KeyUnavailable("key passphrase unavailable: it is empty")
        key = HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=INFO).derive(
            passphrase
        )
        return AESGCM(key)
