"""Helpers for directory tests: settings for a real directory (slapd or Samba AD), services."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Protocol

from ldap3 import MODIFY_REPLACE
from sqlalchemy import select

from idgov.config import Settings
from idgov.db import transaction
from idgov.entitlements.models import Entitlement, EntitlementGrant
from idgov.identity.models import Identity
from idgov.providers.directory.models import DirectoryAccount
from idgov.providers.directory.settings import DirectorySettings
from idgov.wiring import Services
from tests.functional.people import events
from tests.harness.slapd import SlapdServer

NAME = "corp"


class DirectoryServer(Protocol):
    """What the settings need of a harness directory (SlapdServer, SambaDc)."""

    @property
    def url(self) -> str: ...

    admin_dn: str
    admin_password: str
    people_dn: str
    groups_dn: str


def directory_settings(slapd: DirectoryServer, **overrides: Any) -> DirectorySettings:
    values: dict[str, Any] = {
        "urls": [slapd.url],
        "tls": "none",  # loopback test server; TLS is covered in test_ldap_transport.py
        "bind_dn": slapd.admin_dn,
        "bind_password": slapd.admin_password,
        "user_base": slapd.people_dn,
        "group_base": slapd.groups_dn,
        "page_size": 10,
        "group_write_back": True,
        "password_change": True,
    }
    values.update(overrides)
    return DirectorySettings(**values)


def with_directory(settings: Settings, slapd: DirectoryServer, **overrides: Any) -> Settings:
    return settings.model_copy(
        update={"directories": {NAME: directory_settings(slapd, **overrides)}}
    )


def identity_named(services: Services, username: str) -> Identity:
    with services.sessions() as session:
        found = session.scalars(select(Identity).where(Identity.username == username)).one()
        session.expunge(found)
        return found


def account_of(services: Services, identity_id: str) -> DirectoryAccount:
    """The directory account an identity is linked to (one per identity in these tests)."""
    with services.sessions() as session:
        account = session.scalars(
            select(DirectoryAccount).where(DirectoryAccount.identity_id == identity_id)
        ).one()
        session.expunge(account)
        return account


def holders(services: Services, entitlement: str) -> set[tuple[str, str | None]]:
    """(identity id, the group it is held through or None) of everyone holding it."""
    with services.sessions() as session:
        found = session.scalars(select(Entitlement).where(Entitlement.name == entitlement)).one()
        grants = select(EntitlementGrant).where(EntitlementGrant.entitlement_id == found.id)
        return {(grant.identity_id, grant.via) for grant in session.scalars(grants)}


def verify_all(services: Services, admin_id: str, *usernames: str) -> None:
    """Record identity verification and certification, as an admin would after a sync."""
    from idgov.identity.certification import statement_for

    with transaction(services.sessions) as session:
        admin = services.identities.get(session, admin_id)
        for username in usernames:
            who = services.identities.by_username(session, username)
            assert who is not None
            services.identities.record_verification(session, who, admin, "badge")
            services.identities.certify(session, who, statement_for(who.printed_name), "web", None)


def change_password(services: Services, username: str, current: str, new: str) -> None:
    """The person's own change of their directory password through idgov."""
    with transaction(services.sessions) as session:
        identity = services.identities.by_username(session, username)
        assert identity is not None
        services.directory_passwords.change(session, identity, current, new)


def set_attribute(slapd: SlapdServer, uid: str, attribute: str, value: str | list[str]) -> None:
    with slapd.admin_connection() as conn:
        values = value if isinstance(value, list) else [value]
        conn.modify(f"uid={uid},{slapd.people_dn}", {attribute: [(MODIFY_REPLACE, values)]})
        assert conn.result["result"] == 0, conn.result


def audited(services: Services, action: str) -> list[dict[str, Any]]:
    """The audit events of one action, oldest first, with their values decoded."""
    return [
        {"old": json.loads(e.old_values or "null"), "new": json.loads(e.new_values or "null")}
        for e in events(services, action)
    ]


def now_utc() -> datetime:
    return datetime.now(UTC)
