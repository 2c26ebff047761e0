"""Sync faults against the real slapd: a recycled uid, accounts gone, bad entries, a wrong base."""

from __future__ import annotations

from datetime import timedelta

import pytest
from ldap3 import MODIFY_REPLACE
from sqlalchemy import select

from idgov.alerts.models import Alert
from idgov.clock import FrozenClock
from idgov.config import Settings
from idgov.db import transaction
from idgov.errors import (
    Conflict,
    InvalidCredentials,
    ProviderUnavailable,
    UnprocessableRequest,
)
from idgov.identity.models import IdentityStatus
from idgov.providers.directory.models import REFUSED, DirectoryAccount
from idgov.wiring import Services, build_services
from tests.functional.signing import SOURCE
from tests.harness.slapd import SlapdServer
from tests.integration.directory_support import (
    NAME,
    audited,
    change_password,
    identity_named,
    set_attribute,
    with_directory,
)

pytestmark = pytest.mark.integration
NEWCOMER_PASSWORD = "Newcomer-Pass-1"


@pytest.fixture
def settings(settings: Settings, own_slapd: SlapdServer) -> Settings:
    return with_directory(settings, own_slapd)


def add_person(slapd: SlapdServer, uid: str, cn: str, **extra: str | list[str]) -> str:
    dn = f"uid={uid},{slapd.people_dn}"
    attributes: dict[str, str | list[str]] = {
        "uid": uid,
        "cn": cn,
        "sn": cn.split()[-1],
        "mail": f"{uid}@idgov.test",
        "userPassword": NEWCOMER_PASSWORD,
    }
    attributes.update(extra)
    with slapd.admin_connection() as conn:
        assert conn.add(dn, ["inetOrgPerson"], attributes), conn.result
    return dn


def delete_entry(slapd: SlapdServer, dn: str) -> None:
    with slapd.admin_connection() as conn:
        conn.delete(dn)


def alerts_of(services: Services, kind: str) -> list[Alert]:
    with services.sessions() as session:
        return list(session.scalars(select(Alert).where(Alert.kind == kind)))


@pytest.mark.req("UNQ-1")
@pytest.mark.req("ALERT-1")
def test_a_recycled_uid_is_refused_alerted_and_the_old_identity_kept(
    services: Services, own_slapd: SlapdServer
) -> None:
    first = add_person(own_slapd, "ryan", "Ryan Reed")
    services.directory_sync.run(NAME, full=True)
    original = identity_named(services, "ryan")
    delete_entry(own_slapd, first)
    add_person(own_slapd, "ryan", "Ryan Rossi")  # same uid, new entryUUID: someone else
    try:
        result = services.directory_sync.run(NAME, full=True)
        assert (result.counts["refused"], result.counts["deactivated"]) == (1, 1)
        kept = identity_named(services, "ryan")
        assert (kept.id, kept.printed_name) == (original.id, "Ryan Reed")
        assert kept.status == IdentityStatus.DEACTIVATED  # gone, never deleted
        with services.sessions() as session:
            states = session.scalars(
                select(DirectoryAccount.state).where(DirectoryAccount.username == "ryan")
            ).all()
        assert sorted(states) == ["gone", REFUSED]
        assert len(alerts_of(services, "identifier-reuse")) == 1
        services.directory_sync.run(NAME, full=True)
        assert len(alerts_of(services, "identifier-reuse")) == 1  # reported, not re-alerted
        with pytest.raises(InvalidCredentials):  # like a wrong password (LOCK-3)
            services.auth.authenticate("ryan", NEWCOMER_PASSWORD, channel="login", source=SOURCE)
        assert len(alerts_of(services, "identifier-reuse")) == 2
        refused = audited(services, "auth:login:failed")[-1]["new"]
        assert refused["reason"] == "identifier-reused"
    finally:
        delete_entry(own_slapd, f"uid=ryan,{own_slapd.people_dn}")


def test_entries_with_missing_or_repeated_values_are_reported_not_imported(
    services: Services, own_slapd: SlapdServer
) -> None:
    twice = add_person(own_slapd, "twomail", "Two Mail", mail=["a@idgov.test", "b@idgov.test"])
    bad_name = add_person(own_slapd, "bad name", "Bad Name")
    try:
        result = services.directory_sync.run(NAME, full=True)
        problems = {p["dn"]: p["problem"] for p in result.problems}
        assert "has 2 values" in problems[twice]
        assert "username" in problems[bad_name]
        assert result.counts["created"] == len(own_slapd.people)
    finally:
        delete_entry(own_slapd, twice)
        delete_entry(own_slapd, bad_name)


