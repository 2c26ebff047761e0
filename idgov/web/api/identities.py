"""Identity administration API (/api/v1/identities): create, verify, status, unlock, reset."""

from __future__ import annotations

from flask import Blueprint, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from idgov.clock import iso_utc
from idgov.db import transaction
from idgov.entitlements.reads import EntitlementReader
from idgov.identity.creation import NewIdentity
from idgov.identity.models import Identity
from idgov.web.api.admin_schemas import (
    HandoverOut,
    IdentityIn,
    IdentityList,
    IdentityOut,
    PasswordResetOut,
    ReasonIn,
    StatusIn,
    VerificationIn,
)
from idgov.web.api.directory_schemas import HoldingList, HoldingOut
from idgov.web.api.openapi import api_doc
from idgov.web.api.responses import json_response
from idgov.web.auth import me, roles_required
from idgov.web.context import services

bp = Blueprint("api_identities", __name__, url_prefix="/api/v1/identities")
READERS = ("admin", "security_officer", "auditor")
ERRORS = [400, 401, 403, 404, 409, 422]


def _out(session: Session, identity: Identity) -> IdentityOut:
    return IdentityOut.of(identity, services().identities.roles(session, identity.id))


@bp.get("")
@roles_required(*READERS)
@api_doc(
    summary="Every identity, deactivated included",
    response=IdentityList,
    tags=["identities"],
    errors=[401, 403],
)
def list_identities() -> Response:
    with services().sessions() as session:
        people = session.scalars(select(Identity).order_by(Identity.username)).all()
        return json_response(IdentityList(identities=[_out(session, p) for p in people]))


@bp.post("")
@roles_required("admin")
@api_doc(
    summary="Register a person (pending verification)",
    response=IdentityOut,
    body=IdentityIn,
    tags=["identities"],
    errors=ERRORS,
    status=201,
)
def create_identity(body: IdentityIn) -> Response:
    new = NewIdentity(
        body.username, body.printed_name, body.email, body.manager_id, tuple(body.roles)
    )
    with transaction(services().sessions) as session:
        identity = services().identities.create(session, new, body.reason)
        return json_response(_out(session, identity), 201)


@bp.get("/<id:identity_id>")
@roles_required(*READERS)
@api_doc(summary="One identity", response=IdentityOut, tags=["identities"], errors=[401, 403, 404])
def get_identity(identity_id: str) -> Response:
    with services().sessions() as session:
        return json_response(_out(session, services().identities.get(session, identity_id)))


@bp.get("/<id:identity_id>/entitlements")
@roles_required(*READERS)
@api_doc(
    summary="What the identity holds now: directory groups (nested ones with their path) and "
    "host-system roles (REV-1)",
    response=HoldingList,
    tags=["identities"],
    errors=[401, 403, 404],
)
def identity_entitlements(identity_id: str) -> Response:
    with services().sessions() as session:
        services().identities.get(session, identity_id)
        held = EntitlementReader().of_identity(session, identity_id)
    out = [HoldingOut(**{**vars(h), "granted_at": iso_utc(h.granted_at)}) for h in held]
    return json_response(HoldingList(entitlements=out))


@bp.post("/<id:identity_id>/verification")
@roles_required("admin", "security_officer")
@api_doc(
    summary="Record that you verified this person's identity (IDV-1)",
    response=IdentityOut,
    body=VerificationIn,
    tags=["identities"],
    errors=ERRORS,
)
def verify_identity(identity_id: str, body: VerificationIn) -> Response:
    with transaction(services().sessions) as session:
        person = services().identities.get(session, identity_id)
        services().identities.record_verification(
            session, person, me(session), body.evidence_type, body.evidence_reference, body.note
        )
        return json_response(_out(session, person))


@bp.post("/<id:identity_id>/status")
@roles_required("admin")
@api_doc(
    summary="Suspend, reactivate or deactivate (never deleted); 409 for a locked person "
    "(use unlock), yourself, and the last active administrator or security officer",
    response=IdentityOut,
    body=StatusIn,
    tags=["identities"],
    errors=ERRORS,
)
def change_status(identity_id: str, body: StatusIn) -> Response:
    with transaction(services().sessions) as session:
        person = services().identities.get(session, identity_id)
        services().identities.change_status(session, person, body.status, body.reason, me(session))
        return json_response(_out(session, person))


@bp.post("/<id:identity_id>/unlock")
@roles_required("security_officer")
@api_doc(
    summary="Lift a lockout, with a reason (LOCK-2)",
    response=IdentityOut,
    body=ReasonIn,
    tags=["identities"],
    errors=ERRORS,
)
def unlock(identity_id: str, body: ReasonIn) -> Response:
    with transaction(services().sessions) as session:
        person = services().identities.get(session, identity_id)
        services().lockout.unlock(session, person, me(session), body.reason)
        return json_response(_out(session, person))


@bp.post("/<id:identity_id>/rehire")
@roles_required("admin")
@api_doc(
    summary="Relink a returning person to their own identity (UNQ-1)",
    response=IdentityOut,
    body=ReasonIn,
    tags=["identities"],
    errors=ERRORS,
)
def rehire(identity_id: str, body: ReasonIn) -> Response:
    with transaction(services().sessions) as session:
        person = services().identities.get(session, identity_id)
        services().identities.rehire(session, person, body.reason)
        return json_response(_out(session, person))


@bp.post("/<id:identity_id>/password-reset")
@roles_required("admin", "security_officer")
@api_doc(
    summary="Reset a password: the old one stops, and a single-use set-password link goes to "
    "the owner only, by e-mail or through a second person (CMP-2); never in this answer",
    response=PasswordResetOut,
    body=ReasonIn,
    tags=["identities"],
    errors=ERRORS,
)
def reset_password(identity_id: str, body: ReasonIn) -> Response:
    with transaction(services().sessions) as session:
        person = services().identities.get(session, identity_id)
        issued = services().password_setups.reset(session, person, me(session), body.reason)
    expires_at = iso_utc(issued.expires_at)
    return json_response(
        PasswordResetOut(delivery=issued.delivery, expires_at=expires_at, sent_to=issued.sent_to)
    )


@bp.post("/<id:identity_id>/password-reset/handover")
@roles_required("admin", "security_officer")
@api_doc(
    summary="Handover mode: a second administrator or security officer (not the one who reset, "
    "not the owner) retrieves the set-password link once, to hand it to the owner (CMP-2)",
    response=HandoverOut,
    tags=["identities"],
    errors=[401, 403, 404, 409],
)
def hand_over_link(identity_id: str) -> Response:
    with transaction(services().sessions) as session:
        person = services().identities.get(session, identity_id)
        url = services().password_setups.hand_over(session, person, me(session))
    response = json_response(HandoverOut(set_password_url=url))
    response.headers["Cache-Control"] = "no-store"
    return response
