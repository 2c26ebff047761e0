"""The active-directory preset against a real AD (a Samba DC over LDAPS): sync, sub-codes."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from idgov.alerts.models import Alert
from idgov.clock import FrozenClock
from idgov.config import Settings
from idgov.db import transaction
from idgov.errors import UnprocessableRequest
from idgov.identity.models import IdentityStatus
from idgov.providers.directory.models import REFUSED, DirectoryAccount
from idgov.wiring import Services
from tests.functional.hosts import bearer, register, token_for
from tests.functional.people import fast_hashing, login, person, problem
from tests.functional.signing import SOURCE, body
from tests.harness.samba import AdPerson, SambaDc
from tests.integration.directory_support import (
    NAME,
    account_of,
    audited,
    change_password,
    holders,
    identity_named,
    now_utc,
    verify_all,
    with_directory,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def settings(settings: Settings, samba_dc: SambaDc) -> Settings:
    # LDAPS with the domain's own CA; the URL names the host its certificate was issued to.
    return with_directory(
        settings, samba_dc, preset="active-directory", tls="ldaps", ca_file=str(samba_dc.ca_file)
    )


@pytest.fixture
def clock(clock: FrozenClock) -> FrozenClock:
    """Today: the domain's passwords were set today and expire after its 42 days."""
    clock.advance(now_utc() - clock.now())
    return clock


@pytest.fixture
def newcomer(samba_dc: SambaDc) -> Iterator[AdPerson]:
    """A user of this test alone (locked, disabled, expired or reset by it), then deleted."""
    tag = uuid.uuid4().hex[:8]
    created = AdPerson(f"nc{tag}", "Nora", f"N{tag}", "Newcomer", "Qm7-Granite-Orchard")
    samba_dc.create_user(created)
    try:
        yield created
    finally:
        samba_dc.delete_user(created.uid)


def raw_guid(samba_dc: SambaDc, dn: str) -> str:
    with samba_dc.admin_connection() as conn:
        conn.search(dn, "(objectClass=*)", attributes=["objectGUID"])
        return str(uuid.UUID(bytes_le=conn.response[0]["raw_attributes"]["objectGUID"][0]))


def sub_code_of(samba_dc: SambaDc, dn: str, password: str) -> str:
    """The "data XXX" of a bind the directory refused, as its diagnostic says it."""
    result = samba_dc.bind_result(dn, password)
    assert result["result"] == 49, result
    return str(result["message"]).split("data ")[1].split(",")[0]


def signing_client(services: Services, client: FlaskClient) -> dict[str, str]:
    """Keys and a registered host; the bearer headers of its token."""
    with transaction(services.sessions) as session:
        services.keys.create(session, "audit", reason="test setup")
        services.keys.create(session, "signature", reason="test setup")
    client_id, secret = register(services)
    return bearer(token_for(client, client_id, secret))


def sign(client: FlaskClient, headers: dict[str, str], username: str, password: str) -> Any:
    return client.post(
        "/api/v1/signatures",
        json=body(username, password=password),
        headers=headers,
        environ_base={"REMOTE_ADDR": SOURCE},
    )


@pytest.fixture
def admin_id(services: Services) -> str:
    fast_hashing(services)
    return person(services, "ada", roles=("admin",), name="Ada Admin")


# -- sync ------------------------------------------------------------------------------------


@pytest.mark.req("UNQ-1")
@pytest.mark.req("REV-1")
@pytest.mark.req("PWD-3")
def test_sync_keys_people_on_object_guid_with_managers_and_nested_groups(
    services: Services, samba_dc: SambaDc
) -> None:
    result = services.directory_sync.run(NAME, full=True)

    assert (result.kind, result.status) == ("full", "succeeded")
    assert result.counts["created"] == len(samba_dc.people)
    bob, alice = identity_named(services, "bob"), identity_named(services, "alice")
    assert (bob.printed_name, bob.email, bob.status) == (
        "Bob Berg",
        "bob@corp.test",
        IdentityStatus.PENDING_VERIFICATION,
    )
    assert bob.manager_id == alice.id
    account = account_of(services, bob.id)
    assert account.key == raw_guid(samba_dc, samba_dc.people["bob"].dn)  # bytes_le, UNQ-1
    assert account.password_changed_at is not None  # pwdLastSet
    assert account.password_expires_at is not None  # the domain's 42-day maximum age
    assert (account.disabled, account.locked, account.must_change) == (False, False, False)
    assert holders(services, "lims-users") == {
        (identity_named(services, "dave").id, None),
        (bob.id, "qa-approvers"),
        (identity_named(services, "carol").id, "qa-approvers"),
    }
    assert services.directory_sync.run(NAME).counts["updated"] == 0  # incremental: uSNChanged