def test_a_wrong_user_base_does_not_deactivate_everyone(
    services: Services, settings: Settings, own_slapd: SlapdServer
) -> None:
    services.directory_sync.run(NAME, full=True)
    wrong = build_services(with_directory(settings, own_slapd, user_base=own_slapd.groups_dn))
    try:
        with pytest.raises(Conflict, match="looks like a wrong user_base"):
            wrong.directory_sync.run(NAME, full=True)
        assert identity_named(services, "bob").status == IdentityStatus.PENDING_VERIFICATION
        result = wrong.directory_sync.run(NAME, full=True, allow_mass_deactivation=True)
        assert result.counts["deactivated"] == len(own_slapd.people)
    finally:
        wrong.close()


@pytest.mark.req("PWD-2")
@pytest.mark.req("PWD-4")
@pytest.mark.req("CMP-2")
def test_password_change_through_idgov_applies_idgovs_rules_and_the_directorys(
    services: Services, own_slapd: SlapdServer
) -> None:
    carol = own_slapd.people["carol"]
    services.directory_sync.run(NAME, full=True)
    first, second = "Harbour-Quartz-Ember-19", "Willow-Copper-Signal-52"
    try:
        change_password(services, "carol", carol.password, first)
        assert own_slapd.can_bind(carol.dn, first)
        assert not own_slapd.can_bind(carol.dn, carol.password)
        with pytest.raises(UnprocessableRequest, match="at least"):
            change_password(services, "carol", first, "short")
        change_password(services, "carol", first, second)
        with pytest.raises(UnprocessableRequest, match="last 12 passwords"):
            # idgov's history, kept as argon2 hashes
            change_password(services, "carol", second, first)
        assert [e["new"]["provider"] for e in audited(services, "credential:password:changed")] == [
            NAME,
            NAME,
        ]
        with services.sessions() as session:  # CMP-2: carol was told of each change
            told = session.scalars(
                select(Alert.summary).where(Alert.kind == "credential-changed")
            ).all()
        assert told == ["Your directory password was changed through idgov"] * 2
    finally:
        with own_slapd.admin_connection() as conn:
            conn.extend.standard.modify_password(carol.dn, None, carol.password)
            conn.modify(carol.dn, {"pwdReset": [(MODIFY_REPLACE, ["FALSE"])]})


def test_an_entry_that_turns_unusable_is_reported_not_deactivated(
    services: Services, own_slapd: SlapdServer
) -> None:
    services.directory_sync.run(NAME, full=True)
    set_attribute(own_slapd, "dave", "mail", ["dave@idgov.test", "d.diaz@idgov.test"])
    try:
        result = services.directory_sync.run(NAME, full=True)
        assert result.counts["deactivated"] == 0
        assert any("has 2 values" in p["problem"] for p in result.problems)
        assert identity_named(services, "dave").status == IdentityStatus.PENDING_VERIFICATION
    finally:
        set_attribute(own_slapd, "dave", "mail", "dave@idgov.test")


@pytest.mark.req("UNQ-1")
def test_a_returning_person_rehired_onto_their_new_account_is_linked(
    services: Services, own_slapd: SlapdServer
) -> None:
    first = add_person(own_slapd, "rita", "Rita Ruiz")
    services.directory_sync.run(NAME, full=True)
    delete_entry(own_slapd, first)
    add_person(own_slapd, "rita", "Rita Ruiz")  # she left and came back: a new entry
    try:
        services.directory_sync.run(NAME, full=True)  # refused and alerted: who is it?
        with services.sessions() as session:
            new_key = session.scalars(
                select(DirectoryAccount.key).where(DirectoryAccount.state == REFUSED)
            ).one()
        with transaction(services.sessions) as session:
            rita = services.identities.by_username(session, "rita")
            assert rita is not None
            services.identities.rehire(session, rita, "same person", NAME, new_key)
        result = services.directory_sync.run(NAME, full=True)
        assert result.status == "succeeded"
        kept = identity_named(services, "rita")
        assert kept.status == IdentityStatus.PENDING_VERIFICATION  # verified again (IDV-1)
        login = services.auth.authenticate(
            "rita", NEWCOMER_PASSWORD, channel="login", source=SOURCE
        )
        assert login.identity_id == kept.id
    finally:
        delete_entry(own_slapd, f"uid=rita,{own_slapd.people_dn}")


def test_a_failed_scheduled_sync_waits_before_trying_again(
    services: Services, clock: FrozenClock, own_slapd: SlapdServer
) -> None:
    assert services.directory_sync.due(NAME) == "full"
    own_slapd.stop()
    try:
        with pytest.raises(ProviderUnavailable):
            services.directory_sync.run_if_due(NAME)
        assert services.directory_sync.due(NAME) is None  # not on every worker round
        clock.advance(timedelta(minutes=15))
        assert services.directory_sync.due(NAME) == "full"
    finally:
        own_slapd.start()
