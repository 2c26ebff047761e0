"""effective_members: who holds each directory group, directly or through nested groups."""

from __future__ import annotations

import pytest

from idgov.providers.directory.memberships import PATH_SEPARATOR, effective_members

A, B, C = "cn=a,ou=groups,dc=example", "cn=b,ou=groups,dc=example", "cn=c,ou=groups,dc=example"
NAMES = {A: "Alpha", B: "Beta", C: "Gamma"}
ANN, BOB, CAT = "uid=ann,ou=people,dc=example", "uid=bob,ou=people,dc=example", "uid=cat,dc=x"


def test_direct_members_come_via_none() -> None:
    assert effective_members({A: [ANN, BOB]}, NAMES) == {A: {ANN: None, BOB: None}}


@pytest.mark.req("REV-1")
def test_member_of_a_nested_group_comes_via_that_groups_name() -> None:
    held = effective_members({A: [ANN, B], B: [BOB]}, NAMES)
    assert held[A] == {ANN: None, BOB: "Beta"}
    assert held[B] == {BOB: None}


@pytest.mark.req("REV-1")
def test_two_levels_name_the_path_outermost_first() -> None:
    held = effective_members({A: [B], B: [C], C: [CAT]}, NAMES)
    assert held[A] == {CAT: "Beta" + PATH_SEPARATOR + "Gamma"}
    assert held[B] == {CAT: "Gamma"}


@pytest.mark.req("REV-1")
def test_member_both_direct_and_nested_stays_direct() -> None:
    held = effective_members({A: [B, ANN], B: [ANN]}, NAMES)
    assert held[A] == {ANN: None}


@pytest.mark.req("REV-1")
@pytest.mark.parametrize("order", [[B, C], [C, B]], ids=["long-first", "short-first"])
def test_shortest_path_wins_when_reachable_two_ways(order: list[str]) -> None:
    held = effective_members({A: order, B: [C], C: [CAT]}, NAMES)
    assert held[A] == {CAT: "Gamma"}  # not "Beta > Gamma"


@pytest.mark.req("REV-1")
def test_cycle_of_two_groups_terminates_and_each_lists_both_direct_members() -> None:
    held = effective_members({A: [ANN, B], B: [BOB, A]}, NAMES)
    assert held[A] == {ANN: None, BOB: "Beta"}
    assert held[B] == {BOB: None, ANN: "Alpha"}


@pytest.mark.req("REV-1")
def test_cycle_of_three_groups_lists_every_member_in_each_group() -> None:
    held = effective_members({A: [ANN, B], B: [BOB, C], C: [CAT, A]}, NAMES)
    assert held[A] == {ANN: None, BOB: "Beta", CAT: "Beta > Gamma"}
    assert held[C] == {CAT: None, ANN: "Alpha", BOB: "Alpha > Beta"}
    assert held[B] == {BOB: None, CAT: "Gamma", ANN: "Gamma > Alpha"}


@pytest.mark.req("REV-1")
def test_member_dn_that_is_not_a_known_group_is_listed_never_expanded() -> None:
    unknown_group = "cn=elsewhere,ou=groups,dc=example"
    held = effective_members({A: [unknown_group, ANN]}, NAMES)
    assert held == {A: {unknown_group: None, ANN: None}}


@pytest.mark.req("REV-1")
def test_nested_group_without_a_name_appears_in_paths_by_its_dn() -> None:
    held = effective_members({A: [B], B: [BOB]}, {A: "Alpha"})
    assert held[A] == {BOB: B}


def test_no_groups_give_nothing() -> None:
    assert effective_members({}, NAMES) == {}


def test_empty_groups_have_no_members_even_when_nested() -> None:
    assert effective_members({A: [B], B: []}, NAMES) == {A: {}, B: {}}
