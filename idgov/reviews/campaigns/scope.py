"""Campaign scope: which entitlements a campaign covers (REV-1), validated and as SQL."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, false, or_, true

from idgov.entitlements.models import DIRECTORY_GROUP, SYSTEM_ROLE, Entitlement
from idgov.errors import InvalidRequest

MAX_NAMES = 500


@dataclass(frozen=True)
class Scope:
    """Everything (`everything`), or the union of: the roles of host systems, every group of
    whole directories, and single groups named "DIRECTORY/GROUP"."""

    everything: bool = False
    systems: tuple[str, ...] = ()
    directories: tuple[str, ...] = ()
    groups: tuple[tuple[str, str], ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.everything or self.systems or self.directories or self.groups)

    def to_json(self) -> str:
        if self.everything:
            return json.dumps({"all": True})
        return json.dumps(
            {
                "systems": list(self.systems),
                "directories": list(self.directories),
                "groups": [f"{d}/{g}" for d, g in self.groups],
            },
            sort_keys=True,
        )

    def condition(self) -> ColumnElement[bool]:
        """The WHERE clause over `entitlements` that selects what is in scope."""
        if self.everything:
            return true()
        parts: list[ColumnElement[bool]] = []
        if self.systems:
            parts.append(
                and_(Entitlement.source_type == SYSTEM_ROLE, Entitlement.source.in_(self.systems))
            )
        if self.directories:
            parts.append(
                and_(
                    Entitlement.source_type == DIRECTORY_GROUP,
                    Entitlement.source.in_(self.directories),
                )
            )
        for directory, group in self.groups:
            parts.append(
                and_(
                    Entitlement.source_type == DIRECTORY_GROUP,
                    Entitlement.source == directory,
                    Entitlement.name == group,
                )
            )
        return or_(*parts) if parts else false()


def parse_scope(raw: object) -> Scope:
    """A scope from its JSON form; InvalidRequest (field "scope") naming what is wrong. An
    empty scope is refused: a campaign over nothing proves nothing."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise InvalidRequest(f"scope is not JSON: {exc}", field="scope") from None
    if not isinstance(raw, dict):
        raise InvalidRequest("scope must be an object", field="scope")
    unknown = set(raw) - {"all", "systems", "directories", "groups"}
    if unknown:
        raise InvalidRequest(f"scope: unknown keys {sorted(unknown)}", field="scope")
    if raw.get("all") is True:
        if len(raw) > 1:
            raise InvalidRequest('scope: "all" stands alone', field="scope")
        return Scope(everything=True)
    scope = Scope(
        systems=_names(raw.get("systems"), "systems"),
        directories=_names(raw.get("directories"), "directories"),
        groups=tuple(_group(name) for name in _names(raw.get("groups"), "groups")),
    )
    if scope.empty:
        raise InvalidRequest(
            "the scope is empty: name systems, directories or groups, or all", field="scope"
        )
    return scope


def _names(value: Any, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise InvalidRequest(f"scope: {key} must be a list of names", field="scope")
    if len(value) > MAX_NAMES:
        raise InvalidRequest(f"scope: at most {MAX_NAMES} {key}", field="scope")
    return tuple(sorted({v.strip() for v in value}))


def _group(name: str) -> tuple[str, str]:
    directory, slash, group = name.partition("/")
    if not slash or not directory or not group:
        raise InvalidRequest(
            f"scope: group {name!r} must be written DIRECTORY/GROUP", field="scope"
        )
    return directory, group
