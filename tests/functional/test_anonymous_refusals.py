"""What a guesser learns: unknown, suspended and directory-locked names answer like real ones
(LOCK-3), unknown names are kept only as HMAC pseudonyms, anonymous refusals are audited in
aggregate per source and window (AUD-1), token-endpoint guessing is alerted (ALERT-1)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from idgov.alerts.models import Alert, AuthFailure, RefusalWindow
from idgov.alerts.refusals import GRACE, WINDOW
from idgov.audit.models import AuditEvent
from idgov.audit.pseudonyms import LABEL, NamePseudonyms
from idgov.clients.grants import TokenRefused, TokenRequest
from idgov.clock import FrozenClock
from idgov.db import transaction
from idgov.errors import IdgovError, InvalidCredentials
from idgov.identity.authentication import Anonymity, AuthenticationService
from idgov.identity.models import Identity
from idgov.identity.shadow_lockout import ShadowLockout
from idgov.providers.directory.active_directory import bind_outcome
from idgov.providers.directory.passwords import verdict
from idgov.providers.interfaces import CredentialState, SourceRefusal
from idgov.wiring import Services
from tests.functional import test_lockout
from tests.functional.test_lockout import PASSWORD, Org, attempt

TYPED_PASSWORD = "Granite-Kettle.2026"  # a password that fits the username pattern
# What AD answers a simple bind on a locked account, right password or not (sub-code 775).
AD_775 = "80090308: LdapErr: DSID-0C09042A, comment: AcceptSecurityContext error, data 775, v3839"
SOURCE = "192.0.2.10"


@pytest.fixture
def org(services: Services) -> Org:
    """The people of the lockout tests: an officer, a manager and jdoe with PASSWORD."""
    made: Org = test_lockout.org.__wrapped__(services)
    return made


def answer(services: Services, username: str, password: str = "wrong") -> tuple[object, ...]:
    """Everything a caller sees of a refusal: status, type, detail and extensions."""
    try:
        services.auth.authenticate(username, password, channel="login", source=SOURCE)
    except IdgovError as refused:
        return (refused.status, refused.type_slug, refused.detail, refused.extensions)
    return ("ok",)


def suspend(services: Services, identity_id: str) -> None:
    with transaction(services.sessions) as session:
        services.identities.transition(
            session, session.get_one(Identity, identity_id), "suspended", "test"
        )


def events(services: Services, action: str) -> list[AuditEvent]:
    with services.sessions() as session:
        query = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)
        return list(session.scalars(query))


def all_stored_text(services: Services) -> str:
    with services.sessions() as session:
        audit = session.scalars(select(AuditEvent)).all()
        failures = session.scalars(select(AuthFailure.username)).all()
    rows = [f"{e.target_id} {e.old_values} {e.new_values} {e.reason}" for e in audit]
    return " ".join(rows + list(failures))


def flush(services: Services, clock: FrozenClock) -> list[dict[str, object]]:
    clock.advance(WINDOW + GRACE)
    with transaction(services.sessions) as session:
        services.refusals.flush_due(session)
    return [json.loads(e.new_values) for e in events(services, "auth:refusals:aggregated")]


# --- finding 6: answered alike ------------------------------------------------------------


@pytest.mark.req("LOCK-3")
def test_a_suspended_account_locks_at_the_same_count_as_an_unknown_name(
    services: Services, org: Org
) -> None:
    suspend(services, org.person)
    suspended = [answer(services, "jdoe") for _ in range(6)]
    unknown = [answer(services, "nobody") for _ in range(6)]
    assert suspended == unknown
    assert [a[0] for a in unknown] == [401] * 4 + [423] * 2
    assert answer(services, "jdoe", PASSWORD) == unknown[-1]  # the right password: still 423
    with services.sessions() as session:
        assert session.get_one(Identity, org.person).status == "suspended"  # status kept


@pytest.mark.req("LOCK-3")
def test_an_unknown_names_lock_does_not_lapse_while_a_real_one_stays(
    services: Services, org: Org, clock: FrozenClock
) -> None:
    for _ in range(5):
        attempt(services, "wrong")
        attempt(services, "wrong", username="nobody")
    clock.advance(timedelta(hours=6))  # far past the 15-minute attack window
    assert answer(services, "jdoe") == answer(services, "nobody")
    assert answer(services, "nobody")[0] == 423


@pytest.mark.req("LOCK-3")
@pytest.mark.req("LOCK-2")
def test_a_timed_unlock_lifts_real_and_simulated_locks_alike(
    services: Services, org: Org, clock: FrozenClock
) -> None:
    with transaction(services.sessions) as session:
        services.policies.change(session, "lockout", {"timed_unlock_minutes": 30}, "t", "t")
    for _ in range(5):
        attempt(services, "wrong")
        attempt(services, "wrong", username="nobody")
    clock.advance(timedelta(minutes=29))
    assert answer(services, "jdoe") == answer(services, "nobody")
    assert answer(services, "nobody")[0] == 423
    clock.advance(timedelta(minutes=2))
    real, simulated = [answer(services, name) for name in ("jdoe", "nobody")]
    assert real == simulated
    assert real[0] == 401  # lifted: counting again from one


class DirectoryLockingAt:
    """The person's password checked locally until `threshold` wrong ones; then the directory
    has locked the account and answers AD's 775 to every bind, right password or not."""

    def __init__(self, services: Services, username: str, threshold: int) -> None:
        self._inner = services.passwords
        self._username = username
        self._threshold = threshold
        self.wrong = 0

    def prepare(self, session: Session, identity: Identity | None, name: str | None) -> object:
        return identity is not None and identity.username == self._username, (
            self._inner.prepare(session, identity, name)
        )

    def check(self, prepared: object, password: object) -> bool | SourceRefusal:
        assert isinstance(prepared, tuple)
        theirs, inner = prepared
        if theirs and self.wrong >= self._threshold:
            return verdict(bind_outcome(49, AD_775), "corp")
        result = self._inner.check(inner, password)
        self.wrong += bool(theirs and result is False)
        return result

    def after_success(
        self, session: Session, identity: Identity, password: str, prepared: object
    ) -> CredentialState:
        assert isinstance(prepared, tuple)
        return self._inner.after_success(session, identity, password, prepared[1])


