"""Test helpers for the console pages: a signed-in browser per person, a seeded trail."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from idgov.audit.context import Actor, Target
from idgov.clock import FrozenClock
from idgov.db import transaction
from idgov.providers.directory.settings import DirectorySettings
from idgov.wiring import Services
from tests.functional.people import login, person

SEQ_LINK = re.compile(r'href="/audit/events/([0-9]+)[?"]')


def browser(app: Flask, services: Services, username: str, *roles: str) -> FlaskClient:
    """A new person with `roles`, signed in through the login form (fast_hashing first)."""
    person(services, username, roles=roles)
    client = app.test_client()
    signed = login(client, username)
    assert signed.status_code in (302, 303), signed.get_data(as_text=True)
    return client


def record(
    services: Services,
    clock: FrozenClock,
    action: str,
    target: Target,
    actor: Actor,
    *,
    old: Mapping[str, Any] | None = None,
    new: Mapping[str, Any] | None = None,
    reason: str | None = None,
) -> int:
    """One event a second after the previous one; its sequence number."""
    clock.advance(timedelta(seconds=1))
    with transaction(services.sessions) as session:
        fields = services.trail.record(
            session, action, target, old=old, new=new, reason=reason, actor=actor
        )
    return fields.seq


def listed_seqs(page: str) -> list[int]:
    """The sequence numbers a trail page lists, in the order shown."""
    return [int(seq) for seq in SEQ_LINK.findall(page)]


def link(page: str, text: str) -> str | None:
    """The (unescaped) href of the link whose text starts with `text`, or None."""
    found = re.search(r'<a href="([^"]+)"[^>]*>' + re.escape(text), page)
    return None if found is None else html.unescape(found.group(1))


def unreachable_directory() -> DirectorySettings:
    """A directory's settings that nothing connects to (no sync scheduled): a source name for
    people to come from, in lists and filters."""
    return DirectorySettings(
        urls=["ldaps://ldap.example.com"],
        tls="ldaps",
        bind_dn="cn=idgov,dc=example,dc=com",
        bind_password="env://IDGOV_UNUSED_DIRECTORY_PASSWORD",
        user_base="ou=people,dc=example,dc=com",
        sync_interval_minutes=0,
        full_sync_hours=0,
    )
