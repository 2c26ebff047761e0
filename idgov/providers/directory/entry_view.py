"""One directory entry as `idgov providers test` shows it: attribute lines or a JSON object."""

from __future__ import annotations

from typing import Any

from idgov.clock import iso_utc
from idgov.providers.directory.attributes import DirectoryUser, EntryProblem

# (label, attribute) in the order docs/directories.md lists them.
_FIELDS = (
    ("dn", "dn"),
    ("key", "key"),
    ("username", "username"),
    ("printed name", "printed_name"),
    ("e-mail", "email"),
    ("manager", "manager_dn"),
    ("member of", "member_of"),
    ("password changed", "password_changed_at"),
    ("password expires", "password_expires_at"),
    ("must change password", "must_change"),
    ("locked", "locked"),
    ("disabled", "disabled"),
    ("created", "created_at"),
    ("modify stamp", "modify_stamp"),
)


def entry_dict(user: DirectoryUser) -> dict[str, Any]:
    """The entry as JSON values: times in UTC ISO 8601, absent values as null."""
    values: dict[str, Any] = {}
    for _label, attribute in _FIELDS:
        value = getattr(user, attribute)
        if attribute.endswith("_at"):
            value = iso_utc(value) if value is not None else None
        elif isinstance(value, tuple):
            value = list(value)
        values[attribute] = value
    return values


def entry_lines(user: DirectoryUser) -> list[str]:
    """One `label: value` line per attribute; `-` for a value the entry does not have."""
    width = max(len(label) for label, _ in _FIELDS) + 1
    values = entry_dict(user)
    lines = []
    for label, attribute in _FIELDS:
        lines.append(f"{label + ':':<{width}} {_text(values[attribute])}")
    return lines


def lookup_dict(username: str, found: DirectoryUser | EntryProblem | None) -> dict[str, Any]:
    """The outcome of looking `username` up: found (with the entry), not-found, or unusable."""
    if isinstance(found, DirectoryUser):
        return {"username": username, "result": "found", "entry": entry_dict(found)}
    if isinstance(found, EntryProblem):
        return {
            "username": username,
            "result": "unusable",
            "dn": found.dn,
            "problem": found.problem,
        }
    return {"username": username, "result": "not-found"}


def _text(value: object) -> str:
    if value is None or value == []:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return "; ".join(str(item) for item in value)
    return str(value)
