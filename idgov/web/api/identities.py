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
    IdentityIn,
    IdentityList,
    IdentityOut,
    ReasonIn,
    StatusIn,
    TemporaryPassword,
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
    summary="Suspend, reactivate or deactivate (never deleted)",
    response=IdentityOut,
    body=StatusIn,
    tags=["identities"],
    errors=ERRORS,
)
def change_status(identity_id: str, body: StatusIn) -> Response:
    with transaction(services().sessions) as session:
        person = services().identities.get(session, identity_id)
        services().identities.transition(session, person, body.status, body.reason)
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
    summary="Issue a one-time temporary password (CMP-2: it cannot sign)",
    response=TemporaryPassword,
    body=ReasonIn,
    tags=["identities"],
    errors=ERRORS,
)
def reset_password(identity_id: str, body: ReasonIn) -> Response:
    with transaction(services().sessions) as session:
        person = services().identities.get(session, identity_id)
        temporary = services().passwords.admin_reset(session, person, me(session), body.reason)
        status = services().passwords.status(session, person)
    expires = iso_utc(status.expires_at) if status.expires_at else None
    response = json_response(TemporaryPassword(temporary_password=temporary, expires_at=expires))
    response.headers["Cache-Control"] = "no-store"
    return response
