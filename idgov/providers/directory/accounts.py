"""AccountMirror: directory entries into identities, keyed on the immutable key (UNQ-1).

Built for whole directories: existing state is read in a few queries, new rows go in with
multi-row inserts and the audit events with one batch append, so a 50,000-person first sync
is a matter of seconds. Every change is audited with its old and new values.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.orm import Session

from idgov.audit.context import Target
from idgov.audit.trail import AuditTrail, PendingEvent
from idgov.clock import iso_utc
from idgov.errors import IdentifierReused, InvalidRequest
from idgov.identity.creation import (
    checked_person,
    created_values,
    identity_values,
    validated_person,
)
from idgov.identity.ledger import SUBJECT, USERNAME, IdentifierLedger, bound_values
from idgov.identity.models import IdentifierBinding, Identity
from idgov.identity.usernames import normalize_username
from idgov.providers.directory import lookups
from idgov.providers.directory.attributes import DirectoryUser
from idgov.providers.directory.models import GONE, LINKED, REFUSED, DirectoryAccount
from idgov.providers.directory.reports import MirrorReport
from idgov.providers.directory.syntax import normalize_dn


class AccountMirror:
    def __init__(self, trail: AuditTrail, ledger: IdentifierLedger) -> None:
        self._trail = trail
        self._ledger = ledger

    def apply(
        self,
        session: Session,
        provider: str,
        users: list[DirectoryUser],
        now: datetime,
        report: MirrorReport,
    ) -> None:
        """Create, update or refuse each entry. Entries whose username is bound to another
        identity (a recycled account) are refused once, audited and alerted (UNQ-1)."""
        accounts = lookups.accounts(session, provider, (u.key for u in users))
        people = lookups.identities(session, (a["identity_id"] for a in accounts.values()))
        bindings = lookups.username_owners(session, (u.username for u in users))
        subjects = lookups.subject_owners(session, provider, (u.key for u in users))
        events: list[PendingEvent] = []
        new_identities: list[dict[str, Any]] = []
        new_bindings: list[dict[str, Any]] = []
        new_accounts: list[dict[str, Any]] = []
        for user in users:
            account = accounts.get(user.key)
            if account is not None and account["state"] != REFUSED:
                self._update(session, account, people, user, now, report, events)
                continue
            try:
                username, printed_name, email = validated_person(
                    user.username, user.printed_name, user.email
                )
            except InvalidRequest as exc:
                report.problem(user.dn, f"{exc.extensions.get('field')}: {exc.detail}")
                continue
            owner = bindings.get(username)
            holder = subjects.get(user.key)
            if holder is not None and owner in (None, holder):
                # An identity an administrator created with this subject: link, do not copy.
                # An identity already bound to this key (created with it, or rehired onto
                # it after a refusal): link the entry to it, never create another.
                person = session.get(Identity, holder)
                if owner is None and person is not None:
                    self._ledger.bind(session, USERNAME, "", username, person)
                if account is None:
                    new_accounts.append(_account_row(provider, user, holder, LINKED, now))
                else:
                    self._relink(session, account["id"], holder, now)
                report.created += 1
                continue
            if owner is not None:
                if account is None:  # refused once, audited and alerted; later syncs report it
                    self._refuse(session, provider, user, username, now)
                    new_accounts.append(_account_row(provider, user, None, REFUSED, now))
                report.refused += 1
                continue
            identity = identity_values(username, printed_name, email, provider, None, now)
            bindings[username] = identity["id"]
            new_identities.append(identity)
            new_bindings += [
                _binding_row(USERNAME, "", username, identity["id"], now),
                _binding_row(SUBJECT, provider, user.key, identity["id"], now),
            ]
            target = Target("identity", identity["id"])
            events += [
                PendingEvent(
                    "identity:identity:created",
                    target,
                    new={**created_values(Identity(**identity), []), "subject": user.key},
                    reason=f"directory sync from {provider}",
                ),
                PendingEvent(
                    "identity:identifier:bound", target, new=bound_values(USERNAME, "", username)
                ),
                PendingEvent(
                    "identity:identifier:bound",
                    target,
                    new=bound_values(SUBJECT, provider, user.key),
                ),
            ]
            if account is not None:  # a refused entry whose username is free now
                self._relink(session, account["id"], identity["id"], now)
            else:
                new_accounts.append(_account_row(provider, user, identity["id"], LINKED, now))
            report.created += 1
        if new_identities:
            session.execute(insert(Identity).execution_options(render_nulls=True), new_identities)
            session.execute(insert(IdentifierBinding), new_bindings)
        if new_accounts:
            # render_nulls: one multi-row INSERT, not one per run of equal None patterns.
            session.execute(
                insert(DirectoryAccount).execution_options(render_nulls=True), new_accounts
            )
        self._trail.record_many(session, events)

    @staticmethod
    def _relink(session: Session, account_id: int, identity_id: str, now: datetime) -> None:
        session.execute(
            update(DirectoryAccount)
            .where(DirectoryAccount.id == account_id)
            .values(identity_id=identity_id, state=LINKED, last_seen_at=now, gone_at=None)
        )

    def _update(
        self,
        session: Session,
        account: dict[str, Any],
        people: dict[str, dict[str, Any]],
        user: DirectoryUser,
        now: datetime,
        report: MirrorReport,
        events: list[PendingEvent],
    ) -> None:
        identity = people.get(account["identity_id"])
        seen = _mirrored(user)
        old: dict[str, Any] = {}
        new: dict[str, Any] = {}
        for name, value in seen.items():
            if account[name] != value:
                old[name], new[name] = _plain(account[name]), _plain(value)
        person: dict[str, Any] = {}
        if identity is not None:
            for name, value in (("printed_name", user.printed_name), ("email", user.email)):
                if value and identity[name] != value:
                    try:  # the rules of a new identity's name and e-mail (identity/creation.py)
                        checked_person(name, value)
                    except InvalidRequest as exc:
                        # Refused, not sanitised (docs/directories.md): the identity keeps the
                        # name it signs with until the directory's value is printable (11.50(a)).
                        report.problem(user.dn, f"{name}: {exc.detail}; kept the previous value")
                        continue
                    old[name], new[name] = identity[name], value
                    person[name] = value
        if identity is not None:
            renamed = self._renamed(session, identity, user)
            if renamed is not None:
                old["identity_username"], new["identity_username"] = identity["username"], renamed
                person["username"] = renamed
        if account["state"] == GONE:
            old["state"], new["state"] = GONE, LINKED
            report.returned += 1
            report.problem(
                user.dn,
                "back in the directory after being gone: its identity stays deactivated until "
                "an administrator rehires it (idgov identities rehire)",
            )
        values = {**seen, "dn_norm": normalize_dn(user.dn), "modify_stamp": user.modify_stamp}
        if "password_changed_at" in new:
            values["warned_days"] = None  # a new password: its aging warnings start again
        values.update(state=LINKED, last_seen_at=now, gone_at=None)
        session.execute(
            update(DirectoryAccount).where(DirectoryAccount.id == account["id"]).values(**values)
        )
        if person and identity is not None:
            session.execute(update(Identity).where(Identity.id == identity["id"]).values(**person))
        if not old:
            report.unchanged += 1
            return
        report.updated += 1
        events.append(
            PendingEvent(
                "directory:account:updated",
                Target("identity", account["identity_id"]),
                old=old,
                new=new,
                reason="directory sync",
            )
        )

    def _renamed(
        self, session: Session, identity: dict[str, Any], user: DirectoryUser
    ) -> str | None:
        """The directory renamed the account (same key, new username): the identity takes
        the new name if nobody else ever held it; the old name stays bound to it forever."""
        try:
            wanted = normalize_username(user.username)
        except InvalidRequest:
            return None
        if wanted == identity["username"]:
            return None
        person = session.get(Identity, identity["id"])
        assert person is not None
        try:
            self._ledger.bind(session, USERNAME, "", wanted, person)
        except IdentifierReused:
            return None  # audited and alerted; the identity keeps its name
        return wanted

    def _refuse(
        self, session: Session, provider: str, user: DirectoryUser, username: str, now: datetime
    ) -> None:
        claimant = f"{provider} account {user.key} ({user.dn})"
        # Audited and alerted by the ledger; the entry is kept as refused.
        with suppress(IdentifierReused):
            self._ledger.refuse_if_taken(session, USERNAME, "", username, claimant)


def _mirrored(user: DirectoryUser) -> dict[str, Any]:
    return {
        "dn": user.dn,
        "username": user.username,
        "manager_dn": user.manager_dn,
        # The password's age counts from its last change, else from the entry's creation
        # (a directory without pwdChangedTime: the password is as old as the account).
        "password_changed_at": user.password_changed_at or user.created_at,
        "password_expires_at": user.password_expires_at,
        "must_change": user.must_change,
        "locked": user.locked,
        "disabled": user.disabled,
    }


def _plain(value: Any) -> Any:
    return iso_utc(value) if isinstance(value, datetime) else value


def _binding_row(
    kind: str, namespace: str, value: str, identity_id: str, now: datetime
) -> dict[str, Any]:
    return {
        "kind": kind,
        "namespace": namespace,
        "value": value,
        "identity_id": identity_id,
        "bound_at": now,
    }


def _account_row(
    provider: str, user: DirectoryUser, identity_id: str | None, state: str, now: datetime
) -> dict[str, Any]:
    return {
        **_mirrored(user),
        "provider": provider,
        "key": user.key,
        "identity_id": identity_id,
        "state": state,
        "dn_norm": normalize_dn(user.dn),
        "modify_stamp": user.modify_stamp,
        "first_seen_at": now,
        "last_seen_at": now,
        "gone_at": None,
    }
