"""Test helpers for signatures: a host client, keys, eligible signers, requests, token checks."""

from __future__ import annotations

import hashlib
from typing import Any

from idgov.clients.models import HostClient
from idgov.db import transaction
from idgov.identity.certification import statement_for
from idgov.identity.models import Identity
from idgov.keys.jws import read_header, verify_compact
from idgov.signatures.requests import SignRequest
from idgov.wiring import Services
from tests.functional.people import PASSWORD, fast_hashing, person

SOURCE = "192.0.2.10"


def prepare(services: Services, host: str = "lims", keys: bool = True) -> tuple[HostClient, str]:
    """Cheap hashing, an audit and a signature key, a host client and an admin; returns the
    client and the admin's identity id."""
    fast_hashing(services)
    with transaction(services.sessions) as session:
        if keys:
            services.keys.create(session, "audit", reason="test setup")
            services.keys.create(session, "signature", reason="test setup")
        client, _secret = services.clients.add(session, host, ["signatures"])
    admin = person(services, "admin1", roles=("admin",), name="Ada Admin")
    return client, admin


def signer(
    services: Services,
    username: str,
    admin_id: str,
    *,
    verified: bool = True,
    certified: bool = True,
    name: str | None = None,
) -> str:
    """A person with a password; verified by `admin_id` and certified unless told otherwise."""
    identity_id = person(services, username, name=name)
    with transaction(services.sessions) as session:
        who = session.get(Identity, identity_id)
        assert who is not None
        if verified:
            admin = services.identities.get(session, admin_id)
            services.identities.record_verification(session, who, admin, "badge")
        if certified:
            services.identities.certify(
                session, who, statement_for(who.printed_name), "web", SOURCE
            )
    return identity_id


def digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def record(record_id: str = "SOP-0042", version: str = "4", kind: str = "sop") -> dict[str, Any]:
    return {
        "type": kind,
        "id": record_id,
        "version": version,
        "digest": digest(f"{kind}/{record_id}/{version}"),
        "title": f"Procedure {record_id}",
    }


def body(username: str, meaning: str = "approval", **extra: Any) -> dict[str, Any]:
    """A signing request body; `record` unless `records` is given."""
    found: dict[str, Any] = {"username": username, "password": PASSWORD, "meaning": meaning}
    found.update(extra)
    if "records" not in found and "record" not in found:
        found["record"] = record()
    return found


def request(username: str, meaning: str = "approval", **extra: Any) -> SignRequest:
    return SignRequest.model_validate(body(username, meaning, **extra))


def verified(services: Services, token: str) -> dict[str, Any]:
    """The payload of a signature token, checked with its published public key."""
    with services.sessions() as session:
        key = services.keys.public_key(session, read_header(token)["kid"])
    assert key is not None
    return verify_compact(token, key)
