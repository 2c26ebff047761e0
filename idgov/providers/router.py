"""PasswordRouter: sends each identity's password to its own source (local or a directory)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from idgov.identity.models import Identity
from idgov.identity.sources import PROVIDER_PREFIX
from idgov.providers.directory.passwords import DirectoryAttempt, DirectoryPasswords
from idgov.providers.interfaces import CredentialState, SourceRefusal
from idgov.providers.local import LocalPasswords

FEDERATED = (
    "this person signs in at their organisation's identity provider, never with a password "
    "here: sign in with the provider, and sign through the signing ceremony"
)


@dataclass(frozen=True)
class FederatedAttempt:
    """A password typed for a person of an OpenID provider: refused, after the same work as
    for an unknown username (LOCK-3); idgov holds no password for them."""

    dummy: object


class PasswordRouter:
    """PasswordSource over every configured source. An unknown username is checked the way
    the default source checks one (a directory search and bind when directories are
    configured, else the local dummy hash), so its answer and timing match (LOCK-3)."""

    def __init__(self, local: LocalPasswords, directories: DirectoryPasswords) -> None:
        self._local = local
        self._directories = directories

    def prepare(
        self, session: Session, identity: Identity | None, username: str | None = None
    ) -> object:
        if identity is None:
            if self._directories.default is not None:
                return self._directories.prepare(session, None, username)
            return self._local.prepare(session, None)
        if identity.provider == "local":
            return self._local.prepare(session, identity)
        if identity.provider.startswith(PROVIDER_PREFIX):
            return FederatedAttempt(self._local.prepare(session, None))
        # A directory identity whose directory is no longer configured: the attempt is
        # refused as unavailable by DirectoryPasswords.check (fail closed, no fallback).
        return self._directories.prepare(session, identity, username)

    def check(self, prepared: object, password: object) -> bool | SourceRefusal:
        if isinstance(prepared, FederatedAttempt):
            self._local.check(prepared.dummy, password)
            return SourceRefusal("federated-identity", FEDERATED)
        if isinstance(prepared, DirectoryAttempt):
            return self._directories.check(prepared, password)
        return self._local.check(prepared, password)

    def after_success(
        self, session: Session, identity: Identity, password: str, prepared: object
    ) -> CredentialState:
        if isinstance(prepared, DirectoryAttempt):
            return self._directories.after_success(session, identity, password, prepared)
        return self._local.after_success(session, identity, password, prepared)
