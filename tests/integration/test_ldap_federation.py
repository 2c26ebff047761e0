"""Directory identities against the real slapd: sync, login, signing, directory policy states."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from ldap3 import MODIFY_ADD, MODIFY_DELETE
from sqlalchemy import select

from idgov.alerts.models import Alert
from idgov.clients.models import HostClient
from idgov.clock import FrozenClock
from idgov.config import Settings
from idgov.db import transaction
from idgov.entitlements.models import Entitlement, EntitlementGrant
from idgov.errors import (
    InvalidCredentials,
    Locked,
    NotEligible,
    ProviderUnavailable,
)
from idgov.identity.models import IdentityStatus
from idgov.providers.directory.models import DirectoryAccount, DirectorySyncRun
from idgov.wiring import Services
from tests.functional.signing import SOURCE, prepare, request
from tests.harness.slapd import SlapdServer
from tests.integration.directory_support import (
    NAME,
    account_of,
    audited,
    holders,
    identity_named,
    now_utc,
    set_attribute,
    verify_all,
    with_directory,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def settings(settings: Settings, own_slapd: SlapdServer) -> Settings:
    return with_directory(settings, own_slapd)


@pytest.fixture
def synced(services: Services) -> Services:
    services.directory_sync.run(NAME, full=True)
    return services


@pytest.mark.req("UNQ-1")
@pytest.mark.req("REV-1")
def test_first_sync_mirrors_people_managers_and_nested_groups(
    services: Services, own_slapd: SlapdServer
) -> None:
    result = services.directory_sync.run(NAME)

    assert (result.kind, result.status) == ("full", "succeeded")
    assert result.counts["created"] == len(own_slapd.people)
    bob = identity_named(services, "bob")
    alice = identity_named(services, "alice")
    assert (bob.provider, bob.status, bob.printed_name) == (
        NAME,
        IdentityStatus.PENDING_VERIFICATION,  # IDV-1: a sync never verifies anyone
        "Bob Berg",
    )
    assert bob.manager_id == alice.id
    account = account_of(services, bob.id)
    assert len(account.key) == 36  # the entryUUID is the immutable key
    dave = identity_named(services, "dave")
    assert holders(services, "lims-users") == {
        (dave.id, None),
        (bob.id, "qa-approvers"),
        (identity_named(services, "carol").id, "qa-approvers"),
    }
    created = audited(services, "identity:identity:created")
    assert {e["new"]["username"] for e in created} == set(own_slapd.people)
    assert services.verifier.verify().ok


def test_second_sync_is_incremental_and_sees_a_change(
    synced: Services, own_slapd: SlapdServer
) -> None:
    assert synced.directory_sync.run(NAME).counts["updated"] == 0
    time.sleep(1.1)  # modifyTimestamp has one-second resolution
    set_attribute(own_slapd, "dave", "mail", "dave.diaz@idgov.test")
    try:
        result = synced.directory_sync.run(NAME)
        assert result.kind == "incremental"
        # From the high-water mark on, inclusive: after the change only dave is that recent.
        assert synced.directory_sync.run(NAME).counts["users_read"] == 1
        assert identity_named(synced, "dave").email == "dave.diaz@idgov.test"
        [changed] = audited(synced, "directory:account:updated")
        assert changed["old"] == {"email": "dave@idgov.test"}
        assert changed["new"] == {"email": "dave.diaz@idgov.test"}
    finally:
        set_attribute(own_slapd, "dave", "mail", "dave@idgov.test")


@pytest.mark.req("MAN-1")
def test_a_printed_name_with_a_bidi_override_is_refused_by_the_sync(
    synced: Services, own_slapd: SlapdServer
) -> None:
    """Issue 17 finding 5: a directory cannot forge a manifestation line either. The sync
    refuses the new name (it does not sanitise it) and the identity keeps the one it has."""
    time.sleep(1.1)  # modifyTimestamp has one-second resolution
    set_attribute(own_slapd, "dave", "cn", "Dave \u202eztiD")
    try:
        result = synced.directory_sync.run(NAME)
        assert result.status == "succeeded"
        assert identity_named(synced, "dave").printed_name == "Dave Diaz"
        [refused] = [p for p in result.problems if p["dn"].startswith("uid=dave,")]
        assert "printed_name" in refused["problem"]
        assert "bidirectional" in refused["problem"]
        assert audited(synced, "directory:account:updated") == []
    finally:
        set_attribute(own_slapd, "dave", "cn", "Dave Diaz")


@pytest.mark.req("ACC-1")
def test_directory_user_logs_in_over_http(
    synced: Services, client: FlaskClient, own_slapd: SlapdServer
) -> None:
    bob = own_slapd.people["bob"]
    answer = client.post("/api/v1/session", json={"username": "bob", "password": bob.password})
    assert answer.status_code == 201, answer.json
    wrong = client.post("/api/v1/session", json={"username": "bob", "password": "not-it"})
    unknown = client.post("/api/v1/session", json={"username": "nobody", "password": "not-it"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json["type"] == unknown.json["type"] == "urn:idgov:problem:invalid-credentials"


@pytest.mark.req("LOCK-1")
@pytest.mark.req("ALERT-1")
@pytest.mark.req("LOCK-3")
def test_directory_lock_is_refused_like_a_wrong_password_and_counted(
    synced: Services, own_slapd: SlapdServer
) -> None:
    """slapd locks after 3 failures (pwdMaxFailure); idgov keeps counting to its own 5."""
    person = own_slapd.people["locktest"]
    try:
        for _ in range(3):
            with pytest.raises(InvalidCredentials):
                synced.auth.authenticate("locktest", "wrong", channel="login", source=SOURCE)
        # LOCK-3: the directory's lock is answered as a wrong password at that count (401),
        # never as a distinct "locked in the directory" that would tell the account exists.
        with pytest.raises(InvalidCredentials) as directory_lock:
            synced.auth.authenticate("locktest", person.password, channel="login", source=SOURCE)
        assert "reason" not in directory_lock.value.extensions
        assert identity_named(synced, "locktest").status != IdentityStatus.LOCKED  # 4 of 5
        with pytest.raises(Locked) as idgov_lock:
            synced.auth.authenticate("locktest", person.password, channel="signing", source=SOURCE)
        assert "reason" not in idgov_lock.value.extensions  # idgov's own lock now (LOCK-1)
        assert identity_named(synced, "locktest").status == IdentityStatus.LOCKED
        reasons = [e["new"]["reason"] for e in audited(synced, "auth:login:failed")]
        assert reasons == ["bad-password"] * 3 + ["directory-locked"]
        with synced.sessions() as session:
            kinds = set(session.scalars(select(Alert.kind)))
        assert "lockout" in kinds
    finally:
        own_slapd.unlock("locktest")


@pytest.mark.req("CMP-2")
def test_change_after_reset_logs_in_but_cannot_sign(
    synced: Services, own_slapd: SlapdServer
) -> None:
    carol = own_slapd.people["carol"]
    set_attribute(own_slapd, "carol", "pwdReset", "TRUE")
    try:
        result = synced.auth.authenticate("carol", carol.password, channel="login", source=SOURCE)
        assert result.credential.temporary
        assert result.credential.must_change
    finally:
        with own_slapd.admin_connection() as conn:
            conn.modify(carol.dn, {"pwdReset": [(MODIFY_DELETE, [])]})


@pytest.mark.req("PWD-3")
def test_idgov_aging_applies_where_the_directory_has_none(
    synced: Services, clock: FrozenClock, own_slapd: SlapdServer
) -> None:
    """The harness policy has pwdMaxAge 0 (no expiry); idgov's 90 days still apply, counted
    from the entry's creation since it has no pwdChangedTime."""
    clock.advance(now_utc() - clock.now() + timedelta(days=91))
    result = synced.auth.authenticate(
        "dave", own_slapd.people["dave"].password, channel="login", source=SOURCE
    )
    assert result.credential.expired
    assert result.credential.must_change


