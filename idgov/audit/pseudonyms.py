"""Keyed pseudonyms for names typed by nobody we know (finding 7, LOCK-3, AUD-1).

A name that matches no identity (a username nobody holds, a client id nobody registered) may
be a password typed into the wrong field. It is kept only as HMAC-SHA256 (RFC 2104) under a
key of its own: the same name always gives the same pseudonym, so repeated guesses correlate
in the trail and in `auth_failures`, yet nothing readable is kept and without the key the
pseudonym cannot be tested against a list of candidate passwords.

The key is derived from the installation's server secret (`[server] secret_key`) with
HKDF-SHA256 (RFC 5869; its `info` input, section 3.2, carries a label naming this one use),
so the HMAC key is separate from the cookie-signing key Flask derives from the same secret
(domain separation: one key, one purpose, NIST SP 800-108r1's label, SP 800-107r1 on HMAC
key strength). Rotating the server secret
starts new pseudonyms; old ones stay in the trail as they were (AUD-2).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from idgov.errors import ConfigurationError

PREFIX = "hmac-sha256:"
LABEL = b"idgov/v1/pseudonym-of-an-unknown-name"
KEY_BYTES = 32  # the full 256-bit strength of HMAC-SHA256 (NIST SP 800-107r1)
PSEUDONYM_LENGTH = len(PREFIX) + 64


class NamePseudonyms:
    """Turns a normalised unknown name into `hmac-sha256:<64 hex>`."""

    def __init__(self, secret: Callable[[], str]) -> None:
        self._secret = secret
        self._key: bytes | None = None

    def of(self, name: str) -> str:
        digest = hmac.new(self._derived_key(), name.encode("utf-8"), hashlib.sha256)
        return PREFIX + digest.hexdigest()

    def _derived_key(self) -> bytes:
        if self._key is None:
            secret = self._secret().encode("utf-8")
            if not secret:
                raise ConfigurationError("server secret_key is empty: no pseudonym key")
            self._key = HKDF(
                algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=LABEL
            ).derive(secret)
        return self._key


def is_pseudonym(value: str) -> bool:
    return value.startswith(PREFIX) and len(value) == PSEUDONYM_LENGTH
