"""SignatureService: re-authentication, eligibility, sessions, sequencing, batches, audit."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from idgov.clients.models import HostClient
from idgov.clock import FrozenClock
from idgov.db import transaction
from idgov.errors import (
    InvalidCredentials,
    Locked,
    NotEligible,
    OutOfSequence,
    ProviderUnavailable,
    UnprocessableRequest,
)
from idgov.identity.eligibility import Blocker
from idgov.identity.models import IdentityStatus
from idgov.keys.jws import read_header
from idgov.signatures.models import Signature, SigningSession
from idgov.signatures.services import SignatureService
from idgov.signatures.tokens import TOKEN_TYPE
from idgov.wiring import Services
from tests.functional.people import events, load, temporary_password
from tests.functional.signing import SOURCE, prepare, record, request, signer, verified

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


@pytest.fixture
def host(services: Services) -> HostClient:
    return prepare(services)[0]


@pytest.fixture
def admin(services: Services, host: HostClient) -> str:
    with services.sessions() as session:
        found = services.identities.by_username(session, "admin1")
    assert found is not None
    return found.id


@pytest.fixture
def jdoe(services: Services, admin: str) -> str:
    return signer(services, "jdoe", admin, name="Jane Doe")


def count(services: Services, model: type[Signature] | type[SigningSession]) -> int:
    with services.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.mark.req("MAN-1")
@pytest.mark.req("LNK-1")
def test_signature_carries_the_manifestation_and_binds_the_record(
    services: Services, host: HostClient, jdoe: str
) -> None:
    outcome = services.signatures.sign(
        request("jdoe", reason="release for production"), host, SOURCE
    )

    issued = outcome.signatures[0]
    shown = issued.manifestation
    assert (shown.printed_name, shown.username, shown.meaning) == ("Jane Doe", "jdoe", "approval")
    assert shown.statement == "I approve this record."
    assert shown.signed_at == NOW
    assert shown.text().startswith("Electronically signed by Jane Doe (jdoe) on 2026-03-02 09:30")
    assert read_header(issued.token) == {
        "alg": "EdDSA",
        "kid": read_header(issued.token)["kid"],
        "typ": TOKEN_TYPE,
    }
    payload = verified(services, issued.token)
    assert payload["iss"] == services.settings.server.base_url
    assert payload["aud"] == host.client_id
    assert payload["sub"] == jdoe
    assert payload["jti"] == issued.id
    assert payload["iat"] == int(NOW.timestamp())
    assert payload["manifest"] == {
        "printed_name": "Jane Doe",
        "username": "jdoe",
        "signed_at": "2026-03-02T09:30:00.000000Z",
        "meaning": "approval",
        "statement": "I approve this record.",
        "reason": "release for production",
    }
    assert payload["record"] == record()
    assert "batch" not in payload
    with services.sessions() as session:
        row = session.get(Signature, issued.id)
        assert row is not None
        assert (row.token, row.identity_id, row.client_id) == (issued.token, jdoe, host.client_id)
        assert row.record_digest == record()["digest"]


@pytest.mark.req("MAN-1")
def test_the_servers_clock_signs_not_the_clients(
    services: Services, host: HostClient, jdoe: str
) -> None:
    sent = {**record(), "signed_at": "1999-12-31T23:59:59Z", "timestamp": 946684799}
    outcome = services.signatures.sign(
        request("jdoe", record=sent, signed_at="1999-12-31T23:59:59Z", iat=1, time="x"),
        host,
        SOURCE,
    )

    payload = verified(services, outcome.signatures[0].token)
    assert payload["manifest"]["signed_at"] == "2026-03-02T09:30:00.000000Z"
    assert payload["iat"] == int(NOW.timestamp())
    assert "signed_at" not in payload["record"]


@pytest.mark.req("CMP-1")
def test_a_signing_session_continues_on_the_password_until_it_idles_out(
    services: Services, clock: FrozenClock, host: HostClient, jdoe: str
) -> None:
    first = services.signatures.sign(request("jdoe"), host, SOURCE)
    assert first.session.seq == 1
    assert first.session.expires_at == NOW + timedelta(minutes=15)
    authn = verified(services, first.signatures[0].token)["authn"]
    assert authn["components"] == ["username", "password"]
    assert authn["signing_session"] == {"id": first.session.id, "seq": 1}
    assert authn["amr"] == ["pwd"]

    clock.advance(timedelta(minutes=14))
    second = services.signatures.sign(
        request("jdoe", signing_session=first.session.id, record=record("SOP-0043")), host, SOURCE
    )
    assert (second.session.id, second.session.seq) == (first.session.id, 2)
    assert second.session.expires_at == NOW + timedelta(minutes=29)
    authn = verified(services, second.signatures[0].token)["authn"]
    assert authn["signing_session"] == {"id": first.session.id, "seq": 2}

    clock.advance(timedelta(minutes=15))
    with pytest.raises(OutOfSequence) as ended:
        services.signatures.sign(
            request("jdoe", signing_session=first.session.id, record=record("SOP-0044")),
            host,
            SOURCE,
        )
    assert ended.value.extensions["reason"] == "signing-session-expired"
    fresh = services.signatures.sign(request("jdoe", record=record("SOP-0044")), host, SOURCE)
    assert fresh.session.id != first.session.id
    assert fresh.session.seq == 1


@pytest.mark.req("CMP-1")
def test_the_session_window_is_policy(
    services: Services, clock: FrozenClock, host: HostClient, jdoe: str
) -> None:
    with transaction(services.sessions) as session:
        services.policies.change(
            session, "signing", {"session_idle_minutes": 5}, reason="shorter", changed_by="test"
        )
    first = services.signatures.sign(request("jdoe"), host, SOURCE)
    assert first.session.expires_at == NOW + timedelta(minutes=5)

    clock.advance(timedelta(minutes=5))
    with pytest.raises(OutOfSequence) as ended:
        services.signatures.sign(
            request("jdoe", signing_session=first.session.id, record=record("SOP-9")), host, SOURCE
        )
    assert ended.value.extensions["reason"] == "signing-session-expired"


class FakeTokens:
    """An OtpVerifier for identities holding a token whose right code is 123456."""

    def __init__(self, holders: set[str]) -> None:
        self.holders = holders

    def holds_token(self, session: Session, identity_id: str) -> bool:
        return identity_id in self.holders

    def verify(self, session: Session, identity_id: str, code: str) -> bool:
        return code == "123456"

    def signing_blockers(self, session: Session, identity_id: str) -> list[Blocker]:
        return []


def with_tokens(services: Services, holders: set[str]) -> SignatureService:
    return SignatureService(
        services.sessions,
        services.clock,
        services.trail,
        services.policies,
        services.identities,
        services.auth,
        services.keys,
        issuer=services.settings.server.base_url,
        otp=FakeTokens(holders),
        temporary=services.loss,
    )


@pytest.mark.req("CMP-1")
def test_a_token_holder_signs_first_with_every_component_then_with_the_password(
    services: Services, host: HostClient, jdoe: str
) -> None:
    signing = with_tokens(services, {jdoe})

    with pytest.raises(InvalidCredentials) as missing:
        signing.sign(request("jdoe"), host, SOURCE)
    assert missing.value.extensions["reason"] == "otp-required"
    with pytest.raises(InvalidCredentials) as wrong:
        signing.sign(request("jdoe", otp="654321"), host, SOURCE)
    assert wrong.value.extensions["reason"] == "otp-invalid"
    assert count(services, Signature) == 0

    first = signing.sign(request("jdoe", otp="123456"), host, SOURCE)
    authn = verified(services, first.signatures[0].token)["authn"]
    assert authn["components"] == ["username", "password", "otp"]
    assert (authn["method"], authn["amr"]) == ("password+otp", ["pwd", "otp"])

    later = signing.sign(
        request("jdoe", signing_session=first.session.id, record=record("SOP-2")), host, SOURCE
    )
    authn = verified(services, later.signatures[0].token)["authn"]
    assert authn["components"] == ["username", "password"]
    assert authn["signing_session"]["seq"] == 2


@pytest.mark.req("TOK-1")
def test_a_policy_requiring_tokens_refuses_identities_without_one(
    services: Services, host: HostClient, jdoe: str
) -> None:
    with transaction(services.sessions) as session:
        services.policies.change(
            session, "signing", {"require_otp": "all"}, reason="tokens for all", changed_by="t"
        )
    with pytest.raises(NotEligible) as refused:
        services.signatures.sign(request("jdoe"), host, SOURCE)
    assert refused.value.extensions["reasons"] == ["no-token"]


@pytest.mark.req("CMP-2")
def test_a_temporary_password_cannot_sign(
    services: Services, host: HostClient, admin: str, jdoe: str
) -> None:
    temporary = temporary_password(services, jdoe)

    with pytest.raises(NotEligible) as refused:
        services.signatures.sign(request("jdoe", password=temporary), host, SOURCE)
    assert refused.value.extensions["reasons"] == ["temporary-password"]
    assert count(services, Signature) == 0
    refusal = json.loads(events(services, "signature:signing:refused")[0].new_values)
    assert refusal["reasons"] == ["temporary-password"]


@pytest.mark.req("PWD-3")
def test_an_expired_password_cannot_sign(
    services: Services, clock: FrozenClock, host: HostClient, jdoe: str
) -> None:
    clock.advance(timedelta(days=91))
    with pytest.raises(NotEligible) as refused:
        services.signatures.sign(request("jdoe"), host, SOURCE)
    assert refused.value.extensions["reasons"] == ["password-expired"]


@pytest.mark.req("TRN-1")
@pytest.mark.req("IDV-1")
def test_unverified_and_uncertified_identities_cannot_sign(
    services: Services, host: HostClient, admin: str
) -> None:
    signer(services, "newbie", admin, verified=False, certified=False)
    signer(services, "uncert", admin, certified=False)

    with pytest.raises(NotEligible) as newbie:
        services.signatures.sign(request("newbie"), host, SOURCE)
    assert newbie.value.extensions["reasons"] == ["unverified", "uncertified"]
    assert "11.100(b)" in newbie.value.detail
    with pytest.raises(NotEligible) as uncertified:
        services.signatures.sign(request("uncert"), host, SOURCE)
    assert uncertified.value.extensions["reasons"] == ["uncertified"]
    assert count(services, Signature) == 0


@pytest.mark.req("LOCK-1")
def test_wrong_signing_passwords_lock_the_identity(
    services: Services, host: HostClient, jdoe: str
) -> None:
    for _ in range(4):
        with pytest.raises(InvalidCredentials):
            services.signatures.sign(request("jdoe", password="wrong-password-1"), host, SOURCE)
    with pytest.raises(Locked):
        services.signatures.sign(request("jdoe", password="wrong-password-1"), host, SOURCE)

    assert load(services, jdoe).status == IdentityStatus.LOCKED
    with pytest.raises(Locked):
        services.signatures.sign(request("jdoe"), host, SOURCE)
    assert len(events(services, "auth:signing:failed")) == 5
    assert count(services, Signature) == 0


@pytest.mark.req("LOCK-3")
def test_an_unknown_username_is_answered_like_a_wrong_password(
    services: Services, host: HostClient, jdoe: str
) -> None:
    with pytest.raises(InvalidCredentials) as unknown:
        services.signatures.sign(request("nobody"), host, SOURCE)
    with pytest.raises(InvalidCredentials) as wrong:
        services.signatures.sign(request("jdoe", password="not-the-password"), host, SOURCE)
    assert unknown.value.to_problem() == wrong.value.to_problem()


@pytest.mark.req("AUD-1")
def test_each_signature_writes_one_audit_event(
    services: Services, host: HostClient, jdoe: str
) -> None:
    outcome = services.signatures.sign(
        request("jdoe", records=[record("A-1"), record("A-2")]), host, SOURCE
    )

    signed = events(services, "signature:record:signed")
    assert [e.target_id for e in signed] == ["sop:A-1:4", "sop:A-2:4"]
    values = json.loads(signed[0].new_values)
    assert values["signature_id"] == outcome.signatures[0].id
    assert values["manifest"]["statement"] == "I approve this record."
    assert values["record"]["digest"] == record("A-1")["digest"]
    assert values["client"] == {"client_id": host.client_id, "name": "lims"}
    assert (signed[0].actor_type, signed[0].actor_id) == ("identity", jdoe)


@pytest.mark.req("AUD-1")
def test_no_signature_is_kept_without_its_audit_event(
    services: Services, host: HostClient, jdoe: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = services.trail.record

    def failing(session: Session, action: str, *args: Any, **kwargs: Any) -> Any:
        if action == "signature:record:signed":
            assert session.scalar(select(func.count()).select_from(Signature)) == 1
            raise RuntimeError("audit append failed")
        return original(session, action, *args, **kwargs)

    monkeypatch.setattr(services.trail, "record", failing)
    with pytest.raises(RuntimeError):
        services.signatures.sign(request("jdoe"), host, SOURCE)

    assert count(services, Signature) == 0
    assert count(services, SigningSession) == 0


def test_a_database_failure_mid_request_signs_nothing_and_says_so(
    services: Services, host: HostClient, jdoe: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = services.trail.record

    def down(session: Session, action: str, *args: Any, **kwargs: Any) -> Any:
        if action == "signature:record:signed":
            raise OperationalError("INSERT", {}, Exception("server closed the connection"))
        return original(session, action, *args, **kwargs)

    monkeypatch.setattr(services.trail, "record", down)
    with pytest.raises(ProviderUnavailable) as refused:
        services.signatures.sign(request("jdoe"), host, SOURCE)
    assert refused.value.extensions["reason"] == "database-unavailable"
    assert refused.value.status == 503
    assert count(services, Signature) == 0


def test_without_a_signature_key_nothing_is_signed_and_no_password_is_spent(
    services: Services,
) -> None:
    client, admin = prepare(services, keys=False)
    signer(services, "jdoe", admin)

    with pytest.raises(ProviderUnavailable) as refused:
        services.signatures.sign(request("jdoe"), client, SOURCE)
    assert refused.value.type_slug == "provider-unavailable"
    assert refused.value.extensions["reason"] == "key-unavailable"
    assert events(services, "auth:signing:succeeded") == []


@pytest.mark.req("MAN-1")
def test_meanings_are_configured_per_client(
    services: Services, host: HostClient, jdoe: str
) -> None:
    meanings = [
        {"code": "approval", "statement": "I approve this record."},
        {"code": "qa-release", "statement": "I release this batch.", "clients": ["mes"]},
    ]
    with transaction(services.sessions) as session:
        services.policies.change(
            session, "signing", {"meanings": meanings}, reason="qa", changed_by="test"
        )
        mes, _ = services.clients.add(session, "mes", ["signatures"])

    with pytest.raises(UnprocessableRequest) as refused:
        services.signatures.sign(request("jdoe", meaning="qa-release"), host, SOURCE)
    assert refused.value.extensions == {"field": "meaning", "allowed": ["approval"]}
    with pytest.raises(UnprocessableRequest):
        services.signatures.sign(request("jdoe", meaning="review"), host, SOURCE)
    outcome = services.signatures.sign(request("jdoe", meaning="qa-release"), mes, SOURCE)
    assert outcome.signatures[0].manifestation.statement == "I release this batch."


def test_a_signing_session_is_not_continued_by_another_identity_or_host(
    services: Services, host: HostClient, admin: str, jdoe: str
) -> None:
    signer(services, "rsmith", admin)
    with transaction(services.sessions) as session:
        mes, _ = services.clients.add(session, "mes", ["signatures"])
    first = services.signatures.sign(request("jdoe"), host, SOURCE)

    attempts = [
        (request("rsmith", signing_session=first.session.id, record=record("B")), host),
        (request("jdoe", signing_session=first.session.id, record=record("C")), mes),
        (request("jdoe", signing_session="0" * 8 + "-0000-4000-8000-" + "0" * 12), host),
    ]
    problems = []
    for attempt, client in attempts:
        with pytest.raises(OutOfSequence) as refused:
            services.signatures.sign(attempt, client, SOURCE)
        problems.append(refused.value.to_problem())
    # Another person's session, another host's, or none at all: the same answer.
    assert problems[0] == problems[1] == problems[2]
    assert problems[0]["reason"] == "signing-session-mismatch"
    assert count(services, Signature) == 1
    with services.sessions() as session:
        kept = session.get(SigningSession, first.session.id)
        assert kept is not None
        assert kept.seq == 1