@pytest.mark.req("PWD-3")
def test_grace_login_then_expired_in_the_directory(
    synced: Services, own_slapd: SlapdServer
) -> None:
    """A per-user ppolicy with a 1-second maximum age and one grace login."""
    policy_dn = f"cn=short,{own_slapd.policies_dn}"
    alice = own_slapd.people["alice"]
    with own_slapd.admin_connection() as conn:
        attributes = {
            **own_slapd.pwd_policy,
            "cn": "short",
            "pwdMaxAge": "1",
            "pwdGraceAuthNLimit": "1",
        }
        conn.add(policy_dn, ["applicationProcess", "pwdPolicy"], attributes)
        conn.modify(alice.dn, {"pwdPolicySubentry": [(MODIFY_ADD, [policy_dn])]})
        conn.extend.standard.modify_password(alice.dn, None, alice.password)
        conn.modify(alice.dn, {"pwdReset": [(MODIFY_DELETE, [])]})  # not an admin reset here
    try:
        time.sleep(2.1)
        grace = synced.auth.authenticate("alice", alice.password, channel="login", source=SOURCE)
        assert grace.credential.expired
        with pytest.raises(NotEligible) as refused:
            synced.auth.authenticate("alice", alice.password, channel="signing", source=SOURCE)
        assert refused.value.extensions["reason"] == "password-expired"
        assert "change it in the directory" in refused.value.detail
        failed = audited(synced, "auth:signing:failed")
        assert failed[-1]["new"]["reason"] == "password-expired"
    finally:
        with own_slapd.admin_connection() as conn:
            conn.modify(alice.dn, {"pwdPolicySubentry": [(MODIFY_DELETE, [])]})
            conn.delete(policy_dn)
            conn.extend.standard.modify_password(alice.dn, None, alice.password)


