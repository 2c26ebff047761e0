"""Access-review API (/api/v1/campaigns, /api/v1/review-definitions)."""

from __future__ import annotations

import json

from flask import Blueprint, Response, request
from sqlalchemy.orm import Session

from idgov.db import reading, transaction
from idgov.reviews.campaigns.definition import NewDefinition
from idgov.reviews.decisions.signoff import Credentials
from idgov.web.api.definition_schemas import DefinitionIn, DefinitionList, DefinitionOut, StartQuery
from idgov.web.api.openapi import api_doc
from idgov.web.api.responses import json_response
from idgov.web.api.review_schemas import (
    CampaignDetail,
    CampaignList,
    CampaignOut,
    CampaignQuery,
    CloseIn,
    CloseOut,
    CountsOut,
    DecisionIn,
    DecisionOut,
    ItemList,
    ItemOut,
    ItemQuery,
    ReassignmentIn,
    ReassignmentOut,
    RemediationRetried,
    RetryIn,
    ReviewerProgressOut,
    SignoffIn,
    SignoffOut,
)
from idgov.web.api.signature_schemas import StoredManifestationOut
from idgov.web.auth import login_required, me, roles_required, signed_in
from idgov.web.context import services

bp = Blueprint("api_reviews", __name__, url_prefix="/api/v1")
READERS = ("admin", "auditor")  # see every campaign and item; a reviewer sees their own
TAGS = ["reviews"]
ERRORS = [400, 401, 403, 404, 409, 422]


@bp.post("/review-definitions")
@roles_required("admin")
@api_doc(
    summary="Define a campaign: scope, reviewer rule, fallback reviewer, timing (REV-1, REV-2)",
    response=DefinitionOut,
    body=DefinitionIn,
    tags=TAGS,
    errors=ERRORS,
    status=201,
)
def create_definition(body: DefinitionIn) -> Response:
    new = NewDefinition(**body.model_dump(exclude={"scope"}), scope=body.scope.as_dict())
    with transaction(services().sessions) as session:
        definition = services().campaigns.define(session, new, signed_in()[0].username)
        return json_response(DefinitionOut.of(definition), 201)


@bp.get("/review-definitions")
@roles_required(*READERS)
@api_doc(summary="Campaign definitions", response=DefinitionList, tags=TAGS, errors=[401, 403])
def list_definitions() -> Response:
    with reading(services().sessions) as session:
        found = [DefinitionOut.of(d) for d, _ in services().review_reader.definitions(session)]
    return json_response(DefinitionList(definitions=found))


@bp.post("/review-definitions/<id:definition_id>/campaigns")
@roles_required("admin")
@api_doc(
    summary="Start a campaign of a definition now, freezing its population (REV-1); "
    "?start=false leaves it a draft",
    response=CampaignOut,
    query=StartQuery,
    tags=TAGS,
    errors=ERRORS,
    status=201,
)
def create_campaign(definition_id: str, query: StartQuery) -> Response:
    with transaction(services().sessions) as session:  # refused (409) as a whole
        campaign = services().campaigns.launch(
            session, definition_id, signed_in()[0].username, start=query.start
        )
        return json_response(CampaignOut.of(campaign), 201)


@bp.post("/campaigns/<id:campaign_id>/start")
@roles_required("admin")
@api_doc(
    summary="Start a draft campaign (SEQ-1: draft, active, closing, closed)",
    response=CampaignOut,
    tags=TAGS,
    errors=ERRORS,
)
def start_campaign(campaign_id: str) -> Response:
    campaigns = services().campaigns
    with transaction(services().sessions) as session:
        campaign = campaigns.start(session, campaigns.get(session, campaign_id))
        return json_response(CampaignOut.of(campaign))


@bp.get("/campaigns")
@login_required
@api_doc(
    summary="Campaigns, newest first (?state=...); a reviewer sees those with items of theirs",
    response=CampaignList,
    query=CampaignQuery,
    tags=TAGS,
    errors=[401, 422],
)
def list_campaigns(query: CampaignQuery) -> Response:
    with reading(services().sessions) as session:
        found = services().review_reader.campaigns(session, query.state, _viewer(session))
        return json_response(CampaignList(campaigns=[CampaignOut.of(c) for c in found]))


@bp.get("/campaigns/<id:campaign_id>")
@login_required
@api_doc(
    summary="A campaign's state, completeness, counts and progress per reviewer (REV-5)",
    response=CampaignDetail,
    tags=TAGS,
    errors=[401, 403, 404],
)
def get_campaign(campaign_id: str) -> Response:
    with reading(services().sessions) as session:
        campaign = services().campaigns.get(session, campaign_id)
        viewer = _viewer_of(session, campaign_id)
        found = services().review_reader.progress(
            session, campaign_id, services().clock.now(), viewer
        )
        counts = {f: found.total(f) for f in CountsOut.model_fields if f != "undecided"}
        return json_response(
            CampaignDetail(
                **CampaignOut.of(campaign).model_dump(),
                completeness=json.loads(campaign.completeness),
                counts=CountsOut(**counts, undecided=counts["items"] - counts["decided"]),
                reviewers=[ReviewerProgressOut(**vars(row)) for row in found.reviewers],
            )
        )


