"""Loss cases: report, deauthorization, re-verification, temporary and permanent replacement."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from idgov.alerts.models import Alert, AlertDelivery
from idgov.clock import FrozenClock
from idgov.db import transaction
from idgov.errors import Conflict, Forbidden, NotEligible, NotFound
from idgov.sessions.models import WebSession
from idgov.signatures.models import SigningSession
from idgov.tokens.models import LossCase, OtpToken
from idgov.wiring import Services
from tests.functional.loss_support import (
    SOC,
    Team,
    add_token,
    case_of,
    report,
    team,
    temporary,
    use,
    verify,
    who,
)
from tests.functional.people import PASSWORD, events
from tests.functional.signing import SOURCE, prepare, request, signer

__all__ = ["team"]  # the fixture


def token_status(services: Services, token_id: str) -> OtpToken:
    with services.sessions() as session:
        found = session.get(OtpToken, token_id)
        assert found is not None
        return found


def suspended(services: Services, identity_id: str) -> bool:
    with services.sessions() as session:
        return services.loss.signing_suspended(session, who(services, identity_id))


@pytest.mark.req("LOSS-1")
@pytest.mark.parametrize("reporter", ["owner", "manager", "officer"])
def test_the_owner_their_manager_or_security_may_report(
    services: Services, team: Team, reporter: str
) -> None:
    token = add_token(services, team.owner)
    case = case_of(services, report(services, team.owner, getattr(team, reporter)))
    assert case.status == "deauthorized"
    assert case.deauthorized_at == case.reported_at  # same transaction, same clock reading
    assert case.token_id == token
    assert token_status(services, token).status == "disabled"


@pytest.mark.req("LOSS-1")
def test_a_report_by_someone_without_the_right_is_refused_and_audited(
    services: Services, team: Team
) -> None:
    token = add_token(services, team.owner)
    with pytest.raises(Forbidden):
        report(services, team.owner, team.stranger)
    refused = events(services, "loss:report:refused")
    assert len(refused) == 1
    assert refused[0].target_id == team.owner
    with services.sessions() as session:
        assert session.scalars(select(LossCase)).first() is None
    assert token_status(services, token).status == "active"


@pytest.mark.req("LOSS-1")
def test_the_report_deauthorizes_at_once(
    services: Services, team: Team, clock: FrozenClock
) -> None:
    token = add_token(services, team.owner)
    with transaction(services.sessions) as session:
        services.web_sessions.start(session, team.owner, "192.0.2.1")
    case_id = report(services, team.owner, team.officer, kind="stolen")
    disabled = token_status(services, token)
    assert disabled.status_reason == "loss-report: stolen"
    assert disabled.status_changed_at == clock.now()
    with services.sessions() as session:
        rows = session.scalars(select(WebSession).where(WebSession.identity_id == team.owner))
        assert [row.revoke_reason for row in rows] == ["loss-report"]
    assert suspended(services, team.owner)
    assert [e.target_id for e in events(services, "credential:token:disabled")] == [token]
    assert events(services, "loss:case:deauthorized")[0].target_id == case_id


@pytest.mark.req("LOSS-1")
def test_a_compromised_password_must_be_changed_and_no_longer_works(
    services: Services, team: Team
) -> None:
    report(services, team.owner, team.owner, credential="password", kind="compromised")
    owner = who(services, team.owner)
    with services.sessions() as session:
        assert services.passwords.status(session, owner).must_change
        assert not services.passwords.verify(session, owner, PASSWORD)
    assert events(services, "credential:password:compromised")[0].target_id == team.owner


@pytest.mark.req("LOSS-1")
def test_signing_sessions_end_and_the_owner_cannot_sign(services: Services) -> None:
    host, admin = prepare(services)
    owner = signer(services, "jdoe", admin)
    first = services.signatures.sign(request("jdoe"), host, SOURCE)
    report(services, owner, owner, credential="card")
    with services.sessions() as session:
        row = session.get(SigningSession, first.session.id)
        assert row is not None
        assert row.revoke_reason == "loss-report"
        assert row.revoked_at is not None
    with pytest.raises(NotEligible) as refused:
        services.signatures.sign(request("jdoe"), host, SOURCE)
    assert refused.value.extensions["reasons"] == ["credential-loss"]


@pytest.mark.req("ALERT-1")
@pytest.mark.req("LOSS-1")
def test_security_and_the_manager_are_alerted(services: Services, team: Team) -> None:
    report(services, team.owner, team.owner)
    with services.sessions() as session:
        alert = session.scalars(select(Alert).where(Alert.kind == "credential-loss")).one()
        recipients = set(
            session.scalars(
                select(AlertDelivery.recipient).where(AlertDelivery.alert_id == alert.id)
            )
        )
    assert alert.identity_id == team.owner
    assert recipients == {SOC, "mona@example.com"}


@pytest.mark.req("LOSS-1")
@pytest.mark.req("LOSS-2")
def test_a_case_only_moves_forward(services: Services, team: Team) -> None:
    add_token(services, team.owner)
    case_id = report(services, team.owner, team.manager)
    with pytest.raises(Conflict):
        temporary(services, case_id, team.officer)  # not re-verified yet
    verify(services, case_id, team.officer)
    with pytest.raises(Conflict):
        verify(services, case_id, team.second)  # once only
    replacement = add_token(services, team.owner)
    with transaction(services.sessions) as session:
        services.loss.complete_replacement(session, case_id, replacement)
    for step in (
        lambda: verify(services, case_id, team.second),
        lambda: temporary(services, case_id, team.officer),
    ):
        with pytest.raises(Conflict):
            step()
    assert case_of(services, case_id).status == "replaced"


@pytest.mark.req("LOSS-2")
@pytest.mark.parametrize("verifier", ["officer", "owner", "manager"])
def test_re_verification_by_the_reporter_owner_or_a_non_officer_is_refused(
    services: Services, team: Team, verifier: str
) -> None:
    # tess (an officer) is the owner here; sam (an officer) reports; mona is no officer.
    case_id = report(services, team.second, team.officer, credential="card")
    chosen = {"officer": team.officer, "owner": team.second, "manager": team.manager}[verifier]
    with pytest.raises(Forbidden):
        verify(services, case_id, chosen)
    assert len(events(services, "loss:verify:refused")) == 1
    assert case_of(services, case_id).status == "deauthorized"


@pytest.mark.req("LOSS-2")
def test_the_temporary_credential_has_three_uses(services: Services, team: Team) -> None:
    case_id = report(services, team.owner, team.owner, credential="card")
    verify(services, case_id, team.officer)
    code = temporary(services, case_id, team.second)
    assert not use(services, team.owner, "not-the-code")
    assert not use(services, team.stranger, code)  # someone else's
    assert [use(services, team.owner, code) for _ in range(4)] == [True, True, True, False]
    reasons = [e.reason for e in events(services, "loss:temporary:refused")]
    assert reasons == ["no-match", "no-match", "exhausted"]
    stored = case_of(services, case_id).temporary_secret_hash
    assert stored is not None
    assert code not in stored  # kept only as its hash


@pytest.mark.req("LOSS-2")
def test_the_temporary_credential_expires_after_24_hours(
    services: Services, team: Team, clock: FrozenClock
) -> None:
    case_id = report(services, team.owner, team.owner, credential="card")
    verify(services, case_id, team.officer)
    code = temporary(services, case_id, team.officer)
    clock.advance(timedelta(hours=23, minutes=59))
    assert use(services, team.owner, code)
    clock.advance(timedelta(minutes=1))
    assert not use(services, team.owner, code)
    assert [e.reason for e in events(services, "loss:temporary:refused")] == ["expired"]


@pytest.mark.req("LOSS-2")
def test_the_permanent_replacement_ends_the_case_and_the_suspension(
    services: Services, team: Team, clock: FrozenClock
) -> None:
    lost = add_token(services, team.owner)
    case_id = report(services, team.owner, team.owner)
    verify(services, case_id, team.officer)
    code = temporary(services, case_id, team.officer)
    untested = add_token(services, team.owner, tested=False)
    others = add_token(services, team.stranger)
    for token, error in ((lost, Conflict), (untested, Conflict), (others, NotFound)):
        with pytest.raises(error), transaction(services.sessions) as session:
            services.loss.complete_replacement(session, case_id, token)
    clock.advance(timedelta(hours=2))
    new = add_token(services, team.owner)
    with transaction(services.sessions) as session:
        services.loss.complete_replacement(session, case_id, new, by=who(services, team.owner))
    case = case_of(services, case_id)
    assert (case.status, case.replacement_token_id, case.replaced_at) == (
        "replaced",
        new,
        clock.now(),
    )
    assert not use(services, team.owner, code)  # the temporary credential ended with it
    assert not suspended(services, team.owner)


@pytest.mark.req("LOSS-1")
@pytest.mark.req("LOSS-2")
def test_the_case_record_shows_every_step_and_the_sla(
    services: Services, team: Team, clock: FrozenClock
) -> None:
    add_token(services, team.owner)
    case_id = report(services, team.owner, team.manager)
    clock.advance(timedelta(minutes=30))
    verify(services, case_id, team.officer)
    code = temporary(services, case_id, team.second)
    assert use(services, team.owner, code)
    clock.advance(timedelta(hours=3))
    new = add_token(services, team.owner)
    with transaction(services.sessions) as session:
        services.loss.complete_replacement(session, case_id, new)
    with services.sessions() as session:
        record = services.loss.case_record(session, case_id)
    steps = [(s["step"], s["actor"]) for s in record["timeline"]]
    assert steps == [
        ("case:reported", "mona"),
        ("case:deauthorized", "idgov system"),
        ("case:verified", "sam"),
        ("case:temporary-issued", "tess"),
        ("temporary:used", "idgov system"),
        ("case:replaced", "idgov system"),
    ]
    assert all(step["time"] and step["reason"] for step in record["timeline"][:4])
    assert record["sla"]["report_to_deauthorization_seconds"] == 0
    assert record["sla"]["report_to_replacement_seconds"] == 3.5 * 3600
    assert record["verified_by"]["username"] == "sam"
    assert record["verification_evidence"] == "passport, in person"
