"""Signatures in the console: search by record, digest or signer; a signature's manifestation
and its verification (MAN-1, MAN-2, LNK-1, ACC-2)."""

from __future__ import annotations

import html
import re
from dataclasses import replace

import pytest
from flask import Flask
from flask.testing import FlaskClient

from idgov.clock import FrozenClock
from idgov.signatures.models import Signature
from idgov.wiring import Services
from tests.functional.console_support import browser
from tests.functional.people import fast_hashing
from tests.functional.signing_support import SignatureMaker, digest_of, record_ref
from tests.functional.tamper import tamper

SOP = record_ref("SOP-0042", "4")
SIGNATURE_LINK = re.compile(r'href="/signatures/([0-9a-f-]{36})"')


@pytest.fixture
def maker(services: Services, clock: FrozenClock) -> SignatureMaker:
    fast_hashing(services)
    return SignatureMaker(services, clock)


@pytest.fixture
def signed(maker: SignatureMaker) -> list[Signature]:
    return [
        maker.sign(SOP, username="alice", name="Alice Author", meaning="authorship"),
        maker.sign(SOP, username="bob", name="Bob Reviewer", meaning="review"),
        maker.sign(
            replace(SOP, version="5", digest=digest_of(b"v5")),
            username="alice",
            name="Alice Author",
            meaning="authorship",
        ),
        maker.sign(record_ref("SOP-0043"), username="bob", name="Bob Reviewer", reason="ok"),
    ]


def found(client: FlaskClient, query: str) -> list[str]:
    response = client.get(f"/signatures?{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    return SIGNATURE_LINK.findall(response.get_data(as_text=True))


@pytest.mark.req("MAN-2")
@pytest.mark.parametrize("roles", [("auditor",), ("admin",)])
def test_signatures_are_found_by_record_digest_or_signer_newest_first(
    app: Flask, services: Services, signed: list[Signature], roles: tuple[str, ...]
) -> None:
    client = browser(app, services, "reader", *roles)
    ids = [row.id for row in signed]
    assert found(client, "record=sop:SOP-0042") == [ids[2], ids[1], ids[0]]
    assert found(client, "record=SOP-0043") == [ids[3]]
    assert found(client, f"digest={SOP.digest}") == [ids[1], ids[0]]
    assert found(client, f"digest={SOP.digest.removeprefix('sha256:').upper()}") == [
        ids[1],
        ids[0],
    ]
    assert found(client, "signer=Alice") == [ids[2], ids[0]]
    assert found(client, "record=SOP-0042&signer=bob") == [ids[1]]
    assert found(client, "signer=nobody") == []
    assert found(client, "") == []  # the empty form: nothing searched yet


@pytest.mark.req("MAN-2")
@pytest.mark.parametrize(
    ("query", "field"),
    [("digest=md5:abc", "digest"), ("signer=%20%2F%2F", "signer"), ("record=a%01b", "record")],
)
def test_a_bad_search_is_shown_on_the_form_with_the_field_named(
    app: Flask, services: Services, maker: SignatureMaker, query: str, field: str
) -> None:
    client = browser(app, services, "reader", "auditor")
    response = client.get(f"/signatures?{query}")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert re.search(rf'id="f-{field}"[^>]*aria-invalid="true"', page), page
    assert f'id="e-{field}"' in page


@pytest.mark.req("MAN-1")
def test_a_signature_shows_its_manifestation_as_printed_and_verifies(
    app: Flask, services: Services, signed: list[Signature]
) -> None:
    client = browser(app, services, "reader", "auditor")
    row = signed[3]
    page = html.unescape(client.get(f"/signatures/{row.id}").get_data(as_text=True))
    assert (
        f"Electronically signed by Bob Reviewer (bob) on "
        f"{row.signed_at.strftime('%Y-%m-%d %H:%M:%S')} UTC; meaning: approval" in page
    )
    assert "; reason: ok" in page
    assert "Verified now" in page
    assert row.record_digest in page
    assert row.token in page
    assert f'<time datetime="{row.signed_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}">' in page
    assert client.get("/signatures/00000000-0000-0000-0000-000000000000").status_code == 404


@pytest.mark.req("LNK-1")
def test_a_stored_signature_altered_in_the_database_fails_its_check(
    app: Flask, services: Services, signed: list[Signature]
) -> None:
    client = browser(app, services, "reader", "auditor")
    row = signed[0]
    with services.engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            triggers = conn.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'signatures'"
            ).scalars()
            names = list(triggers)
        else:
            names = []
    for name in names:
        tamper(services.engine, f"DROP TRIGGER IF EXISTS {name}")
    tamper(services.engine, f"UPDATE signatures SET printed_name = 'Mallory' WHERE id = '{row.id}'")
    page = client.get(f"/signatures/{row.id}").get_data(as_text=True)
    assert "MISMATCH: the stored signature differs from its token" in page
    assert "Verified now" not in page


@pytest.mark.req("ACC-2")
@pytest.mark.parametrize("roles", [(), ("security_officer",), ("reviewer",)])
def test_others_are_refused_the_signature_pages(
    app: Flask, services: Services, signed: list[Signature], roles: tuple[str, ...]
) -> None:
    client = browser(app, services, "curious", *roles)
    assert client.get("/signatures?signer=alice").status_code == 403
    assert client.get(f"/signatures/{signed[0].id}").status_code == 403
    assert 'href="/signatures"' not in client.get("/").get_data(as_text=True)
