"""Which identity source a signer re-authenticates at: a password here, or an OpenID provider."""

from __future__ import annotations

from idgov.identity.models import Identity

PROVIDER_PREFIX = "oidc:"  # Identity.provider of a federated person: "oidc:NAME"


def provider_of(identity: Identity) -> str | None:
    """The OpenID provider an identity signs in at, or None for local and directory people."""
    if identity.provider.startswith(PROVIDER_PREFIX):
        return identity.provider[len(PROVIDER_PREFIX) :]
    return None
