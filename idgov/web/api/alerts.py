"""Alerts API for security officers (/api/v1/alerts): list, acknowledge, re-notify (ALERT-1)."""

from __future__ import annotations

import json

from flask import Blueprint, Response

from idgov.alerts.services import AlertListing
from idgov.clock import iso_utc
from idgov.db import transaction
from idgov.web.api.admin_schemas import (
    AcknowledgeIn,
    AlertList,
    AlertOut,
    AlertQuery,
    ReasonIn,
)
from idgov.web.api.openapi import api_doc
from idgov.web.api.responses import json_response
from idgov.web.auth import roles_required, signed_in
from idgov.web.context import services

bp = Blueprint("api_alerts", __name__, url_prefix="/api/v1/alerts")


def _out(listing: AlertListing) -> AlertOut:
    alert = listing.alert
    return AlertOut(
        id=alert.id,
        kind=alert.kind,
        severity=alert.severity,
        summary=alert.summary,
        identity_id=alert.identity_id,
        username=listing.username,
        source_address=alert.source_address,
        raised_at=iso_utc(alert.raised_at),
        acknowledged_at=iso_utc(alert.acknowledged_at) if alert.acknowledged_at else None,
        acknowledged_by=listing.acknowledged_by,
        deliveries_done=listing.delivered,
        deliveries_pending=listing.pending,
        details=json.loads(alert.details),
    )


@bp.get("")
@roles_required("security_officer", "auditor")
@api_doc(
    summary="Alerts, newest first (?status=open|acknowledged|all)",
    response=AlertList,
    query=AlertQuery,
    tags=["alerts"],
    errors=[401, 403, 422],
)
def list_alerts(query: AlertQuery) -> Response:
    with services().sessions() as session:
        listings = services().alert_service.list(session, query.status, 500)
        return json_response(AlertList(alerts=[_out(item) for item in listings]))


@bp.post("/<id:alert_id>/acknowledgement")
@roles_required("security_officer")
@api_doc(
    summary="Acknowledge an alert with a note; stops re-notification",
    response=AlertOut,
    body=AcknowledgeIn,
    tags=["alerts"],
    errors=[401, 403, 404, 409, 422],
)
def acknowledge(alert_id: str, body: AcknowledgeIn) -> Response:
    with transaction(services().sessions) as session:
        officer = services().identities.get(session, signed_in()[0].id)
        services().alert_service.acknowledge(session, alert_id, officer, body.note)
        return json_response(_out(services().alert_service.listing(session, alert_id)))


@bp.post("/<id:alert_id>/renotification")
@roles_required("security_officer")
@api_doc(
    summary="Re-notify every recipient now, with a reason; 409 once acknowledged",
    response=AlertOut,
    body=ReasonIn,
    tags=["alerts"],
    errors=[401, 403, 404, 409, 422],
)
def renotify(alert_id: str, body: ReasonIn) -> Response:
    with transaction(services().sessions) as session:
        officer = services().identities.get(session, signed_in()[0].id)
        services().alert_service.renotify(session, alert_id, officer, body.reason)
        return json_response(_out(services().alert_service.listing(session, alert_id)))
