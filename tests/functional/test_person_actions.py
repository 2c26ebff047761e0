"""The person's page actions on who they are: verify (IDV-1, CMP-2), roles and manager
(ACC-2), status and rehire (UNQ-1, LOCK-2); each audited with its reason (AUD-1), each
refusal shown on its form with nothing changed."""

from __future__ import annotations

import pytest
from flask import Flask

from idgov.identity.models import IdentityStatus
from idgov.wiring import Services
from tests.functional.people import events
from tests.functional.person_support import act, signed, staff, status_of, text_of
from tests.functional.test_console_alerts import lock_out


@pytest.fixture
def people(services: Services) -> dict[str, str]:
    return staff(services)


def verify_form(**extra: str) -> dict[str, str]:
    return {"evidence_type": "government-id", "evidence_reference": "P-1234", **extra}


@pytest.mark.req("IDV-1")
@pytest.mark.req("CMP-2")
def test_the_creator_cannot_verify_and_a_second_admin_does(
    app: Flask, services: Services, people: dict[str, str]
) -> None:
    jdoe = people["jdoe"]
    refused = act(signed(app, "ada"), jdoe, "verification", **verify_form(reason="seen"))
    assert refused.status_code == 403
    page = text_of(refused)
    assert "Refused (403)" in page
    assert "cannot also verify it" in page
    assert 'value="P-1234"' in page  # what was typed is kept on the form
    assert status_of(services, jdoe) == IdentityStatus.PENDING_VERIFICATION
    before = len(events(services, "identity:verification:recorded"))

    done = act(signed(app, "bob"), jdoe, "verification", **verify_form(reason="passport seen"))
    assert done.status_code == 303
    assert done.headers["Location"].endswith(f"/people/{jdoe}#verify")
    recorded = events(services, "identity:verification:recorded")
    assert len(recorded) == before + 1
    assert (recorded[-1].actor_id, recorded[-1].reason) == (people["bob"], "passport seen")
    assert status_of(services, jdoe) == IdentityStatus.ACTIVE


@pytest.mark.req("IDV-1")
def test_the_flash_and_the_page_show_the_verification(
    app: Flask, services: Services, people: dict[str, str]
) -> None:
    bob = signed(app, "bob")
    done = act(bob, people["jdoe"], "verification", **verify_form(reason="passport seen"))
    page = text_of(bob.get(done.headers["Location"]))
    assert "Identity verification of jdoe recorded (government-id); now active." in page
    assert "Bob Second (bob)" in page
    assert "P-1234" in page


@pytest.mark.req("IDV-1")
def test_nobody_verifies_themself(app: Flask, services: Services, people: dict[str, str]) -> None:
    refused = act(signed(app, "bob"), people["bob"], "verification", **verify_form(reason="me"))
    assert refused.status_code == 403
    assert "nobody may verify their own identity" in text_of(refused)


@pytest.mark.req("AUD-1")
def test_a_missing_reason_or_evidence_is_shown_on_the_form_and_changes_nothing(
    app: Flask, services: Services, people: dict[str, str]
) -> None:
    bob, jdoe = signed(app, "bob"), people["jdoe"]
    before = len(events(services, "identity:verification:recorded"))
    no_reason = act(bob, jdoe, "verification", **verify_form(reason="  "))
    assert no_reason.status_code == 400
    page = text_of(no_reason)
    assert "Refused (400): reason: say why" in page
    assert 'id="verify-reason" name="reason"' in page
    assert 'aria-describedby="verify-reason-error"' in page
    no_evidence = act(bob, jdoe, "verification", evidence_type="", reason="seen")
    assert no_evidence.status_code == 400
    assert "Evidence type: evidence_type is required" in text_of(no_evidence)
    assert len(events(services, "identity:verification:recorded")) == before
    assert status_of(services, jdoe) == IdentityStatus.PENDING_VERIFICATION


@pytest.mark.req("ACC-2")
def test_wrong_roles_are_refused_and_audited(
    app: Flask, services: Services, people: dict[str, str]
) -> None:
    eve, sam, jdoe = signed(app, "eve"), signed(app, "sam"), people["jdoe"]
    assert act(eve, jdoe, "verification", **verify_form(reason="x")).status_code == 403
    assert act(sam, jdoe, "roles", roles="admin", reason="x").status_code == 403
    assert act(sam, jdoe, "status", status="suspended", reason="x").status_code == 403
    refused = [e.new_values for e in events(services, "access:person_actions-verify:refused")]
    refused += [e.new_values for e in events(services, "access:person_actions-set_roles:refused")]
    refused += [
        e.new_values for e in events(services, "access:person_actions-change_status:refused")
    ]
    assert len(refused) == 3
    assert status_of(services, jdoe) == IdentityStatus.PENDING_VERIFICATION


@pytest.mark.req("ACC-1")
def test_a_form_without_the_csrf_token_is_refused(
    app: Flask, services: Services, people: dict[str, str]
) -> None:
    bob = signed(app, "bob")
    sent = bob.post(f"/people/{people['jdoe']}/verification", data=verify_form(reason="x"))
    assert sent.status_code == 403
    assert status_of(services, people["jdoe"]) == IdentityStatus.PENDING_VERIFICATION


