"""The requirement catalogue of record (part11.md, shipped in this package), parsed into rows."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib.resources import files

CATALOGUE_FILE = "part11.md"
SECTION = re.compile(r"^##\s+(?P<title>.+?)\s*$")
# A section without a Clause column names its source in the heading: "Access reviews (...)".
SECTION_SOURCE = re.compile(r"\((?P<source>[^)]*)\)\s*$")
ROW = re.compile(r"^\|\s*(?P<cells>.+?)\s*\|\s*$")
REQUIREMENT_ID = re.compile(r"^[A-Z]+-\d+$")


@dataclass(frozen=True)
class Requirement:
    """One catalogue row: its ID, the clause it answers, and what idgov does about it."""

    id: str
    clause: str
    does: str
    section: str


def catalogue_text() -> str:
    """The catalogue as shipped with this version of idgov."""
    return files("idgov.validation").joinpath(CATALOGUE_FILE).read_text(encoding="utf-8")


def parse_catalogue(text: str) -> list[Requirement]:
    """Every requirement row, in the catalogue's order. Tables have either ID | Clause | What
    or ID | What (then the clause is the section heading's parenthesis)."""
    requirements: list[Requirement] = []
    section, source = "", ""
    for line in text.splitlines():
        heading = SECTION.match(line)
        if heading:
            section = heading.group("title")
            found = SECTION_SOURCE.search(section)
            source = found.group("source") if found else section
            continue
        row = ROW.match(line)
        if row is None:
            continue
        cells = [cell.strip() for cell in row.group("cells").split(" | ")]
        if not REQUIREMENT_ID.match(cells[0]):
            continue  # a header or separator row
        if len(cells) >= 3:
            requirements.append(Requirement(cells[0], cells[1], " | ".join(cells[2:]), section))
        elif len(cells) == 2:
            requirements.append(Requirement(cells[0], source, cells[1], section))
    return requirements


def load_catalogue() -> list[Requirement]:
    return parse_catalogue(catalogue_text())
