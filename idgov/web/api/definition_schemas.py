"""Schemas of campaign definitions in the access-review API: scope, reviewers, bounds (REV-1)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import Field, StrictBool, StrictInt, field_validator, model_validator

from idgov.errors import InvalidRequest
from idgov.ids import UUID_LIKE
from idgov.reviews.campaigns.definition import DAYS, NAME_MAX
from idgov.reviews.campaigns.schedule import QUARTERLY, parse_schedule
from idgov.reviews.campaigns.scope import parse_scope
from idgov.reviews.models import CampaignDefinition, ReviewerRule
from idgov.signatures.requests import Line
from idgov.web.api.schemas import QueryFlag, Schema, columns_of, iso_or_none

ID_PATTERN = rf"^{UUID_LIKE.pattern}$"  # identities, definitions and campaigns: UUIDs
IdentityId = Annotated[str, Field(pattern=ID_PATTERN)]


class ScopeIn(Schema):
    """Everything (`{"all": true}`), or any of: host systems' roles, whole directories, and
    single groups written DIRECTORY/GROUP."""

    all: StrictBool | None = None
    systems: list[Line] | None = None
    directories: list[Line] | None = None
    groups: list[Line] | None = None

    @model_validator(mode="after")
    def _parses(self) -> ScopeIn:
        try:
            parse_scope(self.as_dict())
        except InvalidRequest as exc:
            raise ValueError(exc.detail) from None
        return self

    def as_dict(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


def _days(field: str) -> Any:
    bound = DAYS[field]
    return Field(default=bound.default, ge=bound.low, le=bound.high, description=bound.description)


class DefinitionIn(Schema):
    name: Line = Field(min_length=1, max_length=NAME_MAX)
    scope: ScopeIn
    reviewer_rule: ReviewerRule = Field(
        description="The holder's manager, the entitlement's owner, or both in two stages"
    )
    fallback_reviewer_id: IdentityId = Field(
        description="Gets the items nobody else may review (REV-2)"
    )
    duration_days: StrictInt = _days("duration_days")
    reminder_days: StrictInt = _days("reminder_days")
    escalation_days: StrictInt = _days("escalation_days")
    dormant_days: StrictInt = _days("dormant_days")
    schedule: Line | None = Field(
        default=QUARTERLY,
        max_length=100,
        description="Five-field cron (UTC); quarterly when omitted, null for on demand only",
    )
    certify_justification: StrictBool = Field(
        default=False, description="Certifications need a justification too"
    )

    @field_validator("schedule")
    @classmethod
    def _schedule_parses(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                parse_schedule(value)
            except InvalidRequest as exc:
                raise ValueError(exc.detail) from None
        return value


class DefinitionOut(Schema):
    id: str
    name: str
    scope: dict[str, Any]
    reviewer_rule: str
    fallback_reviewer_id: str
    duration_days: int
    reminder_days: int
    escalation_days: int
    dormant_days: int
    schedule: str | None
    next_start_at: str | None = Field(description="When the schedule starts the next campaign")
    certify_justification: bool
    created_by: str
    created_at: str
    last_started_at: str | None

    @classmethod
    def of(cls, definition: CampaignDefinition) -> DefinitionOut:
        since, schedule = definition.last_started_at or definition.created_at, definition.schedule
        return cls(
            **columns_of(definition, cls, "scope", "next_start_at"),
            scope=json.loads(definition.scope),
            next_start_at=iso_or_none(
                parse_schedule(schedule).next_after(since) if schedule else None
            ),
        )


class DefinitionList(Schema):
    definitions: list[DefinitionOut]


class StartQuery(Schema):
    start: QueryFlag = Field(default=True, description="false: leave the new campaign a draft")