@pytest.mark.req("MAN-1")
def test_directory_user_signs_under_idgovs_rules(synced: Services, own_slapd: SlapdServer) -> None:
    client, admin = prepare(synced)
    with pytest.raises(NotEligible):  # pending verification: a sync never makes anyone a signer
        sign(synced, client, own_slapd, "bob")
    verify_all(synced, admin, "bob")
    outcome = sign(synced, client, own_slapd, "bob")
    assert outcome.signatures[0].manifestation.printed_name == "Bob Berg"


def sign(services: Services, client: HostClient, slapd: SlapdServer, username: str):
    body = request(username, password=slapd.people[username].password)
    return services.signatures.sign(body, client, SOURCE)


@pytest.mark.req("ACC-1")
def test_an_unreachable_directory_refuses_and_never_falls_back(
    synced: Services, own_slapd: SlapdServer
) -> None:
    own_slapd.stop()
    try:
        for username in ("bob", "nobody"):
            with pytest.raises(ProviderUnavailable) as refused:
                synced.auth.authenticate(username, "whatever", channel="login", source=SOURCE)
            assert refused.value.status == 503
        with pytest.raises(ProviderUnavailable):
            synced.directory_sync.run(NAME, full=True)
    finally:
        own_slapd.start()
    assert identity_named(synced, "bob").status == IdentityStatus.PENDING_VERIFICATION
    with synced.sessions() as session:
        failed = session.scalars(
            select(DirectorySyncRun).where(DirectorySyncRun.status == "failed")
        ).one()
    assert "no directory server answered" in (failed.error or "")
    assert [e["new"]["reason"] for e in audited(synced, "auth:login:failed")] == [
        "provider-unavailable"
    ] * 2


def test_group_write_back_removes_and_reads_back(synced: Services, own_slapd: SlapdServer) -> None:
    group = own_slapd.groups["qa-approvers"]
    bob = identity_named(synced, "bob")
    with synced.sessions() as session:
        grant = session.scalars(
            select(EntitlementGrant)
            .join(Entitlement)
            .where(Entitlement.name == "qa-approvers", EntitlementGrant.identity_id == bob.id)
        ).one()
        nested = session.scalars(
            select(EntitlementGrant)
            .join(Entitlement)
            .where(Entitlement.name == "lims-users", EntitlementGrant.identity_id == bob.id)
        ).one()
    try:
        removal = synced.group_write_back.remove(grant.id, "access review: no longer approves")
        assert removal.member_dn == own_slapd.people["bob"].dn
        with own_slapd.admin_connection() as conn:
            conn.search(group.dn, "(objectClass=*)", attributes=["member"])
            assert own_slapd.people["bob"].dn not in conn.response[0]["attributes"]["member"]
        with pytest.raises(Exception, match="nested group"):
            synced.group_write_back.remove(nested.id, "nested")
        result = synced.directory_sync.run(NAME, full=True)
        assert result.counts["grants_added"] == 0
        [removed] = audited(synced, "directory:membership:removed")
        assert removed["new"]["verified_by"] == "read-back"
    finally:
        with own_slapd.admin_connection() as conn:
            conn.modify(group.dn, {"member": [(MODIFY_ADD, [own_slapd.people["bob"].dn])]})


def test_sync_run_is_recorded_with_counts(synced: Services) -> None:
    with synced.sessions() as session:
        run = session.scalars(select(DirectorySyncRun)).one()
    assert json.loads(run.counts)["created"] > 0
    assert run.high_water is not None


@pytest.mark.req("PWD-3")
def test_directory_people_are_warned_before_idgovs_maximum_age(
    synced: Services, clock: FrozenClock
) -> None:
    with synced.sessions() as session:
        created = session.scalars(
            select(DirectoryAccount.password_changed_at).where(DirectoryAccount.username == "dave")
        ).one()
    assert created is not None  # no pwdChangedTime: the entry's createTimestamp
    clock.advance(created + timedelta(days=90 - 7) - clock.now())
    with transaction(synced.sessions) as session:
        assert synced.password_aging.run(session) == 0  # pending verification: not active
    verify_all(synced, prepare(synced)[1], "dave")
    with transaction(synced.sessions) as session:
        assert synced.password_aging.run(session) == 1
    with transaction(synced.sessions) as session:
        assert synced.password_aging.run(session) == 0  # told once per window
    [notice] = audited(synced, "alert:password-expiry-warning:raised")
    assert "directory (corp)" in str(notice["new"])
