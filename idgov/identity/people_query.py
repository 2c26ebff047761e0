"""The people list as the console reads it: filtered pages by keyset on username (no OFFSET),
with each person's roles and manager, fast at 100,000 identities (issue 15, "Performance").

A page is found by its edge: the people `after` a username (the next page) or `before` one
(the previous page). Usernames are unique and never reassigned (UNQ-1), so ordering by the
username alone is stable. Text matches the start of a username or of a printed name, case
aside: a range on an index (migration 0013_people_list), never a scan of every name.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVarTuple

from sqlalchemy import ColumnElement, Select, SQLColumnExpression, and_, func, select, union
from sqlalchemy.orm import Session

from idgov.identity.models import Identity, IdentityRole, IdentityStatus, Role

PAGE_SIZE = 50
Ts = TypeVarTuple("Ts")
STATUSES = tuple(status.value for status in IdentityStatus)
ROLES = tuple(role.value for role in Role)
LOCAL_SOURCE = "local"
OIDC_SOURCE_PREFIX = "oidc:"  # as identity/sources.py: Identity.provider "oidc:NAME"
ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


@dataclass(frozen=True)
class PeopleFilter:
    """What the list shows: each field None when not filtered. `text` is matched as a prefix
    of the username or the printed name, whatever its case."""

    text: str | None = None
    status: str | None = None
    source: str | None = None
    role: str | None = None


@dataclass(frozen=True)
class PeopleCursor:
    """Which page: people after a username, before one, or the first page (neither)."""

    after: str | None = None
    before: str | None = None


@dataclass(frozen=True)
class PersonRow:
    """One line of the list."""

    id: str
    username: str
    printed_name: str
    status: str
    source: str
    roles: tuple[str, ...]
    manager_id: str | None
    manager_name: str | None
    created_at: datetime
    last_login_at: datetime | None


@dataclass(frozen=True)
class PeoplePage:
    """One page in username order, and the cursors of its neighbours (None: no more)."""

    people: list[PersonRow]
    next_after: str | None  # pass as `after`
    previous_before: str | None  # pass as `before`


def known_sources(directories: Iterable[str], oidc_providers: Iterable[str]) -> tuple[str, ...]:
    """Where people come from: local, each directory by name, each OpenID provider."""
    found = [LOCAL_SOURCE, *sorted(directories)]
    found += [OIDC_SOURCE_PREFIX + name for name in sorted(oidc_providers)]
    return tuple(found)


class PeopleReader:
    """Reads the people list for the console. Changes nothing."""

    def __init__(self, page_size: int = PAGE_SIZE) -> None:
        self._page_size = page_size

    def page(self, session: Session, flt: PeopleFilter, cursor: PeopleCursor) -> PeoplePage:
        """The people matching `flt` next to `cursor` (at most one page), by username."""
        size = self._page_size
        found = self._read(session, flt, cursor, size + 1)
        if cursor.before is not None:
            # Previous: the `size` people just below the cursor, read downwards, shown upwards.
            people = list(reversed(found[:size]))
            earlier = people[0].username if len(found) > size else None
            return PeoplePage(self._rows(session, people), cursor.before, earlier)
        people = found[:size]
        later = people[-1].username if len(found) > size else None
        # After a cursor there was a page before (the one that gave the cursor).
        earlier = people[0].username if cursor.after is not None and people else None
        return PeoplePage(self._rows(session, people), later, earlier)

    @staticmethod
    def _read(
        session: Session, flt: PeopleFilter, cursor: PeopleCursor, limit: int
    ) -> list[Identity]:
        """Up to `limit` people from the cursor on, in the cursor's direction. Text matches
        either the username or the printed name: each half is read in username order from
        its own index, at most `limit` each, and the two are merged, so that a wide prefix
        ("m") costs a page of each, not a walk of every username before the first match."""
        conds = _conditions(flt)
        if flt.text is None:
            return list(session.scalars(_keyset(select(Identity).where(*conds), cursor, limit)))
        by_username, by_name = _starts_with(session, flt.text)
        first = select(Identity.id).where(*conds, by_username)
        # The names' half is read from the printed-name index and sorted: ordered by the bare
        # username, the planner would walk the username index hoping to meet names early,
        # which is a walk of most of the list when names and usernames start alike.
        second = select(Identity.id).where(*conds, by_name)
        halves = [
            _keyset(first, cursor, limit),
            _keyset(second, cursor, limit, order=Identity.username + ""),
        ]
        merged = union(*(select(half.subquery().c.id) for half in halves)).subquery()
        query = select(Identity).where(Identity.id.in_(select(merged.c.id)))
        return list(session.scalars(_keyset(query, cursor, limit)))

    @staticmethod
    def _rows(session: Session, people: list[Identity]) -> list[PersonRow]:
        """The page's people with their roles and managers: two reads of at most a page."""
        ids = [person.id for person in people]
        roles: dict[str, list[str]] = defaultdict(list)
        if ids:
            held = select(IdentityRole.identity_id, IdentityRole.role).where(
                IdentityRole.identity_id.in_(ids)
            )
            for identity_id, role in session.execute(held.order_by(IdentityRole.role)):
                roles[identity_id].append(role)
        manager_ids = {person.manager_id for person in people if person.manager_id}
        names: dict[str, str] = {}
        if manager_ids:
            named = select(Identity.id, Identity.printed_name).where(Identity.id.in_(manager_ids))
            names = {row.id: row.printed_name for row in session.execute(named)}
        return [
            PersonRow(
                id=person.id,
                username=person.username,
                printed_name=person.printed_name,
                status=person.status,
                source=person.provider,
                roles=tuple(roles.get(person.id, ())),
                manager_id=person.manager_id,
                manager_name=names.get(person.manager_id) if person.manager_id else None,
                created_at=person.created_at,
                last_login_at=person.last_login_at,
            )
            for person in people
        ]