@pytest.mark.req("ACC-2")
@pytest.mark.req("AUD-1")
def test_an_admin_sets_roles_and_manager_with_a_reason(
    app: Flask, services: Services, people: dict[str, str]
) -> None:
    ada, jdoe = signed(app, "ada"), people["jdoe"]
    unknown = act(ada, jdoe, "roles", roles=["reviewer", "wizard"], reason="team lead")
    assert unknown.status_code == 400
    assert "Refused (400): Roles: unknown roles: wizard" in text_of(unknown)
    done = act(ada, jdoe, "roles", roles=["reviewer", "auditor"], reason="team lead")
    assert done.status_code == 303
    [changed] = events(services, "identity:roles:changed")
    assert changed.reason == "team lead"
    assert '"roles":["auditor","reviewer"]' in changed.new_values

    nobody = act(ada, jdoe, "manager", manager="ghost", reason="reorg")
    assert nobody.status_code == 400
    assert "Refused (400): manager: nobody has the username 'ghost'" in text_of(nobody)
    assert act(ada, jdoe, "manager", manager="Bob", reason="reorg").status_code == 303
    [moved] = events(services, "identity:manager:changed")
    assert (moved.reason, moved.actor_id) == ("reorg", people["ada"])
    page = text_of(ada.get(f"/people/{jdoe}"))
    assert "auditor, reviewer" in page
    assert ">Bob Second</a> (bob)" in page
    loop = act(ada, people["bob"], "manager", manager="jdoe", reason="loop")
    assert loop.status_code == 400
    assert "management loop" in text_of(loop)


@pytest.mark.req("LOCK-2")
@pytest.mark.req("AUD-1")
def test_status_changes_and_a_locked_person_answers_409(
    app: Flask, services: Services, people: dict[str, str]
) -> None:
    ada, bob, jdoe = signed(app, "ada"), signed(app, "bob"), people["jdoe"]
    act(bob, jdoe, "verification", **verify_form(reason="passport seen"))
    lock_out(app, "jdoe")
    locked = act(ada, jdoe, "status", status="suspended", reason="leave")
    assert locked.status_code == 409
    page = text_of(locked)
    assert "Refused (409): New status: this identity is locked" in page
    assert "A security officer unlocks" in page
    assert status_of(services, jdoe) == IdentityStatus.LOCKED

    myself = act(ada, people["ada"], "status", status="suspended", reason="x")
    assert myself.status_code == 409
    assert "you cannot suspend or deactivate yourself" in text_of(myself)
    bad = act(ada, people["eve"], "status", status="deleted", reason="x")
    assert bad.status_code == 400
    assert act(ada, people["eve"], "status", status="suspended", reason="leave").status_code == 303
    [suspended] = events(services, "identity:status:suspended")
    assert (suspended.reason, suspended.target_id) == ("leave", people["eve"])
    history = text_of(ada.get(f"/people/{people['eve']}"))
    assert "leave" in history
    assert "(created)" in history


@pytest.mark.req("UNQ-1")
def test_a_deactivated_person_is_rehired_and_verified_again(
    app: Flask, services: Services, people: dict[str, str]
) -> None:
    ada, eve = signed(app, "ada"), people["eve"]
    assert act(ada, eve, "status", status="deactivated", reason="left").status_code == 303
    page = text_of(ada.get(f"/people/{eve}"))
    assert "Rehire eve" in page
    assert "Change the status" not in page
    assert act(ada, eve, "rehire", reason="returned").status_code == 303
    assert status_of(services, eve) == IdentityStatus.PENDING_VERIFICATION
    [rehired] = events(services, "identity:status:pending-verification")
    assert rehired.reason == "returned"
    again = act(ada, eve, "verification", **verify_form(reason="back"))
    assert again.status_code == 403  # ada rehired eve: someone else verifies (IDV-1)
    assert status_of(services, eve) == IdentityStatus.PENDING_VERIFICATION
    assert (
        act(signed(app, "bob"), eve, "verification", **verify_form(reason="back")).status_code
        == 303
    )
    assert status_of(services, eve) == IdentityStatus.ACTIVE


@pytest.mark.parametrize(
    ("action", "form", "field"),
    [
        ("verification", {"evidence_type": "id\x00", "reason": "x"}, "evidence_type"),
        (
            "verification",
            {"evidence_type": "id", "evidence_reference": "r" * 201, "reason": "x"},
            "evidence_reference",
        ),
        ("roles", {"roles": "admin\x00", "reason": "x"}, "roles"),
        ("manager", {"manager": "a\x00b", "reason": "x"}, "manager"),
        ("manager", {"manager": "Ünïcode name!", "reason": "x"}, "manager"),
        ("status", {"status": "", "reason": "x"}, "status"),
        ("rehire", {"reason": "r" * 1001}, "reason"),
        ("password-reset", {"reason": "tab\there"}, "reason"),
        ("sessions/revoke", {"reason": ""}, "reason"),
    ],
)
def test_bad_input_names_its_field_and_changes_nothing(
    app: Flask,
    services: Services,
    people: dict[str, str],
    action: str,
    form: dict[str, str],
    field: str,
) -> None:
    before = len(events(services, "identity:roles:changed"))
    answer = act(signed(app, "bob"), people["jdoe"], action, **form)
    assert answer.status_code == 400, text_of(answer)
    assert field in text_of(answer).split("Refused (400):", 1)[1].split("</p>", 1)[0]
    assert len(events(services, "identity:roles:changed")) == before
    assert status_of(services, people["jdoe"]) == IdentityStatus.PENDING_VERIFICATION