@pytest.mark.req("LOCK-3")
def test_the_directorys_own_lock_775_answers_like_a_wrong_password(
    services: Services, org: Org
) -> None:
    """AD locks after 3 wrong passwords and answers 775 from then on; idgov locks at 5. At
    each count the answer is the one an unknown name gets at the same count."""
    auth = AuthenticationService(
        services.sessions,
        services.trail,
        services.policies,
        services.identities,
        services.lockout,
        services.auth._attacks,
        DirectoryLockingAt(services, "jdoe", threshold=3),
        services.ledger,
        Anonymity(
            NamePseudonyms(lambda: services.settings.server.secret_key),
            ShadowLockout(services.clock),
            services.refusals,
        ),
    )

    def directory_answer(password: str) -> tuple[object, ...]:
        try:
            auth.authenticate("jdoe", password, channel="login", source=SOURCE)
        except IdgovError as refused:
            return (refused.status, refused.type_slug, refused.detail, refused.extensions)
        return ("ok",)

    person = [directory_answer("wrong") for _ in range(3)]
    person += [directory_answer(PASSWORD), directory_answer(PASSWORD)]  # 775 now
    unknown = [answer(services, "nobody") for _ in range(5)]
    assert person == unknown
    assert [a[0] for a in person] == [401] * 4 + [423]
    reasons = [json.loads(e.new_values)["reason"] for e in events(services, "auth:login:failed")]
    assert reasons.count("directory-locked") == 2  # the trail still says why (security unit)


# --- finding 7: unknown names only as keyed pseudonyms -------------------------------------


@pytest.mark.req("AUD-1")
@pytest.mark.req("LOCK-3")
def test_a_password_typed_as_username_is_kept_only_as_an_hmac_that_correlates(
    services: Services, org: Org, clock: FrozenClock
) -> None:
    for typed in (TYPED_PASSWORD, f" {TYPED_PASSWORD.upper()}"):  # normalised alike
        with pytest.raises(InvalidCredentials):
            services.auth.authenticate(typed, "x", channel="login", source=SOURCE)
    with services.sessions() as session:
        kept = session.scalars(
            select(AuthFailure.username).where(AuthFailure.identity_id.is_(None))
        ).all()
    key = NamePseudonyms(lambda: services.settings.server.secret_key)._derived_key()
    typed = TYPED_PASSWORD.casefold().encode()
    expected = "hmac-sha256:" + hmac.new(key, typed, hashlib.sha256).hexdigest()
    assert kept == [expected, expected]  # two guesses correlate
    assert key != services.settings.server.secret_key.encode()  # a key of its own (LABEL)
    assert LABEL
    [aggregate] = flush(services, clock)
    assert aggregate["names"] == [expected]
    stored = all_stored_text(services)
    assert TYPED_PASSWORD not in stored
    assert TYPED_PASSWORD.lower() not in stored
    # A known username stays readable: it names a person, as the trail must (AUD-1).
    attempt(services, "wrong")
    assert "jdoe" in all_stored_text(services)


