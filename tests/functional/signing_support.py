"""Test helpers for reading and verifying signatures: stored signatures with real tokens."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

from idgov.clock import FrozenClock
from idgov.db import transaction
from idgov.keys.jws import b64url, b64url_decode
from idgov.keys.models import SigningKey
from idgov.policies.documents import Meaning
from idgov.signatures.issuing import HostRef, SignatureIssuer, Signer, SigningKeyPair
from idgov.signatures.models import Signature
from idgov.signatures.sessions import SigningSessions
from idgov.signatures.tokens import Authentication, RecordRef
from idgov.wiring import Services
from tests.functional.people import person

STATEMENTS = {
    "authorship": "I am the author of this record.",
    "review": "I have reviewed this record.",
    "approval": "I approve this record.",
}


def parts(token: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    """A compact JWS's header and payload, decoded, and its signature part as it is."""
    head, body, sig = token.split(".")
    return json.loads(b64url_decode(head)), json.loads(b64url_decode(body)), sig


def encode(value: dict[str, Any]) -> str:
    """A JWS header or payload part, as idgov encodes them (RFC 7515 section 7.1)."""
    return b64url(json.dumps(value, separators=(",", ":"), sort_keys=True).encode())


def digest_of(content: bytes) -> str:
    return "sha256:" + hashlib.sha256(content).hexdigest()


def record_ref(record_id: str = "SOP-0042", version: str = "4", kind: str = "sop") -> RecordRef:
    content = f"{kind}/{record_id}/{version}".encode()
    return RecordRef(kind, record_id, version, digest_of(content), f"Procedure {record_id}")


class SignatureMaker:
    """Signs with the installation's current signature key through idgov's own issuer (token,
    row and audit event), without the re-authentication of the signing service: tests choose
    signers, hosts and times freely."""

    def __init__(self, services: Services, clock: FrozenClock, host: str = "lims") -> None:
        self.services = services
        self.clock = clock
        self.issuer = services.settings.server.base_url
        with transaction(services.sessions) as session:
            if services.keys.active(session, "signature") is None:
                services.keys.create(session, "signature", reason="test setup")
            self.client_id = services.clients.add(session, host, ["signatures"])[0].client_id
        self.signers: dict[str, str] = {}

    def another_host(self, name: str) -> str:
        with transaction(self.services.sessions) as session:
            return self.services.clients.add(session, name, ["signatures"])[0].client_id

    def signer(self, username: str, name: str) -> str:
        if username not in self.signers:
            self.signers[username] = person(self.services, username, password=None, name=name)
        return self.signers[username]

    def sign(
        self,
        record: RecordRef | None = None,
        *,
        username: str = "jdoe",
        name: str = "Jane Doe",
        meaning: str = "approval",
        reason: str | None = None,
        client_id: str | None = None,
        step: timedelta = timedelta(minutes=1),
    ) -> Signature:
        """One signature a `step` after the previous one; returns the stored row."""
        self.clock.advance(step)
        identity_id, now = self.signer(username, name), self.clock.now()
        client = client_id or self.client_id
        with transaction(self.services.sessions) as session:
            key = self.services.keys.active(session, "signature")
            assert key is not None
            sessions = SigningSessions()
            started = sessions.start(session, identity_id=identity_id, client_id=client, now=now)
            seq = sessions.advance(
                session, started, now, timedelta(minutes=15), timedelta(hours=12)
            )
            (issued,), _ = SignatureIssuer(self.services.trail, self.issuer).issue(
                session,
                signer=Signer(identity_id, username, name),
                host=HostRef(client, "host"),
                meaning=Meaning(code=meaning, statement=STATEMENTS[meaning]),
                reason=reason,
                records=[record or record_ref()],
                authn=Authentication(("username", "password"), now, started.id, seq),
                signed_at=now,
                keys=SigningKeyPair(key, self.services.keys.private_key(key)),
                batched=False,
            )
            row = session.get(Signature, issued.id)
            assert row is not None
            return row

    def rotate(self) -> SigningKey:
        """A new signature key; the previous one is retired but stays published (LNK-2)."""
        with transaction(self.services.sessions) as session:
            return self.services.keys.create(session, "signature", reason="scheduled rotation")
