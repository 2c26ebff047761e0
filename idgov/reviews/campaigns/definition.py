"""A campaign definition as given (REV-1): the one schema of its fields, bounds and defaults.

The API schema, the admin page, `idgov campaigns define` and CampaignService.define all read
their bounds and defaults from here, so they cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from idgov.errors import InvalidRequest

NAME_MAX = 200


@dataclass(frozen=True)
class DayBound:
    low: int
    high: int
    default: int
    description: str | None = None


DAYS = {
    "duration_days": DayBound(1, 365, 30),
    "reminder_days": DayBound(0, 365, 7, "Reminder before the due date"),
    "escalation_days": DayBound(1, 90, 7, "Grace of each escalation"),
    "dormant_days": DayBound(1, 3650, 90, "No login this long: flagged"),
}


@dataclass(frozen=True)
class NewDefinition:
    name: str
    scope: object
    reviewer_rule: str
    fallback_reviewer_id: str
    duration_days: int = DAYS["duration_days"].default
    reminder_days: int = DAYS["reminder_days"].default
    escalation_days: int = DAYS["escalation_days"].default
    dormant_days: int = DAYS["dormant_days"].default
    schedule: str | None = None
    certify_justification: bool = False

    def checked_name(self) -> str:
        """The name without surrounding blanks; InvalidRequest unless within bounds, as every
        day count is."""
        for field, bound in DAYS.items():
            value = getattr(self, field)
            if not bound.low <= value <= bound.high:
                raise InvalidRequest(
                    f"{field} must be between {bound.low} and {bound.high}", field=field
                )
        name = self.name.strip()
        if not name or len(name) > NAME_MAX:
            raise InvalidRequest(f"name is required (at most {NAME_MAX} characters)", field="name")
        return name
