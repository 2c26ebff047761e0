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
) -> tuple[dict[str, Via], bool]:
    """The group's members and whether that answer is complete: a walk that had to cut a
    cycle somewhere below depends on where it entered, so it is not kept for reuse."""
    done = resolved.get(group)
    if done is not None:
        return done, True
    visiting.add(group)
    members: dict[str, Via] = {}
    nested: list[str] = []
    complete = True
    for member in groups[group]:
        if member in groups:
            nested.append(member)
        else:
            members[member] = None
    for child in nested:
        if child in visiting:
            complete = False  # a cycle: the child's members are reached through this chain
            continue
        prefix = names.get(child, child)
        held, child_complete = _resolve(child, groups, names, resolved, visiting)
        complete = complete and child_complete
        for account, via in held.items():
            path = prefix if via is None else prefix + PATH_SEPARATOR + via
            if account not in members:
                members[account] = path
                continue
            known = members[account]
            if known is not None and _hops(path) < _hops(known):
                members[account] = path
    visiting.discard(group)
    if complete or not visiting:
        resolved[group] = members
    return members, complete


def _hops(path: str) -> int:
    return path.count(PATH_SEPARATOR)
