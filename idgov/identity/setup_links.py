"""Set-password link tokens: derived with HMAC-SHA256 (RFC 2104) from a server key and the
link's id, so the database keeps only the token's SHA-256 and the mail is built when it is
sent, never stored (CMP-2, 11.300(a): nobody but the owner gets a usable credential)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Mapping
from typing import Any

SETUP_KIND = "password-setup"
CONTEXT = b"idgov set-password link\x00"
PATH = "/account/set-password/"


def token_digest(token: str) -> str:
    """What the database keeps of a token: its SHA-256, hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def setup_id_of(token: str) -> str:
    """The link id a token names (before the dot); "" for a malformed token."""
    setup_id, dot, _ = token.partition(".")
    return setup_id if dot and 0 < len(setup_id) <= 36 else ""


class SetupLinks:
    """Mints the token and URL of a set-password link from its id; the key is the server's
    key passphrase, so a copy of the database alone cannot mint a link."""

    def __init__(self, key: Callable[[], bytes], base_url: str) -> None:
        self._key = key
        self._base = base_url.rstrip("/")

    def token(self, setup_id: str) -> str:
        mac = hmac.new(self._key(), CONTEXT + setup_id.encode("utf-8"), hashlib.sha256).digest()
        return f"{setup_id}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode('ascii')}"

    def url(self, setup_id: str) -> str:
        return f"{self._base}{PATH}{self.token(setup_id)}"

    def link_for(self, kind: str, details: Mapping[str, Any]) -> str | None:
        """alerts.interfaces.SecretLinks: the link a set-password notice carries, minted when
        the mail is built (never kept in the outbox or the trail)."""
        setup_id = details.get("setup_id")
        if kind != SETUP_KIND or not isinstance(setup_id, str):
            return None
        return self.url(setup_id)
