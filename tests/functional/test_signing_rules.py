"""Signing order (SEQ-1) and batches: declared steps, same-signer rule, all-or-nothing batches."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select

from idgov.clients.models import HostClient
from idgov.db import transaction
from idgov.errors import NotFound, OutOfSequence, UnprocessableRequest
from idgov.signatures.merkle import merkle_root
from idgov.signatures.models import Signature
from idgov.wiring import Services
from tests.functional.people import events
from tests.functional.signing import SOURCE, prepare, record, request, signer, verified

STEPS = ["authorship", "review", "approval"]


@pytest.fixture
def host(services: Services) -> HostClient:
    client, admin = prepare(services)
    for username in ("author", "reviewer", "approver"):
        signer(services, username, admin)
    return client


def signatures(services: Services) -> int:
    with services.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Signature)) or 0)


def refused(
    services: Services, host: HostClient, username: str, meaning: str, **extra: object
) -> str:
    with pytest.raises(OutOfSequence) as caught:
        services.signatures.sign(request(username, meaning, **extra), host, SOURCE)
    assert caught.value.status == 409
    reason: str = caught.value.extensions["reason"]
    return reason


@pytest.mark.req("SEQ-1")
def test_a_declared_order_is_enforced_step_by_step(services: Services, host: HostClient) -> None:
    services.signatures.declare_sequence(host, "sop", STEPS, allow_same=False)

    assert refused(services, host, "reviewer", "review") == "out-of-order"
    assert refused(services, host, "approver", "approval") == "out-of-order"
    services.signatures.sign(request("author", "authorship"), host, SOURCE)
    assert refused(services, host, "reviewer", "authorship") == "step-already-signed"
    assert refused(services, host, "author", "review") == "same-signer"
    assert refused(services, host, "approver", "responsibility") == "meaning-not-in-sequence"
    services.signatures.sign(request("reviewer", "review"), host, SOURCE)
    services.signatures.sign(request("approver", "approval"), host, SOURCE)

    assert signatures(services) == 3
    # Another version of the record starts its own order.
    assert refused(services, host, "approver", "approval", record=record(version="5")) == (
        "out-of-order"
    )
    refusals = events(services, "signature:signing:refused")
    assert len(refusals) == 6
    assert json.loads(refusals[0].new_values)["reasons"] == ["out-of-order"]


@pytest.mark.req("SEQ-1")
def test_one_person_may_sign_two_steps_when_the_host_allows_it(
    services: Services, host: HostClient
) -> None:
    services.signatures.declare_sequence(host, "sop", STEPS, allow_same=True)
    services.signatures.sign(request("author", "authorship"), host, SOURCE)
    services.signatures.sign(request("author", "review"), host, SOURCE)
    assert signatures(services) == 2


@pytest.mark.req("SEQ-1")
def test_without_a_declared_order_any_configured_meaning_is_signed(
    services: Services, host: HostClient
) -> None:
    services.signatures.declare_sequence(host, "batch-record", STEPS, allow_same=False)
    services.signatures.sign(request("approver", "approval"), host, SOURCE)  # record type sop
    with transaction(services.sessions) as session:
        mes, _ = services.clients.add(session, "mes", ["signatures"])
    # An order declared by one host governs its own signatures only.
    services.signatures.declare_sequence(host, "sop", STEPS, allow_same=False)
    services.signatures.sign(request("approver", "approval", record=record("X-1")), mes, SOURCE)
    assert signatures(services) == 2


@pytest.mark.req("SEQ-1")
def test_declaring_an_order_checks_and_audits_it(services: Services, host: HostClient) -> None:
    with pytest.raises(UnprocessableRequest) as unknown:
        services.signatures.declare_sequence(host, "sop", ["authorship", "sign-off"], False)
    assert unknown.value.extensions["field"] == "meanings"
    with pytest.raises(UnprocessableRequest):
        services.signatures.declare_sequence(host, "sop", ["review", "review"], False)
    with pytest.raises(NotFound):
        services.signatures.sequence(host, "sop")

    services.signatures.declare_sequence(host, "sop", STEPS, False)
    services.signatures.declare_sequence(host, "sop", ["review", "approval"], True)
    declared = services.signatures.sequence(host, "sop")
    assert (declared.meanings, declared.allow_same_signer) == (["review", "approval"], True)
    audited = events(services, "signature:sequence:declared")
    assert len(audited) == 2
    assert json.loads(audited[1].old_values)["meanings"] == STEPS
    assert (audited[1].actor_type, audited[1].actor_id) == ("client", host.client_id)


def test_a_batch_signs_every_record_with_one_authentication(
    services: Services, host: HostClient
) -> None:
    records = [record(f"DOC-{index:03}") for index in range(500)]
    outcome = services.signatures.sign(request("approver", records=records), host, SOURCE)

    assert outcome.batch is not None
    digests = [r["digest"].removeprefix("sha256:") for r in records]
    assert outcome.batch.merkle_root == merkle_root(digests)
    assert len(outcome.signatures) == 500
    assert outcome.session.seq == 1
    for index in (0, 1, 499):
        payload = verified(services, outcome.signatures[index].token)
        assert payload["batch"] == {
            "id": outcome.batch.id,
            "index": index,
            "size": 500,
            "merkle_root": outcome.batch.merkle_root,
        }
        assert payload["record"]["id"] == f"DOC-{index:03}"
    assert len(events(services, "auth:signing:succeeded")) == 1
    assert len(events(services, "signature:record:signed")) == 500


def test_a_batch_is_refused_whole(services: Services, host: HostClient) -> None:
    with pytest.raises(ValidationError):
        request("approver", records=[record(f"D-{index}") for index in range(501)])
    duplicate = [record("D-1"), record("D-2"), record("D-1")]
    with pytest.raises(UnprocessableRequest) as repeated:
        services.signatures.sign(request("approver", records=duplicate), host, SOURCE)
    assert repeated.value.extensions["field"] == "records.2"

    # SEQ-1 refuses the third record: the first two are not signed either.
    services.signatures.declare_sequence(host, "sop", STEPS, allow_same=False)
    services.signatures.sign(request("author", "authorship", record=record("D-3")), host, SOURCE)
    batch = [record("D-1"), record("D-2"), record("D-3")]
    with pytest.raises(OutOfSequence) as caught:
        services.signatures.sign(request("author", "authorship", records=batch), host, SOURCE)
    assert caught.value.extensions["index"] == 2
    assert caught.value.extensions["record"] == "sop:D-3:4"
    assert signatures(services) == 1


def test_the_batch_size_is_policy(services: Services, host: HostClient) -> None:
    with transaction(services.sessions) as session:
        services.policies.change(
            session, "signing", {"max_batch": 2}, reason="small batches", changed_by="test"
        )
    records = [record(f"D-{index}") for index in range(3)]
    with pytest.raises(UnprocessableRequest) as refused_batch:
        services.signatures.sign(request("approver", records=records), host, SOURCE)
    assert refused_batch.value.extensions["field"] == "records"
    assert events(services, "auth:signing:succeeded") == []
