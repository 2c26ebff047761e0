"""Nested group memberships: who holds each group directly or through groups inside it (REV-1)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

Via = str | None  # None: a direct member; else the nested groups' names, outermost first
PATH_SEPARATOR = " > "


def effective_members(
    groups: Mapping[str, Sequence[str]], names: Mapping[str, str]
) -> dict[str, dict[str, Via]]:
    """For each group (normalized DN -> its direct member DNs), every non-group member that
    holds it, directly or through nested groups, with the shortest path it comes through. A
    member that is itself a known group is expanded, never listed; cycles (A in B in A) are
    cut, each group counted once. `names` gives the group names used in paths."""
    resolved: dict[str, dict[str, Via]] = {}
    for group in groups:
        _resolve(group, groups, names, resolved, set())
    return resolved


def _resolve(
    group: str,
    groups: Mapping[str, Sequence[str]],
    names: Mapping[str, str],
    resolved: dict[str, dict[str, Via]],
    visiting: set[str],
) -> dict[str, Via]:
    done = resolved.get(group)
    if done is not None:
        return done
    visiting.add(group)
    members: dict[str, Via] = {}
    nested: list[str] = []
    for member in groups[group]:
        if member in groups:
            nested.append(member)
        else:
            members[member] = None
    for child in nested:
        if child in visiting:
            continue  # a cycle: the child's members are reached already through this chain
        prefix = names.get(child, child)
        for account, via in _resolve(child, groups, names, resolved, visiting).items():
            path = prefix if via is None else prefix + PATH_SEPARATOR + via
            if account not in members:
                members[account] = path
                continue
            known = members[account]
            if known is not None and _hops(path) < _hops(known):
                members[account] = path
    visiting.discard(group)
    # Inside a cycle the result depends on where the walk entered, so only memoize groups
    # resolved with nothing of theirs still open.
    if not visiting & set(nested):
        resolved[group] = members
    return members


def _hops(path: str) -> int:
    return path.count(PATH_SEPARATOR)
