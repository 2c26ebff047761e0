"""Directory revocations carried out against the real slapd and read back (REV-4)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from ldap3 import MODIFY_ADD
from sqlalchemy import select

from idgov.clock import FrozenClock
from idgov.config import Settings
from idgov.db import transaction
from idgov.identity.certification import statement_for
from idgov.identity.models import Identity
from idgov.reviews.decisions.signoff import Credentials
from idgov.reviews.models import Remediation, ReviewItem
from idgov.wiring import Services
from tests.functional.people import person
from tests.functional.review_support import campaign
from tests.functional.signing import prepare
from tests.harness.slapd import SlapdServer
from tests.integration.directory_support import (
    NAME,
    audited,
    identity_named,
    verify_all,
    with_directory,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def settings(settings: Settings, own_slapd: SlapdServer) -> Settings:
    return with_directory(settings, own_slapd)


@pytest.fixture
def synced(services: Services, own_slapd: SlapdServer) -> Iterator[Services]:
    """The directory mirrored; afterwards slapd runs again and bob is back in qa-approvers,
    whatever the test did (the server is shared by this module's tests)."""
    services.directory_sync.run(NAME, full=True)
    try:
        yield services
    finally:
        if not own_slapd.is_running:
            own_slapd.start()
        group = own_slapd.groups["qa-approvers"]
        with own_slapd.admin_connection() as conn:
            if own_slapd.people["bob"].dn not in members(own_slapd, "qa-approvers"):
                conn.modify(group.dn, {"member": [(MODIFY_ADD, [own_slapd.people["bob"].dn])]})
                assert conn.result["result"] == 0, conn.result


def members(slapd: SlapdServer, group: str) -> list[str]:
    """The group's members as the directory lists them, read as its administrator."""
    with slapd.admin_connection() as conn:
        conn.search(slapd.groups[group].dn, "(objectClass=*)", attributes=["member"])
        return [str(dn) for dn in conn.response[0]["attributes"]["member"]]


def revoke(services: Services, slapd: SlapdServer, *groups: str) -> dict[str, int]:
    """A campaign over the directory; alice (bob's manager) revokes bob's membership of
    `groups`, certifies the rest of her items, and signs off with her directory password.
    Returns group name -> remediation id."""
    _client, admin = prepare(services)
    verify_all(services, admin, "alice")
    verifier = person(services, "verifier", roles=("security_officer",), password=None)
    with transaction(services.sessions) as session:
        fallback = services.identities.get(session, admin)
        by = services.identities.get(session, verifier)
        services.identities.record_verification(session, fallback, by, "badge")
        # A fallback reviewer must be able to sign: certified as well (TRN-1).
        services.identities.certify(
            session, fallback, statement_for(fallback.printed_name), "web", None
        )
    campaign_id = campaign(services, fallback=admin, directories=[NAME])
    alice, bob = identity_named(services, "alice"), identity_named(services, "bob")
    with transaction(services.sessions) as session:
        mine = session.scalars(
            select(ReviewItem).where(
                ReviewItem.campaign_id == campaign_id, ReviewItem.reviewer_id == alice.id
            )
        ).all()
        revoked = [i.id for i in mine if i.identity_id == bob.id and i.entitlement_name in groups]
        assert len(revoked) == len(groups)
        reviewer = session.get(Identity, alice.id)
        assert reviewer is not None
        services.decisions.decide(session, reviewer, revoked, "revoke", "no longer in QA")
        rest = [i.id for i in mine if i.id not in revoked]
        services.decisions.decide(session, reviewer, rest, "certify", None)
    password = slapd.people["alice"].password
    services.signoffs.sign_off(campaign_id, alice.id, Credentials(password), None)
    with services.sessions() as session:
        rows = session.execute(
            select(Remediation.id, ReviewItem.entitlement_name).join(
                ReviewItem, ReviewItem.id == Remediation.item_id
            )
        ).all()
    return {row.entitlement_name: row.id for row in rows}


def load(services: Services, remediation_id: int) -> Remediation:
    with services.sessions() as session:
        found = session.get(Remediation, remediation_id)
        assert found is not None
        return found


@pytest.mark.req("REV-4")
def test_a_signed_revocation_is_removed_in_the_directory_and_read_back(
    synced: Services, own_slapd: SlapdServer
) -> None:
    bob_dn = own_slapd.people["bob"].dn
    ids = revoke(synced, own_slapd, "qa-approvers", "lims-users")

    assert synced.remediation.carry_out_due() == 1

    assert bob_dn not in members(own_slapd, "qa-approvers")
    done = load(synced, ids["qa-approvers"])
    assert (done.status, done.verified_by, done.attempts) == ("verified", "read-back", 1)
    assert done.verified_at is not None
    assert done.done_at is not None
    # bob is in lims-users only through qa-approvers: a person must decide, so it fails
    # visibly rather than removing the nested group or pretending it is done.
    nested = load(synced, ids["lims-users"])
    assert nested.status == "failed"
    assert "nested group" in (nested.last_error or "")
    assert [e["new"]["status"] for e in audited(synced, "review:remediation:failed")] == ["failed"]
    assert len(audited(synced, "directory:membership:removed")) == 1
    assert synced.remediation.carry_out_due() == 0  # nothing open is left to try
    with synced.sessions() as session:
        assert synced.remediation.open_count(session, done.campaign_id) == 1  # the failed one

    with transaction(synced.sessions) as session:
        synced.remediation.retry(session, nested.id, "checked the nesting with the app owner")
    assert synced.remediation.carry_out_due() == 0
    again = load(synced, ids["lims-users"])
    assert (again.status, again.attempts) == ("failed", 2)


@pytest.mark.req("REV-4")
def test_an_unreachable_directory_leaves_the_revocation_open_and_it_is_retried(
    synced: Services, own_slapd: SlapdServer, clock: FrozenClock
) -> None:
    ids = revoke(synced, own_slapd, "qa-approvers")
    own_slapd.stop()
    try:
        assert synced.remediation.carry_out_due() == 0
    finally:
        own_slapd.start()
    waiting = load(synced, ids["qa-approvers"])
    assert (waiting.status, waiting.attempts) == ("open", 1)
    assert waiting.last_error
    assert [e["new"]["status"] for e in audited(synced, "review:remediation:deferred")] == ["open"]
    assert own_slapd.people["bob"].dn in members(own_slapd, "qa-approvers")

    assert synced.remediation.carry_out_due() == 0  # tried a moment ago: backs off
    assert load(synced, ids["qa-approvers"]).attempts == 1
    clock.advance(timedelta(seconds=61))
    assert synced.remediation.carry_out_due() == 1

    verified = load(synced, ids["qa-approvers"])
    assert (verified.status, verified.verified_by, verified.attempts) == (
        "verified",
        "read-back",
        2,
    )
    assert own_slapd.people["bob"].dn not in members(own_slapd, "qa-approvers")


def rename_bob(slapd: SlapdServer, *, keep_uid: bool) -> str:
    """Rename bob's entry to cn=Bob Berg (memberof's referential integrity follows it in the
    groups); without `keep_uid` the entry loses its uid, which idgov needs."""
    new_dn = f"cn=Bob Berg,{slapd.people_dn}"
    with slapd.admin_connection() as conn:
        assert conn.modify_dn(slapd.people["bob"].dn, "cn=Bob Berg", delete_old_dn=not keep_uid)
    assert new_dn in members(slapd, "qa-approvers")
    return new_dn


def rename_back(slapd: SlapdServer, new_dn: str) -> None:
    """Back to uid=bob, keeping cn (inetOrgPerson requires it)."""
    with slapd.admin_connection() as conn:
        assert conn.modify_dn(new_dn, "uid=bob", delete_old_dn=False), conn.result


@pytest.mark.req("REV-4")
def test_a_renamed_entry_is_revoked_under_its_new_name(
    synced: Services, own_slapd: SlapdServer
) -> None:
    """bob is renamed after the sign-off: the old DN is gone from the group, but bob holds it
    under the new one; only removing that verifies the revocation."""
    ids = revoke(synced, own_slapd, "qa-approvers")
    new_dn = rename_bob(own_slapd, keep_uid=True)
    try:
        synced.directory_sync.run(NAME, full=True)
        assert synced.remediation.carry_out_due() == 1
        assert new_dn not in members(own_slapd, "qa-approvers")
        done = load(synced, ids["qa-approvers"])
        assert (done.status, done.verified_by) == ("verified", "read-back")
    finally:
        rename_back(own_slapd, new_dn)


@pytest.mark.req("REV-4")
def test_a_member_idgov_cannot_match_keeps_the_revocation_unverified(
    synced: Services, own_slapd: SlapdServer
) -> None:
    """Renamed without its uid, bob's entry is unusable to idgov (a sync problem): the group
    still lists him under a DN idgov cannot tie to anyone, so nothing is verified."""
    ids = revoke(synced, own_slapd, "qa-approvers")
    new_dn = rename_bob(own_slapd, keep_uid=False)
    try:
        synced.directory_sync.run(NAME, full=True)
        assert synced.remediation.carry_out_due() == 0
        assert new_dn in members(own_slapd, "qa-approvers")
        stuck = load(synced, ids["qa-approvers"])
        assert stuck.status == "failed"
        assert "still lists" in (stuck.last_error or "")
    finally:
        rename_back(own_slapd, new_dn)
