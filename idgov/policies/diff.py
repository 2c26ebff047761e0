"""Two versions of a policy compared field by field (CHG-1: what a change changed)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MISSING = object()  # a field one of the two versions does not have (a field added later)


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: Any  # MISSING when the older version has no such field
    new: Any  # MISSING when the newer version has no such field


def field_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[FieldChange]:
    """Every top-level field whose value differs, in the newer version's field order and
    then the fields only the older one has; equal values (JSON-equal) are left out."""
    names = [*new, *(name for name in old if name not in new)]
    return [
        FieldChange(name, old.get(name, MISSING), new.get(name, MISSING))
        for name in names
        if old.get(name, MISSING) != new.get(name, MISSING)
    ]