def _keyset(
    query: Select[*Ts],
    cursor: PeopleCursor,
    limit: int,
    order: ColumnElement[str] | None = None,
) -> Select[*Ts]:
    """`query` from the cursor on: upwards by username after it (or from the start), downwards
    before it. Usernames are in byte order on both databases (migration 0013_people_list);
    `order`: the same order written so that no index of the username serves it."""
    key = Identity.username.expression if order is None else order
    if cursor.before is not None:
        query = query.where(Identity.username < cursor.before)
        return query.order_by(key.desc()).limit(limit)
    if cursor.after is not None:
        query = query.where(Identity.username > cursor.after)
    return query.order_by(key).limit(limit)


def _conditions(flt: PeopleFilter) -> list[ColumnElement[bool]]:
    """Status, source and role (the text is read apart, see PeopleReader._read)."""
    conds: list[ColumnElement[bool]] = []
    if flt.status is not None:
        conds.append(Identity.status == flt.status)
    if flt.source is not None:
        conds.append(Identity.provider == flt.source)
    if flt.role is not None:
        holders = select(IdentityRole.identity_id).where(IdentityRole.role == flt.role)
        conds.append(Identity.id.in_(holders))
    return conds


def _starts_with(session: Session, text: str) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """Username, and printed name, starting with `text`, case aside: ranges [text, next) in
    an order where that range is exactly the prefix (byte order, case folded), so an index of
    migration 0013_people_list serves each. Usernames are lower-case and in byte order on both
    databases; printed names lowered in "C" on PostgreSQL, NOCASE on SQLite (which folds
    ASCII letters, as SQLite's lower() does)."""
    postgres = session.get_bind().dialect.name == "postgresql"
    # Fold the typed text as the database folds the names: lower() on PostgreSQL; NOCASE on
    # SQLite folds ASCII letters only (there "Érin" is found as "ÉRIN", not as "érin").
    low, high = prefix_range(text.lower() if postgres else text.translate(ASCII_LOWER))
    if postgres:
        name = func.lower(Identity.printed_name).collate("C")
    else:
        name = Identity.printed_name.collate("NOCASE")
    return _in_range(Identity.username, low, high), _in_range(name, low, high)


def prefix_range(prefix: str) -> tuple[str, str | None]:
    """[low, high): exactly the strings that start with `prefix` in code-point (byte) order:
    high is the prefix with its last character raised by one (carried past U+10FFFF); None
    when no string sorts after them (the prefix is all U+10FFFF)."""
    head = prefix.rstrip(chr(0x10FFFF))
    if not head:
        return prefix, None
    following = ord(head[-1]) + 1
    if 0xD800 <= following <= 0xDFFF:  # surrogates are no characters of text
        following = 0xE000
    return prefix, head[:-1] + chr(following)


def _in_range(column: SQLColumnExpression[str], low: str, high: str | None) -> ColumnElement[bool]:
    return column >= low if high is None else and_(column >= low, column < high)
