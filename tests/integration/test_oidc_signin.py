"""Sign-in to idgov's pages through a real OpenID provider (node's oidc-provider): the subject
bound as (issuer, sub) forever, never by e-mail (UNQ-1); a first sign-in creates a pending
identity (IDV-1); locked and inactive people are refused; every refusal audited (AUD-1)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from idgov.clock import FrozenClock
from idgov.config import Settings
from idgov.identity.ledger import SUBJECT
from idgov.identity.models import IdentifierBinding, IdentityStatus
from idgov.wiring import Services
from tests.functional.people import events
from tests.harness.oidc_provider import OidcProvider
from tests.integration.oidc_support import (
    NAME,
    ProviderBrowser,
    WallClock,
    identity,
    query_of,
    sign_in,
    with_provider,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def clock() -> FrozenClock:
    return WallClock()


@pytest.fixture
def settings(settings: Settings, oidc_provider: OidcProvider) -> Settings:
    return with_provider(settings, oidc_provider)


@pytest.fixture
def browser() -> Iterator[ProviderBrowser]:
    at_provider = ProviderBrowser()
    yield at_provider
    at_provider.http.close()


@pytest.mark.req("IDV-1")
@pytest.mark.req("UNQ-1")
def test_a_first_sign_in_creates_a_pending_identity_bound_to_issuer_and_subject(
    services: Services, client: FlaskClient, browser: ProviderBrowser, oidc_provider: OidcProvider
) -> None:
    started = client.get(f"/login/oidc/{NAME}")
    asked = query_of(started.headers["Location"])
    assert asked["response_type"] == "code"
    assert asked["code_challenge_method"] == "S256"
    assert asked["nonce"]
    assert asked["state"]
    assert "prompt" not in asked  # a sign-in may ride on the provider's session

    signed = sign_in(client, browser, "sub-alice")

    assert signed.status_code == 303, signed.get_data(as_text=True)
    assert "idgov_session" in signed.headers.get("Set-Cookie", "")
    alice = identity(services, "alice")
    assert alice.status == IdentityStatus.PENDING_VERIFICATION  # cannot sign yet (IDV-1)
    assert alice.provider == f"oidc:{NAME}"
    assert alice.printed_name == "Alice Adams"
    with services.sessions() as session:
        bound = session.scalars(
            select(IdentifierBinding).where(
                IdentifierBinding.identity_id == alice.id, IdentifierBinding.kind == SUBJECT
            )
        ).all()
    assert [(b.namespace, b.value) for b in bound] == [(oidc_provider.issuer, "sub-alice")]
    assert [e.target_id for e in events(services, "auth:login:succeeded")] == [alice.id]
    # The home page answers to the new session.
    assert client.get("/").status_code == 200
