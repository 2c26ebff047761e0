"""Sign-in to idgov's pages through a real OpenID provider (node's oidc-provider): the subject
bound as (issuer, sub) forever, never by e-mail (UNQ-1); a first sign-in creates a pending
identity (IDV-1); locked and inactive people are refused; every refusal audited (AUD-1)."""

from __future__ import annotations

import json
import time

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from idgov.alerts.models import Alert
from idgov.app import create_app
from idgov.clock import FrozenClock
from idgov.config import Settings
from idgov.db import transaction
from idgov.entitlements.models import Entitlement, EntitlementGrant
from idgov.identity.ledger import SUBJECT
from idgov.identity.models import IdentifierBinding, IdentityStatus
from idgov.wiring import Services, build_services
from tests.functional.people import events, person
from tests.harness.oidc_provider import CLIENT_ID, OidcProvider
from tests.integration.oidc_support import (
    NAME,
    PERSON,
    ProviderBrowser,
    WallClock,
    identity,
    path_of,
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


def reasons(services: Services) -> list[str]:
    return [json.loads(e.new_values)["reason"] for e in events(services, "auth:login:failed")]


@pytest.mark.req("UNQ-1")
@pytest.mark.req("ALERT-1")
@pytest.mark.req("AUD-1")
def test_a_username_claim_that_moves_to_another_subject_is_refused_and_alerted(
    services: Services, client: FlaskClient, browser: ProviderBrowser
) -> None:
    assert sign_in(client, browser, "sub-alice").status_code == 303
    other = ProviderBrowser()

    refused = sign_in(app_client(client), other, "sub-alice-2")  # also says "alice"

    assert refused.status_code == 401
    assert reasons(services) == ["identifier-reused"]
    assert len(events(services, "identity:identifier:reuse-refused")) == 1
    with services.sessions() as session:
        kinds = session.scalars(select(Alert.kind)).all()
    assert "identifier-reuse" in kinds
    assert identity(services, "alice").printed_name == "Alice Adams"  # never given away


@pytest.mark.req("LOCK-2")
@pytest.mark.req("ACC-1")
@pytest.mark.parametrize("state", ["locked", "suspended", "deactivated"])
def test_a_locked_or_inactive_identity_cannot_sign_in_at_the_provider(
    state: str, services: Services, client: FlaskClient, browser: ProviderBrowser
) -> None:
    assert sign_in(client, browser, "sub-alice").status_code == 303
    with transaction(services.sessions) as session:
        alice = services.identities.by_username(session, "alice")
        assert alice is not None
        if state == "locked":
            alice.status = IdentityStatus.LOCKED
        else:
            services.identities.transition(session, alice, state, "test")

    refused = sign_in(app_client(client), ProviderBrowser(), "sub-alice")

    assert refused.status_code == (423 if state == "locked" else 401)
    assert reasons(services) == ["locked" if state == "locked" else "inactive"]
    assert "idgov_session=" not in refused.headers.get("Set-Cookie", "")


@pytest.mark.req("UNQ-1")
@pytest.mark.req("IDV-1")
def test_provisioning_existing_refuses_until_an_admin_links_the_subject(
    settings: Settings, clock: FrozenClock, oidc_provider: OidcProvider, browser: ProviderBrowser
) -> None:
    services = build_services(
        with_provider(settings, oidc_provider, provisioning="existing"), clock
    )
    try:
        client = create_app(services=services).test_client()
        refused = sign_in(client, browser, "sub-carol")
        assert refused.status_code == 401
        assert reasons(services) == ["not-linked"]
        [event] = events(services, "auth:login:failed")
        assert json.loads(event.new_values)["subject"] == "sub-carol"  # what the admin links
        person(services, "carol", name="Carol C")
        with transaction(services.sessions) as session:
            carol = services.identities.by_username(session, "carol")
            assert carol is not None
            services.oidc_signin.link(session, carol, NAME, "sub-carol", "ticket 42")

        signed = sign_in(app_client(client), ProviderBrowser(), "sub-carol")

        assert signed.status_code == 303
        assert identity(services, "carol").provider == f"oidc:{NAME}"
        assert len(events(services, "identity:identity:linked")) == 1
    finally:
        services.close()


@pytest.mark.req("AUD-1")
def test_a_replayed_sign_in_callback_is_refused_and_audited(
    client: FlaskClient, browser: ProviderBrowser, services: Services
) -> None:
    started = client.get(f"/login/oidc/{NAME}", environ_base=PERSON)
    callback = browser.visit(started.headers["Location"], "sub-bob")
    assert client.get(path_of(callback), environ_base=PERSON).status_code == 303

    again = client.get(path_of(callback), environ_base=PERSON)
    stranger = app_client(client).get(path_of(callback), environ_base=PERSON)

    assert again.status_code == 401
    assert stranger.status_code == 401
    assert reasons(services) == ["replayed", "replayed"]


def app_client(client: FlaskClient) -> FlaskClient:
    """Another browser on the same app."""
    return client.application.test_client()


def held(services: Services, identity_id: str) -> list[str]:
    with services.sessions() as session:
        return sorted(
            session.scalars(
                select(Entitlement.key)
                .join(EntitlementGrant, EntitlementGrant.entitlement_id == Entitlement.id)
                .where(
                    EntitlementGrant.identity_id == identity_id,
                    EntitlementGrant.removed_at.is_(None),
                    Entitlement.source_type == "oidc-group",
                )
            )
        )


@pytest.mark.req("REV-1")
@pytest.mark.req("AUD-1")
def test_groups_in_the_claims_become_entitlements_like_directory_groups(
    services: Services, client: FlaskClient, browser: ProviderBrowser, oidc_provider: OidcProvider
) -> None:
    assert sign_in(client, browser, "sub-alice").status_code == 303
    alice = identity(services, "alice")
    assert held(services, alice.id) == ["qa-approvers"]

    # The next sign-in's ID token lists other groups (the provider's own key signs it).
    started = client.get(f"/login/oidc/{NAME}", environ_base=PERSON)
    nonce = query_of(started.headers["Location"])["nonce"]
    now = int(time.time())
    oidc_provider.next_id_token(
        oidc_provider.mint(
            {
                "iss": oidc_provider.issuer,
                "aud": CLIENT_ID,
                "sub": "sub-alice",
                "nonce": nonce,
                "iat": now,
                "exp": now + 300,
                "auth_time": now,
                "groups": ["lims-admins"],
            }
        )
    )
    callback = browser.visit(started.headers["Location"], None)
    assert client.get(path_of(callback), environ_base=PERSON).status_code == 303

    assert held(services, alice.id) == ["lims-admins"]  # qa-approvers ended, kept (REC-1)
    changes = [json.loads(e.new_values) for e in events(services, "entitlement:grants:changed")]
    assert [c["entitlements"] for c in changes] == [["qa-approvers"], ["lims-admins"]]


@pytest.mark.req("ACC-1")
def test_a_callback_carried_to_another_browser_is_refused(
    services: Services, client: FlaskClient, browser: ProviderBrowser
) -> None:
    """Login CSRF (RFC 6749 10.12): the flow is bound to the browser that started it."""
    started = client.get(f"/login/oidc/{NAME}", environ_base=PERSON)
    callback = browser.visit(started.headers["Location"], "sub-bob")

    carried = app_client(client).get(path_of(callback), environ_base=PERSON)

    assert carried.status_code == 401
    assert "idgov_session=" not in carried.headers.get("Set-Cookie", "")
    assert reasons(services) == ["other-browser"]
