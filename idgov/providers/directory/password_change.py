"""DirectoryPasswordChange: a person changes their directory password through idgov (PWD-2, PWD-4).

idgov's own quality and history rules apply first; the directory then applies its own (the
ppolicy control attached to the change names its refusals). idgov keeps argon2id hashes of the
passwords it set, so its history rule holds even where the directory keeps none.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from idgov.audit.context import Target
from idgov.audit.trail import AuditTrail
from idgov.clock import Clock, iso_utc
from idgov.counted import counted
from idgov.errors import Conflict, UnprocessableRequest
from idgov.identity.models import Identity
from idgov.identity.notices import CredentialNotices
from idgov.policies.documents import PasswordPolicy
from idgov.policies.password import check_quality, normalize
from idgov.policies.store import PolicyStore
from idgov.providers import hashing
from idgov.providers.directory.interfaces import Directory
from idgov.providers.directory.models import LINKED, DirectoryAccount
from idgov.providers.models import PasswordHistoryEntry
from idgov.sessions.interfaces import SessionRevoker


class DirectoryPasswordChange:
    def __init__(
        self,
        clock: Clock,
        trail: AuditTrail,
        policies: PolicyStore,
        directories: Mapping[str, Directory],
        revoker: SessionRevoker,
        notices: CredentialNotices | None = None,
    ) -> None:
        self._notices = notices
        self._clock = clock
        self._trail = trail
        self._policies = policies
        self._directories = directories
        self._revoker = revoker

    def change(self, session: Session, identity: Identity, current: str, new: object) -> None:
        """Change the password in the directory, bound as the person. Conflict when the
        directory does not allow changes through idgov; UnprocessableRequest naming the rule
        (idgov's or the directory's) that refuses the new password; ProviderUnavailable when
        the directory cannot be reached. The caller has already checked `current` through the
        lockout path (LOCK-1)."""
        directory = self._directories.get(identity.provider)
        if directory is None or not directory.settings.password_change:
            raise Conflict(
                "your password is kept by your organisation's directory: change it there",
                field="new_password",
            )
        policy = self._policies.current(session, PasswordPolicy)
        problems = check_quality(new, policy, identity.username, identity.printed_name)
        if problems:
            raise UnprocessableRequest("; ".join(problems), field="new_password", problems=problems)
        assert isinstance(new, str)
        secret = normalize(new)
        if secret == normalize(current) or self._in_history(session, identity, secret, policy):
            raise UnprocessableRequest(
                "the new password must differ from the current password and the last "
                + counted(policy.history_count, "password"),
                field="new_password",
            )
        account = session.scalars(
            select(DirectoryAccount).where(
                DirectoryAccount.identity_id == identity.id,
                DirectoryAccount.provider == identity.provider,
                DirectoryAccount.state == LINKED,
            )
        ).one()
        refused = directory.change_password(account.dn, current, secret)
        if refused is not None:
            raise UnprocessableRequest(refused, field="new_password")
        now = self._clock.now()
        session.add(
            PasswordHistoryEntry(
                identity_id=identity.id,
                password_hash=hashing.hash_secret(policy, secret),
                set_at=now,
            )
        )
        account.password_changed_at = now
        account.warned_days = None  # aging warnings start again for the new password
        self._trail.record(
            session,
            "credential:password:changed",
            Target("identity", identity.id),
            new={"changed_at": iso_utc(now), "provider": identity.provider},
        )
        self._revoker.revoke_all(session, identity.id, "password-change")  # ACC-3
        if self._notices is not None:  # CMP-2: the owner hears of every new credential
            self._notices.tell(
                session,
                identity,
                "Your directory password was changed through idgov",
                {
                    "what": "Your password was changed; your other sessions were signed out.",
                    "provider": identity.provider,
                },
            )

    @staticmethod
    def _in_history(
        session: Session, identity: Identity, secret: str, policy: PasswordPolicy
    ) -> bool:
        kept = session.scalars(
            select(PasswordHistoryEntry.password_hash)
            .where(PasswordHistoryEntry.identity_id == identity.id)
            .order_by(PasswordHistoryEntry.set_at.desc(), PasswordHistoryEntry.id.desc())
            .limit(policy.history_count)
        )
        return any(hashing.matches(hashed, secret) for hashed in kept)
