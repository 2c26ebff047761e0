"""OidcClient: authlib as the relying party: discovery, the authorization request (code flow,
PKCE S256, state, nonce), the code exchange and the ID token's signature. Its claims are checked
by our own code (claims.py): authlib never checks how old `auth_time` is."""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Callable
from typing import Any

import requests

from idgov.errors import IdgovError
from idgov.providers.oidc.claims import TokenRefused
from idgov.providers.oidc.settings import OidcSettings

with warnings.catch_warnings():
    # authlib.jose announces its move to joserfc; it is the JOSE code authlib itself uses.
    # authlib.deprecate sets an "always" filter when imported: import it first, then ignore.
    import authlib.deprecate  # noqa: F401

    warnings.simplefilter("ignore")
    from authlib.common.errors import AuthlibBaseError
    from authlib.integrations.requests_client import OAuth2Session
    from authlib.jose import JsonWebKey, JsonWebToken
    from authlib.jose.errors import JoseError

# Asymmetric algorithms only: `none` and the HMAC family are never accepted (an HS256 token
# keyed with the provider's public key is the classic forgery, RFC 8725 2.1 and 3.1).
ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"]
DISCOVERY_SECONDS = 300


class ProviderDown(Exception):
    """The provider cannot be reached or answers nonsense: refuse, never fall back."""


class OidcClient:
    """One provider, one registered client (confidential, client_secret_basic)."""

    def __init__(
        self,
        name: str,
        settings: OidcSettings,
        client_secret: Callable[[], str],
        redirect_uri: str,
    ) -> None:
        self.name = name
        self.settings = settings
        self.redirect_uri = redirect_uri
        self._secret = client_secret
        self._lock = threading.Lock()
        self._metadata: dict[str, Any] | None = None
        self._metadata_at = 0.0
        self._keys: Any = None

    @property
    def issuer(self) -> str:
        return self.settings.issuer

    def authorization_url(
        self, *, state: str, nonce: str, verifier: str, extra: dict[str, str]
    ) -> str:
        """OIDC Core 1.0 3.1.2.1: code flow, our scopes, nonce, and PKCE S256 (RFC 7636)."""
        endpoint = self._endpoint("authorization_endpoint")
        session = self._session()
        url, _state = session.create_authorization_url(
            endpoint, state=state, nonce=nonce, code_verifier=verifier, **extra
        )
        return str(url)

    def exchange(self, code: str, verifier: str) -> str:
        """The ID token for this code (3.1.3.1); TokenRefused if the provider refuses the code
        (used already, expired), ProviderDown if it cannot be asked."""
        endpoint = self._endpoint("token_endpoint")
        try:
            token = self._session().fetch_token(
                endpoint, code=code, code_verifier=verifier, redirect_uri=self.redirect_uri
            )
        except requests.RequestException as exc:
            raise ProviderDown(
                f"the token endpoint cannot be reached: {type(exc).__name__}"
            ) from None
        except (AuthlibBaseError, ValueError) as exc:
            raise TokenRefused("code-refused", f"the provider refused the code: {exc}") from None
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise TokenRefused("no-id-token", "the provider answered without an ID token")
        return id_token

    def verified_claims(self, id_token: str) -> dict[str, Any]:
        """The ID token's claims if its signature verifies with the provider's published keys
        and an asymmetric algorithm (3.1.3.7 steps 6-8); the claims themselves are not checked
        here (claims.check_claims does)."""
        jwt = JsonWebToken(ALGORITHMS)
        problem = "it does not verify"
        for refresh in (False, True):  # an unknown kid: the provider may have rotated its keys
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    return dict(jwt.decode(id_token, self._key_set(refresh)))
            except JoseError as exc:
                problem = str(exc.error)
            except (ValueError, TypeError, KeyError, IndexError) as exc:
                problem = type(exc).__name__
        raise TokenRefused("bad-signature", f"the ID token is not the provider's: {problem}")

    # --- internals --------------------------------------------------------------------------

    def _session(self) -> OAuth2Session:
        try:
            secret = self._secret()
        except IdgovError as missing:  # a secret reference that cannot be read: fail closed
            raise ProviderDown(f"the client secret cannot be read: {missing.detail}") from None
        return OAuth2Session(
            client_id=self.settings.client_id,
            client_secret=secret,
            scope=" ".join(self.settings.scopes),
            redirect_uri=self.redirect_uri,
            code_challenge_method="S256",
            token_endpoint_auth_method="client_secret_basic",  # noqa: S106 - a method name
        )

    def _endpoint(self, name: str) -> str:
        value = self._discovered().get(name)
        if not isinstance(value, str) or not value.startswith(("https://", "http://")):
            raise ProviderDown(f"the provider's discovery document has no {name}")
        return value

    def _discovered(self) -> dict[str, Any]:
        with self._lock:
            if self._metadata is None or time.monotonic() - self._metadata_at > DISCOVERY_SECONDS:
                document = self._get(f"{self.issuer}/.well-known/openid-configuration")
                # OIDC Discovery 1.0 section 4.3: the document's issuer is the configured one.
                if document.get("issuer") != self.issuer:
                    raise ProviderDown("the discovery document names another issuer")
                self._metadata, self._metadata_at = document, time.monotonic()
            return self._metadata

    def _key_set(self, refresh: bool) -> Any:
        if self._keys is None or refresh:
            uri = self._endpoint("jwks_uri")
            try:
                self._keys = JsonWebKey.import_key_set(self._get(uri))
            except (ValueError, TypeError, KeyError, JoseError) as exc:
                raise ProviderDown(f"the provider's keys cannot be read: {exc}") from None
        return self._keys

    def _get(self, url: str) -> dict[str, Any]:
        try:
            answer = requests.get(url, timeout=self.settings.timeout_seconds)
            answer.raise_for_status()
            document = answer.json()
        except (requests.RequestException, ValueError) as exc:
            raise ProviderDown(f"{url} cannot be read: {type(exc).__name__}") from None
        if not isinstance(document, dict):
            raise ProviderDown(f"{url} is not a JSON object")
        return document
