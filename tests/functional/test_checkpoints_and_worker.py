"""Signed audit checkpoints (AUD-4), fail-closed keys, and the worker that issues checkpoints."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from sqlalchemy import func, select

from idgov.audit.checkpoints import CHECKPOINT_TYP
from idgov.audit.context import Target
from idgov.audit.models import AuditCheckpoint, AuditHead
from idgov.clock import FrozenClock
from idgov.config import KeySettings, Settings
from idgov.db import transaction
from idgov.errors import KeyUnavailable
from idgov.jobs.leases import JobLeases
from idgov.jobs.models import JobLease
from idgov.keys.jws import b64url_decode, read_header, verify_compact
from idgov.keys.models import SigningKey
from idgov.wiring import Services, build_services
from idgov.worker import Worker

JOB = "audit-checkpoint"
ServicesFactory = Callable[[KeySettings], Services]


def append(services: Services, count: int) -> None:
    for index in range(count):
        with transaction(services.sessions) as session:
            services.trail.record(session, "test:widget:changed", Target("widget", str(index)))


def create_key(services: Services, purpose: str = "audit") -> SigningKey:
    with transaction(services.sessions) as session:
        return services.keys.create(session, purpose, reason="test setup")


def issue(services: Services) -> AuditCheckpoint:
    with transaction(services.sessions) as session:
        return services.checkpoints.issue(session)


def head(services: Services) -> tuple[int, str]:
    with services.sessions() as session:
        row = session.execute(select(AuditHead.seq, AuditHead.hash)).one()
    return row.seq, row.hash


def checkpoint_count(services: Services) -> int:
    with services.sessions() as session:
        return session.execute(select(func.count()).select_from(AuditCheckpoint)).scalar_one()


@pytest.fixture
def services_with(settings: Settings, clock: FrozenClock) -> Iterator[ServicesFactory]:
    """Builds further Services on the same database with other key settings."""
    built: list[Services] = []

    def build(keys: KeySettings) -> Services:
        extra = build_services(settings.model_copy(update={"keys": keys}), clock)
        built.append(extra)
        return extra

    yield build
    for extra in built:
        extra.engine.dispose()


@pytest.mark.req("AUD-4")
def test_checkpoint_signs_size_and_head_hash(services: Services, clock: FrozenClock) -> None:
    key = create_key(services)
    append(services, 3)
    checkpoint = issue(services)
    size, head_hash = head(services)
    assert size == 4  # the key creation is itself an audit event
    assert (checkpoint.size, checkpoint.head_hash, checkpoint.kid) == (size, head_hash, key.kid)
    assert checkpoint.issued_at == clock.now()
    header = read_header(checkpoint.token)
    assert header == {"alg": "EdDSA", "kid": key.kid, "typ": CHECKPOINT_TYP}
    with services.sessions() as session:
        public = services.keys.public_key(session, key.kid)
    assert public is not None
    payload = verify_compact(checkpoint.token, public)
    assert payload["size"] == size
    assert payload["head_hash"] == head_hash
    assert payload["issued_at"] == "2026-03-02T09:30:00.000000Z"
    assert payload["iss"] == services.settings.server.base_url


@pytest.mark.req("AUD-4")
def test_exported_checkpoint_reads_back_as_its_claim(services: Services) -> None:
    create_key(services)
    append(services, 2)
    with transaction(services.sessions) as session:
        checkpoint = services.checkpoints.issue(session)
        document = services.checkpoints.export_document(session, checkpoint)
    with services.sessions() as session:
        claim = services.checkpoints.read_claim(session, json.dumps(document))
    assert (claim.size, claim.head_hash) == head(services) == (3, checkpoint.head_hash)
    assert claim.kid == checkpoint.kid
    assert [k["kid"] for k in document["jwks"]["keys"]] == [checkpoint.kid]


@pytest.mark.req("AUD-4")
def test_issue_without_an_audit_key_is_refused(services: Services) -> None:
    create_key(services, "signature")  # a key of another purpose does not count
    with pytest.raises(KeyUnavailable, match="no audit signing key"):
        issue(services)
    assert checkpoint_count(services) == 0


@pytest.mark.req("AUD-4")
def test_wrong_key_passphrase_fails_closed(
    services: Services, services_with: ServicesFactory
) -> None:
    create_key(services)
    wrong = services_with(KeySettings(passphrase="not-the-passphrase"))
    with pytest.raises(KeyUnavailable, match="cannot be decrypted"):
        issue(wrong)
    assert checkpoint_count(services) == 0


def test_missing_key_passphrase_fails_closed(
    services: Services, services_with: ServicesFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    create_key(services)
    monkeypatch.delenv("IDGOV_UNSET_PASSPHRASE", raising=False)
    unset = services_with(KeySettings(passphrase="env://IDGOV_UNSET_PASSPHRASE"))
    with pytest.raises(KeyUnavailable, match="passphrase unavailable"):
        issue(unset)
    assert checkpoint_count(services) == 0


def test_keys_are_stored_encrypted(services: Services) -> None:
    key = create_key(services)
    with services.sessions() as session:
        stored = session.get(SigningKey, key.kid)
    assert stored is not None
    assert stored.private_key.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    with pytest.raises(TypeError, match="encrypted"):
        load_pem_private_key(stored.private_key, password=None)
    # A wrong passphrase fails the padding check, or (about one time in 256, when the
    # garbage happens to end in valid padding) the ASN.1 parse of what it decrypted to.
    with pytest.raises(ValueError, match=r"(?i)incorrect password|bad decrypt|deserialize"):
        load_pem_private_key(stored.private_key, password=b"wrong")


@pytest.mark.req("AUD-4")
def test_es256_installation_issues_checkpoints_that_verify(
    services_with: ServicesFactory,
) -> None:
    es256 = services_with(KeySettings(passphrase="test-key-passphrase", algorithm="ES256"))
    key = create_key(es256)
    checkpoint = issue(es256)
    assert key.alg == "ES256"
    assert read_header(checkpoint.token)["alg"] == "ES256"
    with es256.sessions() as session:
        jwk = es256.keys.jwks(session)["keys"][0]
        claim = es256.checkpoints.read_claim(session, checkpoint.token)
    assert (jwk["kty"], jwk["crv"]) == ("EC", "P-256")
    assert (claim.size, claim.head_hash) == head(es256)
    # Independently of idgov: the JWK's point verifies the raw r || s signature.
    numbers = ec.EllipticCurvePublicNumbers(
        int.from_bytes(b64url_decode(jwk["x"]), "big"),
        int.from_bytes(b64url_decode(jwk["y"]), "big"),
        ec.SECP256R1(),
    )
    signing_input, _, signature_part = checkpoint.token.rpartition(".")
    signature = b64url_decode(signature_part)
    assert len(signature) == 64
    der = encode_dss_signature(
        int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    )
    numbers.public_key().verify(der, signing_input.encode("ascii"), ec.ECDSA(hashes.SHA256()))


@pytest.mark.req("AUD-4")
def test_issue_if_due_respects_interval_and_growth(services: Services, clock: FrozenClock) -> None:
    interval = services.checkpoint_interval
    create_key(services)

    def issue_if_due() -> AuditCheckpoint | None:
        with transaction(services.sessions) as session:
            return services.checkpoints.issue_if_due(session, interval)

    first = issue_if_due()
    assert first is not None  # no checkpoint yet: due at once
    assert first.size == 1
    assert issue_if_due() is None  # nothing new, no time passed

    append(services, 2)
    clock.advance(interval - timedelta(seconds=1))
    assert issue_if_due() is None  # the chain grew, but the interval has not passed

    clock.advance(timedelta(seconds=1))
    second = issue_if_due()
    assert second is not None
    assert second.size == 3

    clock.advance(interval * 3)
    assert issue_if_due() is None  # time passed, but the chain has not grown
    assert checkpoint_count(services) == 2


def test_worker_issues_a_due_checkpoint(services: Services, clock: FrozenClock) -> None:
    create_key(services)
    Worker(services).run_once()
    assert checkpoint_count(services) == 1
    with services.sessions() as session:
        lease = session.get(JobLease, JOB)
    assert lease is not None
    assert (lease.holder, lease.lease_until, lease.last_run_at) == (None, None, clock.now())

    Worker(services).run_once()  # not due: nothing new in the chain
    assert checkpoint_count(services) == 1


def test_failing_job_is_retried_on_the_next_run(services: Services) -> None:
    worker = Worker(services)
    worker.run_once()  # no audit key yet: KeyUnavailable is logged, not raised
    assert checkpoint_count(services) == 0
    create_key(services)
    worker.run_once()
    assert checkpoint_count(services) == 1


def test_a_failed_job_frees_its_lease_at_once(services: Services, clock: FrozenClock) -> None:
    Worker(services).run_once()  # no audit key yet: the job fails and is rolled back
    with services.sessions() as session:
        lease = session.get(JobLease, JOB)
    assert lease is not None
    assert (lease.holder, lease.lease_until, lease.last_run_at) == (None, None, None)

    create_key(services)
    with transaction(services.sessions) as session:  # another worker need not wait the timeout
        assert JobLeases(clock, "other-host:1").acquire(session, JOB, timedelta(minutes=5))


def test_worker_skips_a_job_whose_lease_another_worker_holds(services: Services) -> None:
    create_key(services)
    with transaction(services.sessions) as session:
        assert JobLeases(services.clock, "other-host:1").acquire(session, JOB, timedelta(minutes=5))
    Worker(services).run_once()
    assert checkpoint_count(services) == 0


def test_only_one_holder_takes_a_held_lease(services: Services, clock: FrozenClock) -> None:
    lease = timedelta(minutes=5)
    first, second = JobLeases(clock, "worker-a"), JobLeases(clock, "worker-b")

    def acquire(leases: JobLeases) -> bool:
        with transaction(services.sessions) as session:
            return leases.acquire(session, JOB, lease)

    assert acquire(first)
    assert not acquire(second)
    assert acquire(first)  # the holder may renew its own lease

    clock.advance(lease + timedelta(seconds=1))
    assert acquire(second)  # an expired lease is free
    assert not acquire(first)

    with transaction(services.sessions) as session:
        second.finish(session, JOB)
    assert acquire(first)  # a finished lease is free at once


def test_concurrent_workers_take_the_lease_once(services: Services, clock: FrozenClock) -> None:
    holders = [JobLeases(clock, f"worker-{n}") for n in range(6)]
    barrier = threading.Barrier(len(holders))
    results: list[bool] = []
    errors: list[BaseException] = []

    def contend(leases: JobLeases) -> None:
        try:
            barrier.wait()
            with transaction(services.sessions) as session:
                results.append(leases.acquire(session, JOB, timedelta(minutes=5)))
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=contend, args=(h,)) for h in holders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(results) == [False] * 5 + [True]
