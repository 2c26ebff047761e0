"""The actions of a person's page (POST /people/<id>/...): each a CSRF-protected form with a
reason, the role check of the API route doing the same (person_page.ACTION_ROLES, ACC-2:
refusals audited), and the same service call, so the audit event is the API's (AUD-1).

A refusal draws the page again with the error on the form that was sent and its status
code; nothing changed. Success redirects back to the page with a flash.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from idgov.db import transaction
from idgov.errors import IdgovError, InvalidRequest
from idgov.identity.models import Identity
from idgov.identity.usernames import normalize_username
from idgov.web.auth import me, roles_required
from idgov.web.context import services
from idgov.web.ui.forms import plain_field, required_reason
from idgov.web.ui.person_page import ACTION_ROLES, STATUS_CHOICES, render_person

bp = Blueprint("person_actions", __name__, url_prefix="/people")
# One change: (session, the person, the signed-in actor, the reason) -> the flash message.
Change = Callable[[Session, Identity, Identity, str], str]


def action(name: str, path: str) -> Callable[[Change], Change]:
    """Registers `change` as POST /people/<id><path> (endpoint: the function's name) behind
    the roles of ACTION_ROLES[name]: the reason is read first, then the change runs in one
    transaction with its audit event (AUD-1)."""

    def register(change: Change) -> Change:
        def view(identity_id: str) -> ResponseReturnValue:
            return _act(identity_id, name, change)

        view.__name__, view.__doc__ = change.__name__, change.__doc__
        guarded = roles_required(*ACTION_ROLES[name])(view)
        bp.add_url_rule(f"/<id:identity_id>{path}", methods=["POST"], view_func=guarded)
        return change

    return register


@action("verify", "/verification")
def verify(session: Session, person: Identity, actor: Identity, reason: str) -> str:
    """IDV-1, CMP-2 (11.100(b), 11.200(a)(3)): never oneself, never whoever created or
    rehired the person; the service refuses both (403)."""
    form = request.form
    found = services().identities.record_verification(
        session,
        person,
        actor,
        form.get("evidence_type", ""),
        plain_field(form, "evidence_reference", 200),
        reason,
    )
    state = person.status.replace("_", " ")
    return (
        f"Identity verification of {person.username} recorded ({found.evidence_type}); now {state}."
    )


@action("roles", "/roles")
def set_roles(session: Session, person: Identity, actor: Identity, reason: str) -> str:
    """ACC-2: the roles decide who may do what; the last active administrator or security
    officer keeps theirs (identity/continuity.py)."""
    wanted = request.form.getlist("roles")
    services().identities.set_roles(session, person, wanted, reason)
    return f"Roles of {person.username}: {', '.join(sorted(wanted)) or 'none'}."


@action("manager", "/manager")
def set_manager(session: Session, person: Identity, actor: Identity, reason: str) -> str:
    """The manager hears of lockouts (ALERT-1) and reviews access (REV-2); empty: none."""
    manager = _manager(session, plain_field(request.form, "manager", 64))
    manager_id = manager.id if manager is not None else None
    services().identities.set_manager(session, person, manager_id, reason)
    named = manager.username if manager else "nobody"
    return f"{person.username} is now managed by {named}."


@action("status", "/status")
def change_status(session: Session, person: Identity, actor: Identity, reason: str) -> str:
    """Suspend, reactivate or deactivate (REC-1: never deleted); a locked person answers 409
    (only a security officer's unlock releases a lock, LOCK-2)."""
    status = request.form.get("status", "")
    if status not in STATUS_CHOICES:
        raise InvalidRequest(f"status: one of {', '.join(STATUS_CHOICES)}", field="status")
    services().identities.change_status(session, person, status, reason, actor)
    return f"{person.username} is now {status}."


@action("rehire", "/rehire")
def rehire(session: Session, person: Identity, actor: Identity, reason: str) -> str:
    """UNQ-1: a returning person gets their own identity back, to be verified again."""
    services().identities.rehire(session, person, reason)
    return f"{person.username} is rehired: another administrator or officer verifies them."


@action("unlock", "/unlock")
def unlock(session: Session, person: Identity, actor: Identity, reason: str) -> str:
    """LOCK-2: a security officer, with a reason; open lockout alerts are acknowledged."""
    services().lockout.unlock(session, person, actor, reason)
    return f"{person.username} is unlocked (now {person.status.replace('_', ' ')})."


@action("reset", "/password-reset")
def reset_password(session: Session, person: Identity, actor: Identity, reason: str) -> str:
    """CMP-2: the old password stops; a single-use link reaches the owner only. The answer
    says how it travels, until when and to which address, never the link."""
    issued = services().password_setups.reset(session, person, actor, reason)
    until = issued.expires_at.strftime("%Y-%m-%d %H:%M:%S UTC")  # local time: on the page
    if issued.delivery == "email":
        return (
            f"Password of {person.username} reset: a single-use set-password link was "
            f"e-mailed to {issued.sent_to}; it expires at {until}."
        )
    return (
        f"Password of {person.username} reset: a second administrator or security "
        "officer retrieves the single-use link from this page and hands it over; it "
        f"expires at {until}."
    )


@bp.post("/<id:identity_id>/password-reset/handover")
@roles_required(*ACTION_ROLES["handover"])
def hand_over(identity_id: str) -> ResponseReturnValue:
    """CMP-2: the link, once, to a second person (not the one who reset, not the owner);
    shown on a page that is never cached (RFC 9111 section 5.2.2.5)."""
    built = services()
    try:
        with transaction(built.sessions) as session:
            person = built.identities.get(session, identity_id)
            url = built.password_setups.hand_over(session, person, me(session))
            username = person.username
    except IdgovError as refused:
        return render_person(identity_id, error=refused, action="handover", form=request.form)
    body = render_template("people/handover.html", url=url, username=username, id=identity_id)
    answer = Response(body, mimetype="text/html")
    answer.headers["Cache-Control"] = "no-store"
    return answer


@action("sessions", "/sessions/revoke")
def revoke_sessions(session: Session, person: Identity, actor: Identity, reason: str) -> str:
    """ACC-3: every web and signing session of the person ends now."""
    ended = services().session_revocation.revoke(session, person, actor, reason)
    return f"Sessions of {person.username} revoked: {ended.web} web, {ended.signing} signing."


def _act(identity_id: str, action: str, change: Change) -> ResponseReturnValue:
    """Reason first, then the change in one transaction with its audit event."""
    built = services()
    try:
        reason = required_reason(request.form)
        with transaction(built.sessions) as session:
            person = built.identities.get(session, identity_id)
            done = change(session, person, me(session), reason)
    except IdgovError as refused:
        return render_person(identity_id, error=refused, action=action, form=request.form)
    flash(done)
    return redirect(url_for("person.show", identity_id=identity_id, _anchor=action), code=303)


def _manager(session: Session, username: str | None) -> Identity | None:
    if username is None:
        return None
    try:
        found = services().identities.by_username(session, normalize_username(username))
    except InvalidRequest as bad:
        raise InvalidRequest(f"manager: {bad.detail}", field="manager") from None
    if found is None:
        raise InvalidRequest(f"manager: nobody has the username {username!r}", field="manager")
    return found
