"""The identity registry: unique identifiers forever, states, verification, certification."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from idgov.alerts.models import Alert
from idgov.db import transaction
from idgov.errors import Conflict, Forbidden, IdentifierReused, InvalidRequest
from idgov.identity.certification import statement_for
from idgov.identity.creation import NewIdentity
from idgov.identity.models import Identity, IdentityStatus, Role
from idgov.wiring import Services
from tests.functional.people import actions, load


def create(services: Services, username: str, **extra: object) -> str:
    with transaction(services.sessions) as session:
        identity = services.identities.create(
            session,
            NewIdentity(
                username,
                extra.pop("name", username.title()),
                f"{username.strip()}@example.com",
                **extra,
            ),  # type: ignore[arg-type]
        )
        return identity.id


@pytest.mark.req("UNQ-1")
def test_username_is_normalized_and_bound_once(services: Services) -> None:
    person = create(services, "  JDoe ")
    assert load(services, person).username == "jdoe"
    assert {"identity:identity:created", "identity:identifier:bound"} <= set(actions(services))


@pytest.mark.req("UNQ-1")
@pytest.mark.parametrize("status", [IdentityStatus.ACTIVE, IdentityStatus.DEACTIVATED])
def test_used_username_is_never_given_to_another_person(services: Services, status: str) -> None:
    first = create(services, "jdoe", name="John Doe", roles=(Role.ADMIN,))
    if status == IdentityStatus.DEACTIVATED:
        with transaction(services.sessions) as session:
            services.identities.transition(
                session, session.get(Identity, first), IdentityStatus.DEACTIVATED, "left"
            )
    with pytest.raises(IdentifierReused, match="never reassigned"):
        create(services, "JDOE", name="Jane Doe")
    with services.sessions() as session:
        people = session.scalars(select(Identity)).all()
        alert = session.scalars(select(Alert).where(Alert.kind == "identifier-reuse")).one()
    assert [p.printed_name for p in people] == ["John Doe"]  # nothing else was created
    assert alert.identity_id == first
    assert "identity:identifier:reuse-refused" in actions(services)  # the refusal is kept


@pytest.mark.req("UNQ-1")
def test_subject_binds_to_one_identity(services: Services) -> None:
    create(services, "alice", provider="ldap:corp", subject="entry-uuid-1")
    with pytest.raises(IdentifierReused):
        create(services, "alice2", provider="ldap:corp", subject="entry-uuid-1")


@pytest.mark.req("UNQ-1")
def test_ledger_rows_cannot_be_changed_or_removed(services: Services) -> None:
    create(services, "jdoe")
    for statement in (
        "UPDATE identifier_bindings SET value = 'x'",
        "DELETE FROM identifier_bindings",
    ):
        with pytest.raises(DatabaseError, match="append-only"), services.engine.begin() as conn:
            conn.execute(text(statement))


@pytest.mark.req("UNQ-1")
def test_rehire_relinks_the_same_identity(services: Services) -> None:
    person = create(services, "jdoe", provider="ldap:corp", subject="old-guid")
    with transaction(services.sessions) as session:
        identity = session.get(Identity, person)
        assert identity is not None
        services.identities.transition(session, identity, IdentityStatus.DEACTIVATED, "left")
        services.identities.rehire(session, identity, "returned", "ldap:corp", "new-guid")
    assert load(services, person).status == IdentityStatus.PENDING_VERIFICATION
    assert services.ledger.owner(services.sessions(), "subject", "ldap:corp", "new-guid") == person


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("username", "has space"),
        ("username", "x" * 65),
        ("username", ""),
        ("email", "nope"),
        ("printed_name", " "),
        ("roles", ("pope",)),
    ],
)
def test_bad_input_names_the_field_and_changes_nothing(
    services: Services, field: str, value: object
) -> None:
    values: dict[str, object] = {
        "username": "ok",
        "printed_name": "Ok",
        "email": "ok@example.com",
        field: value,
    }
    with pytest.raises(InvalidRequest) as error, transaction(services.sessions) as session:
        services.identities.create(session, NewIdentity(**values))  # type: ignore[arg-type]
    assert error.value.extensions["field"] == field
    assert actions(services) == []


def test_manager_loop_is_refused(services: Services) -> None:
    boss = create(services, "boss")
    worker = create(services, "worker", manager_id=boss)
    with pytest.raises(InvalidRequest, match="loop"), transaction(services.sessions) as session:
        services.identities.set_manager(session, session.get(Identity, boss), worker, "swap")
    with pytest.raises(InvalidRequest, match="loop"), transaction(services.sessions) as session:
        services.identities.set_manager(session, session.get(Identity, boss), boss, "self")


def test_transitions_follow_the_state_machine_and_need_a_reason(services: Services) -> None:
    person = create(services, "jdoe")
    with pytest.raises(Conflict), transaction(services.sessions) as session:
        services.identities.transition(session, session.get(Identity, person), "locked", "no")
    with pytest.raises(InvalidRequest), transaction(services.sessions) as session:
        services.identities.transition(session, session.get(Identity, person), "suspended", " ")
    with transaction(services.sessions) as session:
        services.identities.transition(session, session.get(Identity, person), "suspended", "leave")
    assert load(services, person).status == "suspended"
    assert "identity:status:suspended" in actions(services)


@pytest.mark.req("IDV-1")
def test_verification_needs_someone_else_with_authority(services: Services) -> None:
    officer = create(services, "officer", roles=(Role.SECURITY_OFFICER,))
    plain = create(services, "plain")
    person = create(services, "jdoe")
    with transaction(services.sessions) as session:
        me, them, nobody = (session.get(Identity, i) for i in (person, officer, plain))
        assert me and them and nobody  # noqa: PT018 - narrows the types for mypy
        with pytest.raises(Forbidden, match="own identity"):
            services.identities.record_verification(session, them, them, "passport")
        with pytest.raises(Forbidden, match="admin or a security officer"):
            services.identities.record_verification(session, me, nobody, "passport")
        services.identities.record_verification(session, me, them, "passport", "P-123")
        assert services.identities.is_verified(session, me)
    assert load(services, person).status == IdentityStatus.ACTIVE


@pytest.mark.req("TRN-1")
def test_certification_keeps_the_statement_and_time(services: Services) -> None:
    person = create(services, "jdoe", name="John Doe")
    with transaction(services.sessions) as session:
        me = session.get(Identity, person)
        assert me is not None
        assert not services.identities.is_certified(session, me)
        record = services.identities.certify(
            session, me, statement_for(me.printed_name), "web", "192.0.2.1"
        )
        assert "John Doe" in record.statement
        assert services.identities.is_certified(session, me)


@pytest.mark.req("IDV-1")
def test_a_rehired_person_is_verified_again_before_becoming_active(services: Services) -> None:
    officer = create(services, "officer", roles=(Role.SECURITY_OFFICER,))
    person = create(services, "jdoe")
    with transaction(services.sessions) as session:
        me, them = session.get(Identity, person), session.get(Identity, officer)
        assert me is not None
        assert them is not None
        services.identities.record_verification(session, me, them, "passport")
        services.identities.transition(session, me, IdentityStatus.DEACTIVATED, "left")
        services.identities.rehire(session, me, "returned")
        assert not services.identities.is_verified(session, me)  # the old record no longer counts
        with pytest.raises(Conflict, match="verification"):
            services.identities.transition(session, me, IdentityStatus.ACTIVE, "skip it")
    with transaction(services.sessions) as session:
        me, them = session.get(Identity, person), session.get(Identity, officer)
        assert me is not None
        assert them is not None
        services.identities.record_verification(session, me, them, "passport")
    assert load(services, person).status == IdentityStatus.ACTIVE
