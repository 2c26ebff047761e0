"""Helpers for the OpenID Connect tests: settings naming the test provider, a wall clock (the
provider's auth_time is real time), and a scripted browser at the provider."""

from __future__ import annotations

import html
import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import requests
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from idgov.clock import FrozenClock
from idgov.config import Settings
from idgov.db import transaction
from idgov.identity.certification import statement_for
from idgov.identity.models import Identity
from idgov.providers.oidc.settings import OidcSettings
from idgov.wiring import Services
from tests.harness.oidc_provider import CLIENT_ID, CLIENT_SECRET, PASSWORD, OidcProvider

NAME = "acme"
BASE_URL = "http://127.0.0.1:8080"  # the test settings' base_url: the registered redirect URI
CALLBACK = f"{BASE_URL}/oidc/{NAME}/callback"
PERSON = {"REMOTE_ADDR": "198.51.100.23"}

# The provider's accounts: the account id is the subject (sub).
ACCOUNTS: dict[str, dict[str, Any]] = {
    "sub-alice": {
        "claims": {
            "preferred_username": "alice",
            "name": "Alice Adams",
            "email": "alice@example.com",
            "groups": ["qa-approvers"],
        },
        "acr": "urn:idgov:test:mfa",
        "amr": ["pwd", "otp"],
    },
    "sub-bob": {
        "claims": {"preferred_username": "bob", "name": "Bob Brown", "email": "bob@example.com"},
        "amr": ["pwd"],
    },
    # A second account whose username claim is alice's: a recycled name (UNQ-1).
    "sub-alice-2": {
        "claims": {"preferred_username": "alice", "name": "Alice Other", "email": "a2@ex.com"},
    },
    "sub-carol": {
        "claims": {"preferred_username": "carol", "name": "Carol C", "email": "carol@ex.com"},
    },
}


class WallClock(FrozenClock):
    """Real time (the provider's clock), still advanceable for the tests that need it."""

    def __init__(self) -> None:
        super().__init__(datetime.now(UTC))
        self._offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def advance(self, delta: timedelta) -> None:
        self._offset += delta


def with_provider(settings: Settings, provider: OidcProvider, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "issuer": provider.issuer,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "display_name": "Acme ID",
        "scopes": ["openid", "profile", "email", "groups"],
        "groups_claim": "groups",
        # One second: the provider's auth_time is whole seconds.
        "clock_skew_seconds": 1,
        **overrides,
    }
    return settings.model_copy(update={"oidc": {NAME: OidcSettings(**values)}})


class ProviderBrowser:
    """The person's browser at the provider: follows redirects, fills in the login form, and
    stops at the first redirect back to idgov."""

    def __init__(self) -> None:
        self.http = requests.Session()
        self.logins = 0

    def visit(self, url: str, login: str | None, password: str = PASSWORD) -> str:
        """From the authorization URL to idgov's callback URL; logs in as `login` when the
        provider asks (it must ask if `login` is given and must not if it is None)."""
        response = self.http.get(url, allow_redirects=False, timeout=10)
        for _step in range(20):
            if response.status_code in (302, 303):
                target = urljoin(response.url, response.headers["Location"])
                if target.startswith(BASE_URL):
                    return target
                response = self.http.get(target, allow_redirects=False, timeout=10)
                continue
            assert response.status_code == 200, (response.status_code, response.text[:500])
            if "/interaction/" not in response.url:
                # The provider's self-submitting form (a change of account ends its session).
                response = self._submit(response)
                continue
            assert login is not None, "the provider asked for a login"
            form = {"login": login, "password": password}
            response = self.http.post(
                response.url + "/login", data=form, allow_redirects=False, timeout=10
            )
            self.logins += 1
            login = None
        raise AssertionError("no way back to idgov")

    def _submit(self, page: requests.Response) -> requests.Response:
        action = re.search(r'<form method="post" action="([^"]+)"', page.text)
        assert action, page.text[:500]
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
        return self.http.post(
            urljoin(page.url, html.unescape(action.group(1))),
            data=fields,
            allow_redirects=False,
            timeout=10,
        )


def query_of(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def path_of(url: str) -> str:
    split = urlsplit(url)
    return f"{split.path}?{split.query}"


def sign_in(client: FlaskClient, browser: ProviderBrowser, login: str | None) -> TestResponse:
    """ "Sign in with Acme ID" on /login, at the provider, and back."""
    started = client.get(f"/login/oidc/{NAME}", environ_base=PERSON)
    assert started.status_code == 303, started.get_data(as_text=True)
    callback = browser.visit(started.headers["Location"], login)
    return client.get(path_of(callback), environ_base=PERSON)


def identity(services: Services, username: str) -> Identity:
    with services.sessions() as session:
        found = services.identities.by_username(session, username)
        assert found is not None
        return found


def make_signer(services: Services, username: str, admin_id: str) -> None:
    """Someone else verified the person (IDV-1) and they certified (TRN-1)."""
    with transaction(services.sessions) as session:
        who = services.identities.by_username(session, username)
        assert who is not None
        admin = services.identities.get(session, admin_id)
        services.identities.record_verification(session, who, admin, "badge")
        services.identities.certify(session, who, statement_for(who.printed_name), "web", None)


def seconds_later(seconds: float) -> None:
    """Real time passes (the provider's auth_time is in whole seconds)."""
    time.sleep(seconds)
