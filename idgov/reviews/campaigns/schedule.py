"""Campaign schedules as five-field cron expressions (minute hour day month weekday), UTC."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from idgov.errors import InvalidRequest

QUARTERLY = "0 6 1 1,4,7,10 *"  # 06:00 UTC on the first day of each quarter (REV-1 default)
RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 6))
NAMES = ("minute", "hour", "day of month", "month", "day of week")
HORIZON_DAYS = 366 * 5


@dataclass(frozen=True)
class Schedule:
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday, as cron counts
    any_day: bool
    any_weekday: bool

    def next_after(self, moment: datetime) -> datetime:
        """The first time strictly after `moment` (aware, UTC) that the schedule names."""
        start = moment.replace(second=0, microsecond=0) + timedelta(minutes=1)
        day = start.replace(hour=0, minute=0)
        for _ in range(HORIZON_DAYS):
            if self._day_matches(day):
                for hour in sorted(self.hours):
                    for minute in sorted(self.minutes):
                        candidate = day.replace(hour=hour, minute=minute)
                        if candidate >= start:
                            return candidate
            day += timedelta(days=1)
        raise InvalidRequest("the schedule never fires", field="schedule")

    def _day_matches(self, day: datetime) -> bool:
        if day.month not in self.months:
            return False
        weekday = (day.weekday() + 1) % 7
        by_day, by_weekday = day.day in self.days, weekday in self.weekdays
        # cron: when both day fields are restricted, either one matching is enough.
        if self.any_day or self.any_weekday:
            return by_day and by_weekday
        return by_day or by_weekday


def parse_schedule(expression: str) -> Schedule:
    """A five-field cron expression (*, n, a-b, a,b, */n, a-b/n); InvalidRequest naming the
    field otherwise."""
    fields = expression.split()
    if len(fields) != 5:
        raise InvalidRequest(
            "schedule: five fields are needed: minute hour day-of-month month day-of-week",
            field="schedule",
        )
    values = [
        _field(text, bounds, name) for text, bounds, name in zip(fields, RANGES, NAMES, strict=True)
    ]
    schedule = Schedule(
        frozenset(values[0]),
        frozenset(values[1]),
        frozenset(values[2]),
        frozenset(values[3]),
        frozenset(0 if v == 7 else v for v in values[4]),
        # Vixie cron: a day field starting with "*" (also "*/2") does not restrict the day.
        fields[2].startswith("*"),
        fields[4].startswith("*"),
    )
    # A schedule that names no real day (30 February) would never start a campaign: refused
    # here, so no job and no page meets it later. Five years cover every leap day.
    schedule.next_after(datetime(2000, 1, 1, tzinfo=UTC))
    return schedule


def _field(text: str, bounds: tuple[int, int], name: str) -> set[int]:
    low, high = bounds
    found: set[int] = set()
    for part in text.split(","):
        base, _, step_text = part.partition("/")
        try:
            step = int(step_text) if step_text else 1
            if base == "*":
                first, last = low, high
            elif "-" in base:
                first, last = (int(v) for v in base.split("-", 1))
            else:
                first = last = int(base)
        except ValueError:
            raise InvalidRequest(
                f"schedule: {name} {part!r} is not valid", field="schedule"
            ) from None
        upper = 7 if name == "day of week" else high  # 7 is Sunday too
        if step < 1 or first < low or last > upper or first > last:
            raise InvalidRequest(f"schedule: {name} {part!r} is out of range", field="schedule")
        found.update(range(first, last + 1, step))
    return found
