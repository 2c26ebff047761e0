"""The demo's LIMS host asks for a signature through the ceremony, as docs/host-integration.md
("A runnable host") walks a newcomer through it."""

from __future__ import annotations

import re

import pytest

from idgov.app import create_app
from idgov.clock import FrozenClock
from idgov.config import load_settings
from idgov.demo import DEMO_PEOPLE, DEMO_RETURN_URL
from idgov.wiring import build_services
from tests.functional import test_cli
from tests.functional.ceremony_support import open_page, returned, submit
from tests.functional.hosts import HOST_ADDRESS, bearer, token_for
from tests.functional.signing import record
from tests.functional.test_cli_identities import FAST

Cli = test_cli.Cli
cli = test_cli.cli  # the fixture: `idgov` on this test's migrated database


@pytest.mark.req("CMP-2")
def test_the_demo_host_gets_jon_does_signature_through_the_ceremony(
    cli: Cli, clock: FrozenClock
) -> None:
    assert cli("policy", "set", "password", *FAST, "--reason", "fast tests").exit_code == 0
    out = cli("demo").stdout
    # The service as `make run` serves it: the demo's settings, secrets and keys.
    served = build_services(load_settings(), clock)
    client = create_app(services=served).test_client()
    client_id = re.search(r"client_id: +(\S+)", out)
    secret = re.search(r"client_secret: +(\S+)", out)
    assert client_id is not None
    assert secret is not None
    assert "A runnable host" in out
    token = token_for(client, client_id[1], secret[1], scope="signatures")
    created = client.post(
        "/api/v1/signing-requests",
        json={"meaning": "approval", "record": record(), "return_url": DEMO_RETURN_URL},
        headers=bearer(token),
        environ_base={"REMOTE_ADDR": HOST_ADDRESS},
    )
    assert created.status_code == 201, created.get_data(as_text=True)
    request_id = created.get_json()["id"]

    jon = next(person for person in DEMO_PEOPLE if person.username == "jon.doe")
    _page, csrf = open_page(client, request_id)
    target, query = returned(submit(client, request_id, csrf, "jon.doe", jon.password))
    assert target == DEMO_RETURN_URL
    assert query["signing_request"] == request_id
    served.engine.dispose()
