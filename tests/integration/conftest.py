"""Fixtures of the integration tests: the OpenID provider they share."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.harness.oidc_provider import OidcProvider
from tests.integration.oidc_support import ACCOUNTS, CALLBACK, ProviderBrowser


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcProvider]:
    """node's oidc-provider with idgov's client (redirect to the test settings' base URL)."""
    provider = OidcProvider(tmp_path_factory.mktemp("oidc-provider"), [CALLBACK], ACCOUNTS)
    provider.start()
    try:
        yield provider
    finally:
        provider.stop()


@pytest.fixture
def browser(oidc_provider: OidcProvider) -> Iterator[ProviderBrowser]:
    """The person's browser at the provider (its cookies: the provider's session)."""
    at_provider = ProviderBrowser()
    yield at_provider
    at_provider.http.close()
    oidc_provider.lax(False)
