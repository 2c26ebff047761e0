"""A host's entitlement snapshot, checked and normalized before anything is changed (REV-1)."""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NoReturn, Protocol

from idgov.counted import counted
from idgov.errors import InvalidRequest, UnprocessableRequest
from idgov.identity.usernames import normalize_username

MAX_ASSIGNMENTS = 200_000
MAX_ROLES = 20_000
MAX_ROLE_NAME = 300  # entitlements.key
MAX_DESCRIPTION = 2000
MAX_LISTED = 50  # problems named in one answer; the count says how many there were
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
NUL = "\x00"  # PostgreSQL text refuses it


class SnapshotRole(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def description(self) -> str | None: ...
    @property
    def owner(self) -> str | None: ...


class SnapshotAssignment(Protocol):
    @property
    def username(self) -> str: ...
    @property
    def role(self) -> str: ...


class SnapshotBody(Protocol):
    """`{"roles": [{"name", "description"?, "owner"?}], "assignments": [{"username",
    "role"}]}`: every role the system has, and every account holding each."""

    @property
    def roles(self) -> Sequence[SnapshotRole]: ...
    @property
    def assignments(self) -> Sequence[SnapshotAssignment]: ...


@dataclass(frozen=True)
class Role:
    name: str
    description: str | None
    owner: str | None  # normalized username


@dataclass
class Normalized:
    """The snapshot as idgov keeps it: usernames normalized, rows as (role, username)."""

    roles: dict[str, Role] = field(default_factory=dict)
    assignments: set[tuple[str, str]] = field(default_factory=set)
    owner_rows: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))

    def owners(self) -> list[str]:
        return sorted(self.owner_rows)

    def usernames(self) -> list[str]:
        return sorted({username for _role, username in self.assignments})

    def digest(self) -> str:
        """sha256 over the canonical JSON of the normalized snapshot (sorted, no spaces)."""
        body = {
            "roles": [
                {"name": r.name, "description": r.description, "owner": r.owner}
                for r in sorted(self.roles.values(), key=lambda r: r.name)
            ],
            "assignments": [
                {"role": role, "username": username} for role, username in sorted(self.assignments)
            ],
        }
        text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()

    def refuse_owners(self, unknown: list[str]) -> NoReturn:
        problems = [
            (f"roles[{row}].owner", f"no identity has the username {name!r}")
            for name in unknown
            for row in self.owner_rows[name]
        ]
        _refuse(f"unknown owner usernames: {_listed(unknown)}", problems)


def normalize(body: SnapshotBody) -> Normalized:
    """Check the whole snapshot; UnprocessableRequest naming every bad field (up to
    MAX_LISTED of them), so the host can fix it in one go. Nothing is looked up here."""
    if len(body.assignments) > MAX_ASSIGNMENTS:
        _refuse(
            f"assignments: at most {MAX_ASSIGNMENTS} rows in one snapshot, "
            f"got {len(body.assignments)}",
            [("assignments", f"at most {MAX_ASSIGNMENTS} rows")],
        )
    if len(body.roles) > MAX_ROLES:
        _refuse(
            f"roles: at most {MAX_ROLES} roles in one snapshot, got {len(body.roles)}",
            [("roles", f"at most {MAX_ROLES} roles")],
        )
    found = Normalized()
    problems: list[tuple[str, str]] = []
    summary: list[str] = []
    _roles(body, found, problems, summary)
    _assignments(body, found, problems, summary)
    if problems:
        _refuse("; ".join(summary), problems)
    return found


def _roles(
    body: SnapshotBody, found: Normalized, problems: list[tuple[str, str]], summary: list[str]
) -> None:
    first: dict[str, int] = {}
    repeats: list[tuple[str, str]] = []
    repeated: list[str] = []
    before = len(problems)
    for index, role in enumerate(body.roles):
        where = f"roles[{index}]"
        name, description = role.name, role.description
        if not 0 < len(name) <= MAX_ROLE_NAME or CONTROL.search(name) or name != name.strip():
            problems.append(
                (f"{where}.name", f"1 to {MAX_ROLE_NAME} printable characters, not padded")
            )
            continue
        if description is not None and (len(description) > MAX_DESCRIPTION or NUL in description):
            problems.append(
                (f"{where}.description", f"at most {MAX_DESCRIPTION} characters, no NUL")
            )
        owner = _username(role.owner, f"{where}.owner", problems) if role.owner else None
        if name in first:
            repeats.append((f"{where}.name", f"repeats roles[{first[name]}]"))
            repeated.append(name)
            continue
        first[name] = index
        found.roles[name] = Role(name, description, owner)
        if owner is not None:
            found.owner_rows[owner].append(index)
    if len(problems) > before:
        summary.append(f"{len(problems) - before} invalid role fields")
    if repeats:
        problems.extend(repeats)
        summary.append(f"duplicate roles: {_listed(list(dict.fromkeys(repeated)))}")


def _assignments(
    body: SnapshotBody, found: Normalized, problems: list[tuple[str, str]], summary: list[str]
) -> None:
    first: dict[tuple[str, str], int] = {}
    repeated: list[str] = []
    undeclared: dict[str, None] = {}
    invalid = 0
    for index, row in enumerate(body.assignments):
        where = f"assignments[{index}]"
        username = _username(row.username, f"{where}.username", problems)
        if username is None:
            invalid += 1
            continue
        if row.role not in found.roles:
            undeclared.setdefault(row.role)
            problems.append((f"{where}.role", f"role {row.role[:100]!r} is not in roles"))
            continue
        key = (row.role, username)
        if key in first:
            repeated.append(f"{username}/{row.role}")
            problems.append((where, f"repeats assignments[{first[key]}]: {username}/{row.role}"))
            continue
        first[key] = index
        found.assignments.add(key)
    if invalid:
        summary.append(f"{counted(invalid, 'assignment')} with an invalid username")
    if undeclared:
        summary.append(f"unknown roles: {_listed([r[:100] for r in undeclared])}")
    if repeated:
        summary.append(f"duplicate assignments: {_listed(repeated)}")


def _username(raw: str, where: str, problems: list[tuple[str, str]]) -> str | None:
    try:
        return normalize_username(raw)
    except InvalidRequest as exc:
        problems.append((where, exc.detail))
        return None


def _listed(names: list[str]) -> str:
    more = len(names) - MAX_LISTED
    return ", ".join(names[:MAX_LISTED]) + (f" and {more} more" if more > 0 else "")


def _refuse(detail: str, problems: list[tuple[str, str]]) -> NoReturn:
    raise UnprocessableRequest(
        detail,
        field=problems[0][0],
        errors=[{"field": where, "problem": text} for where, text in problems[:MAX_LISTED]],
        error_count=len(problems),
    )
