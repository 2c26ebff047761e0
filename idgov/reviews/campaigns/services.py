"""CampaignService: define campaigns, start them (freezing the population), move them forward."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from idgov.audit.context import Target
from idgov.audit.trail import AuditTrail
from idgov.clock import Clock, iso_utc
from idgov.counted import counted, plural
from idgov.errors import Conflict, InvalidRequest, NotFound, OutOfSequence
from idgov.identity.models import Identity, IdentityStatus, SignatureCertification
from idgov.reviews.campaigns import population
from idgov.reviews.campaigns.definition import NewDefinition
from idgov.reviews.campaigns.schedule import parse_schedule
from idgov.reviews.campaigns.scope import parse_scope
from idgov.reviews.models import (
    Campaign,
    CampaignDefinition,
    CampaignState,
    ReviewerRule,
    ReviewItem,
)

S = CampaignState
# SEQ-1: a campaign only moves forward through these states.
FORWARD = {S.DRAFT: S.ACTIVE, S.ACTIVE: S.CLOSING, S.CLOSING: S.CLOSED}
INSERT_ITEMS = insert(ReviewItem).execution_options(render_nulls=True)


class CampaignService:
    def __init__(self, clock: Clock, trail: AuditTrail) -> None:
        self._clock = clock
        self._trail = trail

    def define(self, session: Session, new: NewDefinition, created_by: str) -> CampaignDefinition:
        """A campaign definition (REV-1); every value checked, the fallback reviewer must be an
        active identity (REV-2)."""
        scope = parse_scope(new.scope)
        if new.reviewer_rule not in {rule.value for rule in ReviewerRule}:
            choices = ", ".join(rule.value for rule in ReviewerRule)
            raise InvalidRequest(f"reviewer_rule must be one of {choices}", field="reviewer_rule")
        fallback = session.get(Identity, new.fallback_reviewer_id)
        certified = fallback is not None and session.scalar(
            select(SignatureCertification.id)
            .where(SignatureCertification.identity_id == fallback.id)
            .limit(1)
        )
        if fallback is None or fallback.status != IdentityStatus.ACTIVE or not certified:
            raise InvalidRequest(
                "the fallback reviewer must be able to sign: an active identity with a "
                "signature certification (TRN-1)",
                field="fallback_reviewer",
            )
        if new.schedule is not None:
            parse_schedule(new.schedule)
        name = new.checked_name()
        if session.scalar(select(CampaignDefinition.id).where(CampaignDefinition.name == name)):
            raise Conflict(f"a campaign definition named {name!r} exists", field="name")
        definition = CampaignDefinition(
            id=str(uuid.uuid4()),
            name=name,
            scope=scope.to_json(),
            reviewer_rule=new.reviewer_rule,
            fallback_reviewer_id=fallback.id,
            duration_days=new.duration_days,
            reminder_days=new.reminder_days,
            escalation_days=new.escalation_days,
            dormant_days=new.dormant_days,
            schedule=new.schedule,
            certify_justification=new.certify_justification,
            created_by=created_by,
            created_at=self._clock.now(),
            last_started_at=None,
        )
        session.add(definition)
        session.flush()
        self._trail.record(
            session,
            "review:definition:created",
            Target("review-definition", definition.id),
            new={
                "name": name,
                "scope": json.loads(definition.scope),
                "reviewer_rule": new.reviewer_rule,
                "fallback_reviewer_id": fallback.id,
                "duration_days": new.duration_days,
                "reminder_days": new.reminder_days,
                "escalation_days": new.escalation_days,
                "dormant_days": new.dormant_days,
                "schedule": new.schedule,
                "certify_justification": new.certify_justification,
            },
        )
        return definition

    def definition(self, session: Session, definition_id: str) -> CampaignDefinition:
        found = session.get(CampaignDefinition, definition_id)
        if found is None:
            raise NotFound(f"no campaign definition {definition_id!r}")
        return found

    def get(self, session: Session, campaign_id: str) -> Campaign:
        found = session.get(Campaign, campaign_id)
        if found is None:
            raise NotFound(f"no campaign {campaign_id!r}")
        return found

    def draft(self, session: Session, definition_id: str, started_by: str) -> Campaign:
        """A new campaign in state draft, copying the definition as it is now."""
        definition = self.definition(session, definition_id)
        now = self._clock.now()
        campaign = Campaign(
            id=str(uuid.uuid4()),
            definition_id=definition.id,
            name=f"{definition.name} {now:%Y-%m-%d}",
            state=S.DRAFT,
            scope=definition.scope,
            reviewer_rule=definition.reviewer_rule,
            fallback_reviewer_id=definition.fallback_reviewer_id,
            certify_justification=definition.certify_justification,
            escalation_days=definition.escalation_days,
            reminder_days=definition.reminder_days,
            started_by=started_by,
            started_at=now,
            due_at=now + timedelta(days=definition.duration_days),
            closing_at=None,
            closed_at=None,
            completeness="{}",
            population_hash="",
            item_count=0,
        )
        session.add(campaign)
        session.flush()
        self._trail.record(
            session,
            "review:campaign:drafted",
            Target("review-campaign", campaign.id),
            new={"definition_id": definition.id, "name": campaign.name, "state": S.DRAFT},
        )
        return campaign

    def launch(
        self, session: Session, definition_id: str, started_by: str, *, start: bool = True
    ) -> Campaign:
        """A campaign of the definition as it is now, drafted and (unless `start` is False)
        started: refused as a whole, so the caller's rollback leaves no draft behind."""
        campaign = self.draft(session, definition_id, started_by)
        return self.start(session, campaign) if start else campaign

    def start(self, session: Session, campaign: Campaign) -> Campaign:
        """Freeze the population in this one transaction and activate (REV-1): every current
        grant in scope becomes an item with its reviewer (REV-2) and flags (REV-6); the
        completeness statement and the hash over the item list are kept and audited.
        Refused: a scope that selects nothing, and items no eligible reviewer can take."""
        # Locked first: two starts of one draft (a double click, the API and the CLI) must
        # not both freeze the population; the second finds it active and is refused.
        session.refresh(campaign, with_for_update=True)
        self._require(campaign, S.DRAFT)
        definition = self.definition(session, campaign.definition_id)
        scope = parse_scope(campaign.scope)
        now = self._clock.now()
        campaign.started_at, campaign.due_at = now, now + timedelta(days=definition.duration_days)
        frozen = population.freeze(
            session,
            campaign.id,
            scope,
            campaign.reviewer_rule,
            population.reviewers_for(session, campaign.fallback_reviewer_id),
            now,
            campaign.due_at,
            definition.dormant_days,
            lambda rows: session.execute(INSERT_ITEMS, rows),
        )
        if not frozen.items:
            raise Conflict(
                "nothing is in this campaign's scope: no grants to review", field="scope"
            )
        if frozen.unassigned:
            raise Conflict(
                f"{counted(frozen.unassigned, 'item')} {plural(frozen.unassigned, 'has', 'have')} "
                "no eligible reviewer (the fallback reviewer "
                "holds them, or is inactive): choose another fallback reviewer",
                field="fallback_reviewer",
            )
        campaign.completeness = json.dumps(frozen.completeness, sort_keys=True)
        campaign.population_hash = frozen.population_hash
        campaign.item_count = frozen.items
        definition.last_started_at = now
        self._move(session, campaign, S.ACTIVE, "population frozen")
        self._trail.record(
            session,
            "review:campaign:population-frozen",
            Target("review-campaign", campaign.id),
            new={
                "items": campaign.item_count,
                "population_hash": campaign.population_hash,
                "completeness": frozen.completeness,
                "due_at": iso_utc(campaign.due_at),
            },
        )
        return campaign

    def advance(self, session: Session, campaign: Campaign, state: str, reason: str) -> None:
        """The next state, and only the next one (SEQ-1)."""
        self._move(session, campaign, state, reason)

    def _move(self, session: Session, campaign: Campaign, state: str, reason: str) -> None:
        if FORWARD.get(S(campaign.state)) != state:
            raise OutOfSequence(
                f"a campaign in state {campaign.state} cannot move to {state}: states go "
                "draft, active, closing, closed and never back (SEQ-1)",
                field="state",
            )
        old = campaign.state
        campaign.state = state
        now = self._clock.now()
        if state == S.CLOSING:
            campaign.closing_at = now
        if state == S.CLOSED:
            campaign.closed_at = now
        self._trail.record(
            session,
            f"review:campaign:{state}",
            Target("review-campaign", campaign.id),
            old={"state": old},
            new={"state": state},
            reason=reason,
        )

    @staticmethod
    def _require(campaign: Campaign, state: str) -> None:
        if campaign.state != state:
            raise OutOfSequence(f"the campaign is {campaign.state}, not {state}", field="state")

    def pause(self, session: Session, definition_id: str, reason: str, paused: bool) -> None:
        """Stop (or resume) a definition's scheduled starts, audited with the reason; running
        campaigns are not touched and it can still be started on demand."""
        definition = self.definition(session, definition_id)
        why = " ".join((reason or "").split())
        if not why or len(why) > 2000:
            raise InvalidRequest("a reason is required (at most 2000 characters)", field="reason")
        if (definition.paused_at is not None) == paused:
            raise Conflict(
                f"the definition is {'paused' if paused else 'not paused'} already",
                field="paused",
            )
        definition.paused_at = self._clock.now() if paused else None
        self._trail.record(
            session,
            f"review:definition:{'paused' if paused else 'resumed'}",
            Target("review-definition", definition.id),
            old={"paused": not paused},
            new={"paused": paused},
            reason=why,
        )

    def due_definitions(self, session: Session, now: datetime) -> list[CampaignDefinition]:
        """Scheduled definitions whose next start time has come (REV-1: quarterly by default)."""
        due = []
        for definition in session.scalars(
            select(CampaignDefinition).where(
                CampaignDefinition.schedule.is_not(None), CampaignDefinition.paused_at.is_(None)
            )
        ):
            assert definition.schedule is not None
            since = definition.last_started_at or definition.created_at
            if parse_schedule(definition.schedule).next_after(since) <= now:
                due.append(definition)
        return due