# --- finding 3: anonymous refusals in aggregate --------------------------------------------


@pytest.mark.req("AUD-1")
def test_anonymous_refusals_are_audited_once_per_source_and_window(
    services: Services, org: Org, clock: FrozenClock
) -> None:
    for name in ("ghost1", "ghost2", "ghost1"):
        attempt(services, "x", username=name, source="198.51.100.1")
    attempt(services, "x", username="ghost3", source="198.51.100.2")
    attempt(services, "wrong")  # a real account: audited on its own (LOCK-1, ALERT-1)
    assert len(events(services, "auth:login:failed")) == 1
    assert events(services, "auth:refusals:aggregated") == []  # the window is still open
    aggregates = {a["source_address"]: a for a in flush(services, clock)}
    assert set(aggregates) == {"198.51.100.1", "198.51.100.2"}
    first = aggregates["198.51.100.1"]
    assert (first["refusals"], first["distinct_names"]) == (3, 2)
    assert first["by_reason"] == [{"channel": "login", "reason": "unknown-user", "refusals": 3}]
    assert first["window_start"] == "2026-03-02T09:30:00.000000Z"
    assert first["window_end"] == "2026-03-02T09:45:00.000000Z"
    with transaction(services.sessions) as session:
        assert services.refusals.flush_due(session) == 0  # recorded once
    # The next window is recorded by the next refusal after it ends, worker or not.
    attempt(services, "x", username="ghost4", source="198.51.100.1")
    clock.advance(WINDOW + GRACE)
    attempt(services, "x", username="ghost5", source="198.51.100.9")
    assert len(events(services, "auth:refusals:aggregated")) == 3
    assert services.verifier.verify().ok


@pytest.mark.req("AUD-1")
def test_a_refusal_in_a_window_recorded_already_is_audited_on_its_own(
    services: Services, org: Org, clock: FrozenClock
) -> None:
    attempt(services, "x", username="ghost", source=SOURCE)
    clock.advance(WINDOW + GRACE)
    with transaction(services.sessions) as session:
        services.refusals.flush_due(session)
    clock.advance(-(WINDOW + GRACE))  # a process whose clock is late
    attempt(services, "x", username="ghost", source=SOURCE)
    [late] = events(services, "auth:login:failed")
    assert late.target_id.startswith("hmac-sha256:")


@pytest.mark.req("AUD-1")
@pytest.mark.req("LOCK-3")
def test_concurrent_anonymous_refusals_are_each_counted_once(
    services: Services, org: Org, clock: FrozenClock
) -> None:
    refusals = 20
    barrier = threading.Barrier(refusals)

    def guess(index: int) -> None:
        barrier.wait()
        attempt(services, "x", username=f"ghost{index % 4}", source=SOURCE)

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(refusals)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with services.sessions() as session:
        assert session.scalars(select(RefusalWindow.refusals)).one() == refusals
    [aggregate] = flush(services, clock)
    assert (aggregate["refusals"], aggregate["distinct_names"]) == (refusals, 4)


# --- finding 3: token-endpoint guessing ----------------------------------------------------


def guess_secret(services: Services, client_id: str, source: str) -> None:
    request = TokenRequest(client_id, "not-the-secret", "client_credentials", None)
    with pytest.raises(TokenRefused), transaction(services.sessions) as session:
        services.clients.exchange(session, request, source)


@pytest.mark.req("ALERT-1")
def test_client_secret_guessing_raises_one_alert_per_burst(services: Services) -> None:
    with transaction(services.sessions) as session:
        client, _secret = services.clients.add(session, "lims", ["signatures"])
    for _ in range(25):  # threshold 10: one burst, one alert
        guess_secret(services, client.client_id, "203.0.113.5")
    with services.sessions() as session:
        [alert] = session.scalars(select(Alert).where(Alert.kind == "attack-client-secret"))
    assert client.client_id in alert.summary
    assert json.loads(alert.details)["failures_for_client"] == 10
    assert events(services, "client:token:refused") == []  # aggregated, not one each
    for index in range(10):  # one source trying many unknown client ids
        guess_secret(services, f"cl_guess{index}", "203.0.113.77")
    with services.sessions() as session:
        kinds = session.scalars(select(Alert.summary).where(Alert.kind == "attack-client-secret"))
        summaries = sorted(kinds)
    assert len(summaries) == 2
    assert "source 203.0.113.77" in summaries[1]
    assert "cl_guess" not in all_stored_text(services)  # unknown ids only as pseudonyms
