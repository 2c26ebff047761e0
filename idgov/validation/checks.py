"""One qualification check: what was expected, what was observed, and whether they agree."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Check:
    """An IQ check as the report prints it (id, title, expected, observed, pass/fail)."""

    id: str
    title: str
    expected: str
    observed: str
    passed: bool

    def as_json(self) -> dict[str, Any]:
        return asdict(self)
