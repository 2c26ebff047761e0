"""The `[organisation]` settings: who certifies its electronic signatures to FDA (CERT-1)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from idgov.text import printable_text

MAX_LINE = 200
MAX_ADDRESS_LINES = 8

# 21 CFR 11.100(c)(1) as published in 1997 (62 FR 13464): "submitted in paper form and signed
# with a traditional handwritten signature, to the Office of Regional Operations (HFC-100), 5600
# Fishers Lane, Rockville, MD 20857". FDA has since changed this address (a technical amendment,
# 88 FR 13018, 2 March 2023, which also added an electronic option): the letter names this one
# only until `organisation.recipient` is set from the current text of 11.100(c)(1).
REGULATION_1997_RECIPIENT = (
    "Food and Drug Administration",
    "Office of Regional Operations (HFC-100)",
    "5600 Fishers Lane",
    "Rockville, MD 20857",
)


def _line(value: str) -> str:
    # 11.50(a), as for every printed name: no control, bidi or invisible characters (text.py).
    printable_text(value)
    if not value.strip():
        raise ValueError("must not be blank")
    if value != value.strip():
        raise ValueError("must not start or end with spaces")
    return value


def _lines(value: object) -> object:
    # From an environment variable the lines come as one string, one line per line.
    return value.splitlines() if isinstance(value, str) else value


def _email(value: str) -> str:
    local, _, domain = value.rpartition("@")
    if not local or "." not in domain or " " in value:
        raise ValueError("is not an e-mail address")
    return value


Line = Annotated[str, Field(max_length=MAX_LINE), AfterValidator(_line)]
Lines = Annotated[list[Line], Field(max_length=MAX_ADDRESS_LINES), BeforeValidator(_lines)]


class OrganisationSettings(BaseModel):
    """The organisation that uses electronic signatures and its signatory (21 CFR 11.100(c)).

    Every value is optional for idgov as a whole; `idgov certification-letter` refuses to write
    a letter until name, address, signatory_name and signatory_title are set.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Line | None = None
    address: Lines | None = None
    signatory_name: Line | None = None
    signatory_title: Line | None = None
    contact_email: Annotated[Line, AfterValidator(_email)] | None = None
    recipient: Annotated[Lines, Field(min_length=1)] = list(REGULATION_1997_RECIPIENT)
    paper: Literal["letter", "a4"] = "letter"


REQUIRED = ("name", "address", "signatory_name", "signatory_title")


def missing_settings(settings: OrganisationSettings) -> list[str]:
    """The required settings the letter cannot do without, as `organisation.KEY`."""
    return [f"organisation.{key}" for key in REQUIRED if not getattr(settings, key)]
