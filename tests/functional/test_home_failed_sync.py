"""An administrator's home page names a directory whose last sync failed, linked to its page
(issue 15 item 1), and stops naming it once a later run succeeds."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from flask import Flask

from idgov.config import Settings
from idgov.db import transaction
from idgov.errors import IdgovError
from idgov.identity.models import Role
from idgov.providers.directory.models import DirectorySyncRun
from idgov.wiring import Services
from tests.functional.people import fast_hashing, person
from tests.functional.test_home_blocks import home_of, text
from tests.harness.ports import LOOPBACK, free_port
from tests.integration.directory_support import NAME, with_directory


@dataclass(frozen=True)
class NobodyListening:
    """A directory address where no server answers."""

    url: str = f"ldap://{LOOPBACK}:{free_port(LOOPBACK)}"
    admin_dn: str = "cn=admin,dc=idgov,dc=test"
    admin_password: str = "unused"
    people_dn: str = "ou=people,dc=idgov,dc=test"
    groups_dn: str = "ou=groups,dc=idgov,dc=test"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return with_directory(settings, NobodyListening())


def test_an_admin_sees_the_directory_whose_last_sync_failed(app: Flask, services: Services) -> None:
    fast_hashing(services)
    person(services, "ada", roles=(Role.ADMIN,), name="Ada Admin")
    assert "whose last sync failed" not in home_of(app, "ada")  # never synced: no failure

    with pytest.raises(IdgovError):
        services.directory_sync.run(NAME, full=True)
    page = home_of(app, "ada")
    assert "1 directory whose last sync failed" in text(page)
    assert f'href="/admin/directories/{NAME}"' in page

    with transaction(services.sessions) as session:  # a later run that succeeded
        now = services.clock.now()
        session.add(
            DirectorySyncRun(
                provider=NAME,
                kind="full",
                status="succeeded",
                started_at=now,
                finished_at=now,
                counts=json.dumps({}),
                problems=json.dumps([]),
            )
        )
    assert "whose last sync failed" not in home_of(app, "ada")
