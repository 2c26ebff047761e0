"""The lock files (requirements/run.txt, test.txt): which version of each package this
installation must hold, on this platform (environment markers evaluated here)."""

from __future__ import annotations

import operator
import os
import platform
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PIN = re.compile(r"^(?P<name>[A-Za-z0-9._-]+)==(?P<version>[^\s;\\]+)\s*(?:;(?P<marker>[^\\]+))?")
CLAUSE = re.compile(r"^\s*(?P<var>[a-z_]+)\s*(?P<op>==|!=|<=|>=|<|>)\s*'(?P<value>[^']*)'\s*$")
OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


@dataclass(frozen=True)
class Pin:
    name: str
    version: str
    marker: str | None


def canonical_name(name: str) -> str:
    """PEP 503 normalised form: lower case, runs of -_. as one '-'."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_pins(path: Path) -> list[Pin]:
    """Every `name==version ; marker` line of a hashed lock file."""
    pins = []
    for line in path.read_text(encoding="utf-8").splitlines():
        found = PIN.match(line)
        if found:
            marker = found.group("marker")
            pins.append(
                Pin(
                    canonical_name(found.group("name")),
                    found.group("version"),
                    marker and marker.strip(),
                )
            )
    return pins


def applicable(pins: list[Pin]) -> dict[str, str]:
    """name -> version of the pins whose markers hold on this interpreter and platform."""
    return {pin.name: pin.version for pin in pins if marker_holds(pin.marker)}


def marker_holds(marker: str | None) -> bool:
    """PEP 508 markers as uv writes them in the locks: comparisons joined by `and` / `or`.
    A clause this reader does not know counts as true, so its package is still expected."""
    if not marker:
        return True
    return any(
        all(_clause_holds(clause) for clause in alternative.split(" and "))
        for alternative in marker.split(" or ")
    )


def _environment() -> dict[str, str]:
    return {
        "python_full_version": platform.python_version(),
        "python_version": ".".join(platform.python_version_tuple()[:2]),
        "sys_platform": sys.platform,
        "platform_system": platform.system(),
        "platform_machine": platform.machine(),
        "platform_python_implementation": platform.python_implementation(),
        "implementation_name": sys.implementation.name,
        "os_name": os.name,
    }


def _clause_holds(clause: str) -> bool:
    found = CLAUSE.match(clause.strip().strip("()"))
    environment = _environment()
    if found is None or found.group("var") not in environment:
        return True
    left, op, right = environment[found.group("var")], found.group("op"), found.group("value")
    if found.group("var").endswith("_version"):
        return _compare(_version_key(left), op, _version_key(right))
    return _compare(left, op, right)


def _version_key(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text))


def _compare(left: Any, op: str, right: Any) -> bool:
    return bool(OPERATORS[op](left, right))