@pytest.mark.req("UNQ-1")
@pytest.mark.req("ALERT-1")
def test_a_recreated_sam_account_name_gets_a_new_guid_and_is_refused(
    services: Services, samba_dc: SambaDc
) -> None:
    first = AdPerson("ryan", "Ryan", "Reed", "Analyst", "Qm7-Basalt-Harvest")
    samba_dc.create_user(first)
    try:
        services.directory_sync.run(NAME, full=True)
        original = identity_named(services, "ryan")
        old_guid = raw_guid(samba_dc, first.dn)
        samba_dc.delete_user("ryan")
        second = AdPerson("ryan", "Ryan", "Rossi", "Analyst", "Qm7-Cobalt-Fjord")
        samba_dc.create_user(second)  # same sAMAccountName, someone else
        assert raw_guid(samba_dc, second.dn) != old_guid

        result = services.directory_sync.run(NAME, full=True)

        assert (result.counts["refused"], result.counts["deactivated"]) == (1, 1)
        kept = identity_named(services, "ryan")
        assert (kept.id, kept.printed_name, kept.status) == (
            original.id,
            "Ryan Reed",
            IdentityStatus.DEACTIVATED,
        )
        with services.sessions() as session:
            states = session.scalars(
                select(DirectoryAccount.state).where(DirectoryAccount.username == "ryan")
            ).all()
            alerts = session.scalars(select(Alert).where(Alert.kind == "identifier-reuse")).all()
        assert sorted(states) == ["gone", REFUSED]
        assert len(alerts) == 1
    finally:
        samba_dc.delete_user("ryan")


# -- binds and AD sub-codes ------------------------------------------------------------------


@pytest.mark.req("ACC-1")
@pytest.mark.req("LOCK-3")
def test_sign_in_by_bind_and_a_wrong_password_is_52e(
    services: Services, client: FlaskClient, samba_dc: SambaDc
) -> None:
    bob = samba_dc.people["bob"]
    services.directory_sync.run(NAME, full=True)
    answer = client.post("/api/v1/session", json={"username": "bob", "password": bob.password})
    assert answer.status_code == 201, answer.json

    assert sub_code_of(samba_dc, bob.dn, "not-it") == "52e"
    samba_dc.unlock("bob")  # the probe above counted in AD's badPwdCount
    wrong = client.post("/api/v1/session", json={"username": "bob", "password": "not-it"})
    unknown = client.post("/api/v1/session", json={"username": "nobody", "password": "not-it"})
    samba_dc.unlock("bob")
    problem(wrong, 401, "invalid-credentials")
    problem(unknown, 401, "invalid-credentials")
    # The unknown name goes into the source's aggregate (finding 3), the real one on its own.
    assert [e["new"]["reason"] for e in audited(services, "auth:login:failed")] == ["bad-password"]
    assert identity_named(services, "bob").failed_attempts == 1  # counted by idgov (LOCK-1)


@pytest.mark.req("LOCK-1")
@pytest.mark.req("ALERT-1")
@pytest.mark.req("LOCK-3")
def test_the_directorys_own_lockout_775_is_answered_like_a_wrong_password_counted_alerted(
    services: Services, client: FlaskClient, samba_dc: SambaDc, newcomer: AdPerson
) -> None:
    """The domain locks after 3 bad passwords; idgov counts the 775 answers to its own 5."""
    services.directory_sync.run(NAME, full=True)
    for _ in range(samba_dc.lockout_threshold):
        assert login(client, newcomer.uid, "wrong-password").status_code == 401
    assert sub_code_of(samba_dc, newcomer.dn, newcomer.password) == "775"

    # LOCK-3: AD's 775 is answered exactly as an unknown name's fourth failure would be.
    page = login(client, newcomer.uid, newcomer.password)
    unknown = login(client, "nobody-here", "wrong-password")
    assert page.status_code == unknown.status_code == 401
    assert "locked in the directory" not in page.get_data(as_text=True)
    assert identity_named(services, newcomer.uid).status != IdentityStatus.LOCKED  # 4 of 5

    headers = signing_client(services, client)
    locked = problem(sign(client, headers, newcomer.uid, newcomer.password), 423, "locked")
    assert "reason" not in locked  # idgov's own lock now
    assert identity_named(services, newcomer.uid).status == IdentityStatus.LOCKED
    reasons = [e["new"]["reason"] for e in audited(services, "auth:login:failed")]
    assert reasons == ["bad-password"] * samba_dc.lockout_threshold + ["directory-locked"]
    with services.sessions() as session:
        assert "lockout" in set(session.scalars(select(Alert.kind)))


