"""The signature token: a compact JWS (RFC 7515) whose payload binds the signer, the meaning,
the time and the record's content hash (11.50, 11.70; LNK-1). Format in docs/host-integration.md."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from idgov.clock import iso_utc
from idgov.keys.jws import PrivateKey, sign_compact

TOKEN_TYPE = "idgov-esig+jwt"  # noqa: S105 - the JWS typ header, not a secret


@dataclass(frozen=True)
class RecordRef:
    type: str
    id: str
    version: str
    digest: str  # "sha256:" + 64 lower-case hex
    title: str | None = None


@dataclass(frozen=True)
class Manifestation:
    """MAN-1: printed name, date and time of signing (UTC), and meaning."""

    printed_name: str
    username: str
    signed_at: datetime
    meaning: str
    statement: str
    reason: str | None

    def text(self) -> str:
        """MAN-2: one line the host prints on the record's human-readable copy."""
        when = self.signed_at.strftime("%Y-%m-%d %H:%M:%S UTC")
        line = f"Electronically signed by {self.printed_name} ({self.username}) on {when}"
        line += f"; meaning: {self.meaning}: {self.statement}"
        return line + (f"; reason: {self.reason}" if self.reason else "")


@dataclass(frozen=True)
class FederatedEvidence:
    """A re-authentication at an OpenID provider, as its verified ID token showed it (STEP-1):
    the issuer, when the person authenticated there, and how (`acr`, `amr`)."""

    issuer: str
    acr: str | None
    amr: tuple[str, ...]


@dataclass(frozen=True)
class Authentication:
    """How the signer re-authenticated (11.200(a)(1)): components and signing-session step;
    `federated` when it was at an OpenID provider (then `auth_time` is the provider's)."""

    components: tuple[str, ...]  # e.g. ("username", "password", "otp")
    auth_time: datetime
    signing_session: str
    seq: int
    federated: FederatedEvidence | None = None

    @property
    def method(self) -> str:
        if self.federated is not None:
            return "oidc"
        return "password" + ("+otp" if "otp" in self.components else "")

    @property
    def amr(self) -> list[str]:
        if self.federated is not None:
            return list(self.federated.amr)  # the provider's own values (RFC 8176)
        # RFC 8176 authentication method reference values.
        return ["pwd"] + (["otp"] if "otp" in self.components else [])

    def claims(self) -> dict[str, Any]:
        """The token's `authn` claim (docs/host-integration.md, docs/oidc.md)."""
        claim: dict[str, Any] = {"method": self.method, "amr": self.amr}
        if self.federated is not None:
            claim.update(iss=self.federated.issuer, acr=self.federated.acr)
        return {
            **claim,
            "auth_time": int(self.auth_time.timestamp()),
            "components": list(self.components),
            "signing_session": {"id": self.signing_session, "seq": self.seq},
        }


@dataclass(frozen=True)
class BatchRef:
    id: str
    index: int
    size: int
    merkle_root: str


def signature_payload(
    *,
    issuer: str,
    audience: str,
    signature_id: str,
    subject: str,
    manifestation: Manifestation,
    record: RecordRef,
    authn: Authentication,
    batch: BatchRef | None = None,
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "iss": issuer,
        "aud": audience,
        "jti": signature_id,
        "iat": int(manifestation.signed_at.timestamp()),
        "sub": subject,
        "manifest": {
            "printed_name": manifestation.printed_name,
            "username": manifestation.username,
            "signed_at": iso_utc(manifestation.signed_at),
            "meaning": manifestation.meaning,
            "statement": manifestation.statement,
            "reason": manifestation.reason,
        },
        "record": {
            "type": record.type,
            "id": record.id,
            "version": record.version,
            "digest": record.digest,
            **({"title": record.title} if record.title else {}),
        },
        "authn": authn.claims(),
    }
    if batch is not None:
        payload["batch"] = {
            "id": batch.id,
            "index": batch.index,
            "size": batch.size,
            "merkle_root": batch.merkle_root,
        }
    return payload


def sign_token(payload: dict[str, Any], kid: str, alg: str, key: PrivateKey) -> str:
    return sign_compact({"alg": alg, "kid": kid, "typ": TOKEN_TYPE}, payload, key)
