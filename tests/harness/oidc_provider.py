"""A real OpenID provider for the tests: node's oidc-provider (tests/oidc_provider), started with
`node` on a free loopback port with the clients, accounts and signing key the test gives it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from joserfc.jwk import RSAKey

from tests.harness.missing import require_binary
from tests.harness.ports import LOOPBACK, free_port

PROVIDER_DIR = Path(__file__).resolve().parents[1] / "oidc_provider"
NODE_HINT = "apt-get install -y nodejs npm (Node.js 20 or later), then `make node-test-deps`"
NPM_HINT = "run `make node-test-deps` (npm ci in tests/oidc_provider)"
START_TIMEOUT = 20.0
CLIENT_ID = "idgov"
CLIENT_SECRET = "idgov-test-client-secret-0123456789"
OTHER_CLIENT = "other-app"
PASSWORD = "pw"
KID = "test-rs256"


def rsa_jwk(kid: str) -> RSAKey:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return RSAKey.import_key(key, {"kid": kid, "use": "sig", "alg": "RS256"})


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def compact(header: dict[str, Any], claims: dict[str, Any], sign: Any) -> str:
    """A compact JWS built by hand, so that any header and claims can be sent (RFC 7515)."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{b64(sign(signing_input.encode('ascii')))}"


class OidcProvider:
    """One provider process. `key` is its signing key, which the test owns too: hostile ID
    tokens signed with it verify against the provider's published JWKS."""

    def __init__(
        self, workdir: Path, redirect_uris: list[str], accounts: dict[str, dict[str, Any]]
    ) -> None:
        self.workdir = workdir
        self.port = free_port(LOOPBACK)
        self.issuer = f"http://{LOOPBACK}:{self.port}"
        self.redirect_uris = redirect_uris
        self.accounts = accounts
        self.key = rsa_jwk(KID)
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        node = require_binary("node", NODE_HINT)
        if not (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
            pytest.fail(f"node's oidc-provider is not installed: {NPM_HINT}", pytrace=False)
        config = self.workdir / "provider.json"
        client = {
            "client_secret": CLIENT_SECRET,
            "redirect_uris": self.redirect_uris,
            "grant_types": ["authorization_code"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "client_secret_basic",
            "require_auth_time": True,
        }
        config.write_text(
            json.dumps(
                {
                    "port": self.port,
                    "issuer": self.issuer,
                    "clients": [
                        {"client_id": CLIENT_ID, **client},
                        {"client_id": OTHER_CLIENT, **client},
                    ],
                    "accounts": self.accounts,
                    "jwks": {"keys": [self.key.as_dict(private=True)]},
                }
            ),
            encoding="utf-8",
        )
        with (self.workdir / "provider.log").open("wb") as log:
            self._process = subprocess.Popen(
                [node, "--no-warnings", str(PROVIDER_DIR / "server.mjs"), str(config)],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=PROVIDER_DIR,
            )
        self._wait_for_discovery()

    def _wait_for_discovery(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        url = f"{self.issuer}/.well-known/openid-configuration"
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                log = (self.workdir / "provider.log").read_text(encoding="utf-8", errors="replace")
                pytest.fail(f"the test OpenID provider exited: {log[-2000:]}", pytrace=False)
            try:
                if requests.get(url, timeout=1).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        self.stop()
        pytest.fail(f"the test OpenID provider did not answer at {url}", pytrace=False)

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def lax(self, on: bool) -> None:
        """Make the provider ignore prompt=login and max_age (it reuses its SSO session)."""
        requests.post(f"{self.issuer}/__test/lax", json={"on": on}, timeout=5).raise_for_status()

    def next_id_token(self, token: str) -> None:
        """The next token response carries `token` instead of the provider's own ID token."""
        answer = requests.post(
            f"{self.issuer}/__test/id-token", json={"id_token": token}, timeout=5
        )
        answer.raise_for_status()

    def mint(self, claims: dict[str, Any], key: RSAKey | None = None) -> str:
        """An RS256 ID token with exactly these claims, signed with the provider's own key (or
        `key`, under the provider's kid: a key it never published)."""
        private = (key or self.key).private_key

        def sign(data: bytes) -> bytes:
            return private.sign(data, padding.PKCS1v15(), hashes.SHA256())

        return compact({"alg": "RS256", "kid": KID, "typ": "JWT"}, claims, sign)

    def forged_hs256(self, claims: dict[str, Any]) -> str:
        """HS256 keyed with the provider's public key (PEM): the algorithm-confusion forgery."""
        public = self.key.private_key.public_key()
        pem = public.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
        return compact(
            {"alg": "HS256", "kid": KID, "typ": "JWT"},
            claims,
            lambda data: hmac.new(pem, data, hashlib.sha256).digest(),
        )

    @staticmethod
    def unsigned(claims: dict[str, Any]) -> str:
        """alg none (RFC 7519 6.1): no signature at all."""
        return compact({"alg": "none", "typ": "JWT"}, claims, lambda _data: b"")