RESET = "Qm7-Temporary-Reset"  # what an administrator would hand out with a reset
# How samba-tool puts the account in the state ({uid} is the account), the password that
# then gets the sub-code, idgov's reason, and what the sign-in page says.
STATES = [
    pytest.param(("user", "disable", "{uid}"), None, "533", "account-disabled",
                 "Your directory account is disabled", id="disabled-533"),
    pytest.param(("user", "setexpiry", "{uid}", "--days=0"), None, "701", "account-expired",
                 "Your directory account has expired", id="expired-701"),
    pytest.param(("user", "setpassword", "{uid}", f"--newpassword={RESET}",
                  "--must-change-at-next-login"), RESET, "773", "password-must-change",
                 "must be changed first", id="must-change-773",
                 marks=pytest.mark.req("CMP-2")),
]  # fmt: skip


@pytest.mark.req("ACC-1")
@pytest.mark.parametrize(("command", "password", "code", "reason", "told"), STATES)
def test_a_disabled_expired_or_reset_account_is_refused_with_its_reason(
    services: Services,
    client: FlaskClient,
    samba_dc: SambaDc,
    newcomer: AdPerson,
    admin_id: str,
    command: tuple[str, ...],
    password: str | None,
    code: str,
    reason: str,
    told: str,
) -> None:
    """AD answers these sub-codes only to the right password: the person is told why (403),
    nothing counts toward a lockout, and a signature is refused as not eligible."""
    services.directory_sync.run(NAME, full=True)
    verify_all(services, admin_id, newcomer.uid)
    samba_dc.tool(*(part.format(uid=newcomer.uid) for part in command))
    password = password or newcomer.password
    assert sub_code_of(samba_dc, newcomer.dn, password) == code
    assert sub_code_of(samba_dc, newcomer.dn, "wrong-password") == "52e"

    page = login(client, newcomer.uid, password)
    refused = sign(client, signing_client(services, client), newcomer.uid, password)

    assert page.status_code == 403, page.get_data(as_text=True)
    assert told in page.get_data(as_text=True)
    assert problem(refused, 403, "not-eligible")["reason"] == reason
    assert audited(services, "auth:signing:failed")[-1]["new"]["reason"] == reason
    assert identity_named(services, newcomer.uid).failed_attempts == 0  # not a wrong password


@pytest.mark.req("PWD-2")
def test_a_password_changed_through_idgov_is_changed_in_ad_under_idgovs_history(
    services: Services, samba_dc: SambaDc, newcomer: AdPerson
) -> None:
    """unicodePwd delete + add bound as the person ([MS-ADTS] 3.1.1.3.1.5.1), over LDAPS."""
    services.directory_sync.run(NAME, full=True)
    first, second = "Harbour-Quartz-Ember-19", "Willow-Copper-Signal-52"

    change_password(services, newcomer.uid, newcomer.password, first)
    change_password(services, newcomer.uid, first, second)

    assert samba_dc.can_bind(newcomer.dn, second)
    # The previous password still binds, and so still signs in and signs through idgov: AD
    # accepts it for a while after a change (Samba's "old password allowed period", 60
    # minutes by default; Windows' OldPasswordAllowedPeriod). The one before it does not.
    assert samba_dc.can_bind(newcomer.dn, first)
    services.auth.authenticate(newcomer.uid, first, channel="signing", source=SOURCE)
    assert sub_code_of(samba_dc, newcomer.dn, newcomer.password) == "52e"
    with pytest.raises(UnprocessableRequest, match="last 12 passwords"):
        change_password(services, newcomer.uid, second, first)  # idgov's history
    assert len(audited(services, "credential:password:changed")) == 2