@bp.get("/campaigns/<id:campaign_id>/items")
@login_required
@api_doc(
    summary="A campaign's items, a page at a time (?mine=true, ?status=undecided|decided|all)",
    response=ItemList,
    query=ItemQuery,
    tags=TAGS,
    errors=[401, 403, 404, 422],
)
def list_items(campaign_id: str, query: ItemQuery) -> Response:
    with reading(services().sessions) as session:
        services().campaigns.get(session, campaign_id)
        viewer = signed_in()[0].id if query.mine else _viewer_of(session, campaign_id)
        page = services().review_reader.items(
            session, campaign_id, viewer, query.status, query.limit, query.offset
        )
        now = services().clock.now()
        items = [ItemOut.of(item, now) for item in page.items]
    return json_response(
        ItemList(items=items, total=page.total, limit=query.limit, offset=query.offset)
    )


@bp.post("/campaigns/<id:campaign_id>/decisions")
@login_required
@api_doc(
    summary="Certify or revoke items assigned to you, one or many, all or none (REV-3)",
    response=DecisionOut,
    body=DecisionIn,
    tags=TAGS,
    errors=ERRORS,
)
def decide(campaign_id: str, body: DecisionIn) -> Response:
    with transaction(services().sessions) as session:
        decided = services().decisions.decide_in_campaign(
            session, campaign_id, signed_in()[0].id, body.items, body.decision, body.justification
        )
    return json_response(DecisionOut(decided=decided, decision=body.decision))


@bp.post("/campaigns/<id:campaign_id>/signoff")
@login_required
@api_doc(
    summary="Sign your decisions in the campaign: an electronic signature, meaning review "
    "(REV-3, MAN-1)",
    response=SignoffOut,
    body=SignoffIn,
    tags=TAGS,
    errors=[*ERRORS, 423, 503],
    status=201,
)
def sign_off(campaign_id: str, body: SignoffIn) -> Response:
    credentials = Credentials(body.password, body.otp, body.temporary_credential)
    signoff = services().signoffs.sign_off(
        campaign_id, signed_in()[0].id, credentials, request.remote_addr
    )
    with reading(services().sessions) as session:
        document = services().signature_reader.get(session, signoff.signature_id).as_dict()
    out = SignoffOut(
        id=signoff.id,
        signature_id=signoff.signature_id,
        digest=signoff.digest,
        items=signoff.item_count,
        stage=signoff.stage,
        manifestation=StoredManifestationOut(**document["manifestation"]),
    )
    return json_response(out, 201)


@bp.post("/campaigns/<id:campaign_id>/reassignments")
@roles_required("admin")
@api_doc(
    summary="Give undecided items to another reviewer, never their holder (REV-2)",
    response=ReassignmentOut,
    body=ReassignmentIn,
    tags=TAGS,
    errors=ERRORS,
)
def reassign(campaign_id: str, body: ReassignmentIn) -> Response:
    with transaction(services().sessions) as session:
        moved = services().escalation.reassign(
            session, body.items, body.reviewer_id, me(session), body.reason, campaign_id=campaign_id
        )
    return json_response(ReassignmentOut(reassigned=moved, reviewer_id=body.reviewer_id))


@bp.post("/campaigns/<id:campaign_id>/close")
@roles_required("admin")
@api_doc(
    summary="Close a campaign: active to closing, then closed once remediation is verified "
    "(or with exceptions); forward only (SEQ-1)",
    response=CloseOut,
    body=CloseIn,
    tags=TAGS,
    errors=ERRORS,
)
def close(campaign_id: str, body: CloseIn) -> Response:
    outcome = services().closer.close(
        campaign_id, signed_in()[0].username, body.reason, with_exceptions=body.with_exceptions
    )
    return json_response(
        CloseOut(
            campaign_id=outcome.campaign_id,
            state=outcome.state,
            moved=list(outcome.moved),
            not_signed=outcome.not_signed,
            unverified=outcome.unverified,
            evidence=outcome.evidence,
        )
    )


@bp.post("/remediations/<rowid:remediation_id>/retry")
@roles_required("admin")
@api_doc(
    summary="Try a failed revocation again once its cause is fixed (REV-4)",
    response=RemediationRetried,
    body=RetryIn,
    tags=TAGS,
    errors=ERRORS,
)
def retry_remediation(remediation_id: int, body: RetryIn) -> Response:
    with transaction(services().sessions) as session:
        found = services().remediation.retry(session, remediation_id, body.reason)
        return json_response(RemediationRetried(id=found.id, status=found.status))


def _viewer(session: Session) -> str | None:
    """None for administrators and auditors, who see everything; else the person's id."""
    person = signed_in()[0]
    return None if services().identities.roles(session, person.id) & set(READERS) else person.id


def _viewer_of(session: Session, campaign_id: str) -> str | None:
    """As `_viewer`; a person who is neither reader nor reviewer in the campaign is refused,
    and the refusal audited (ACC-2)."""
    viewer = _viewer(session)
    if viewer is not None and not services().review_reader.has_items(session, campaign_id, viewer):
        with transaction(services().sessions) as audit:
            services().access.require_roles(
                audit,
                signed_in()[0],
                READERS,
                operation=request.endpoint or request.path,
                path=request.path,
                method=request.method,
            )
    return viewer
