"""The certification letter's text from the `[organisation]` settings (CERT-1, 11.100(c))."""

from __future__ import annotations

import re
import tomllib
from datetime import date
from pathlib import Path

import pytest
from pydantic import ValidationError

from idgov.errors import ConfigurationError
from idgov.validation.letter import compose_letter, uses_1997_recipient
from idgov.validation.letter_settings import REGULATION_1997_RECIPIENT, OrganisationSettings

COMPLETE = {
    "name": "Acme Pharma Inc.",
    "address": ["100 Main Street", "Springfield, NJ 07081", "USA"],
    "signatory_name": "Zoë Ångström",
    "signatory_title": "Vice President, Quality Assurance",
}
DAY = date(2026, 3, 2)
# Each value refused in the settings, with what the error says: printed text holds no control,
# bidi or invisible characters (11.50(a), idgov/text.py), and a value is never blank.
REFUSED: list[tuple[str, object, str]] = [
    ("name", "Acme\u202eInc", "bidirectional control characters (U+202E)"),
    ("signatory_name", "Jane\nForged line", "control characters (U+000A)"),
    ("signatory_title", "Director\u200b", "invisible or format characters (U+200B)"),
    ("address", ["Main Street\t1"], "control characters (U+0009)"),
    ("recipient", ["FDA\u2066"], "bidirectional control characters (U+2066)"),
    ("name", "   ", "must not be blank"),
    ("signatory_name", " Jane", "must not start or end with spaces"),
    ("contact_email", "not an address", "is not an e-mail address"),
    ("recipient", [], "at least 1 item"),
]


def organisation(**changes: object) -> OrganisationSettings:
    return OrganisationSettings.model_validate({**COMPLETE, **changes})


@pytest.mark.req("CERT-1")
def test_every_configured_value_is_in_the_letter_with_the_clause_it_certifies_under() -> None:
    letter = compose_letter(organisation(contact_email="qa@acme.example"), DAY)
    text = letter.text()
    for value in [*COMPLETE["address"], COMPLETE["name"], "qa@acme.example"]:
        assert value in text
    assert text.count("Zoë Ångström") == 2  # under the signature line and as the contact
    assert "\nVice President, Quality Assurance\n" in text
    assert "March 2, 2026" in text
    flat = " ".join(text.split())
    # 11.100(c), closely: before or at first use, certify "legally binding equivalent".
    assert "certifies to the Food and Drug Administration that the electronic signatures" in flat
    assert "used on or after August 20, 1997" in flat
    assert "legally binding equivalent of traditional handwritten signatures" in flat
    assert "21 CFR 11.100(c)(2)" in flat  # additional certification on request
    assert "\n".join(REGULATION_1997_RECIPIENT) in text
    assert all(len(line) <= 78 for line in text.splitlines())


@pytest.mark.req("CERT-1")
def test_without_a_contact_the_letter_names_none() -> None:
    assert "Questions" not in compose_letter(organisation(), DAY).text()


@pytest.mark.req("CERT-1")
def test_a_configured_recipient_replaces_the_1997_address() -> None:
    settings = organisation(recipient=["FDA", "10903 New Hampshire Avenue"])
    text = compose_letter(settings, DAY).text()
    assert "FDA\n10903 New Hampshire Avenue\n" in text
    assert "Fishers Lane" not in text
    assert not uses_1997_recipient(settings)
    assert uses_1997_recipient(organisation())


@pytest.mark.req("CERT-1")
@pytest.mark.parametrize("missing", ["name", "address", "signatory_name", "signatory_title"])
def test_a_missing_required_setting_is_named(missing: str) -> None:
    settings = OrganisationSettings.model_validate(
        {key: value for key, value in COMPLETE.items() if key != missing}
    )
    with pytest.raises(ConfigurationError, match=rf"needs organisation\.{missing}:"):
        compose_letter(settings, DAY)


def test_every_missing_setting_is_named_at_once() -> None:
    with pytest.raises(ConfigurationError) as refused:
        compose_letter(OrganisationSettings(), DAY)
    for key in ("name", "address", "signatory_name", "signatory_title"):
        assert f"organisation.{key}" in refused.value.detail


@pytest.mark.req("CERT-1")
@pytest.mark.parametrize(("field", "value", "problem"), REFUSED)
def test_unprintable_or_malformed_values_are_refused_naming_the_field(
    field: str, value: object, problem: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        organisation(**{field: value})
    assert refused.value.errors()[0]["loc"][0] == field
    assert problem in str(refused.value)


def test_lines_from_an_environment_variable_are_split_at_line_breaks() -> None:
    settings = OrganisationSettings.model_validate({"address": "1 Road\nTown"})
    assert settings.address == ["1 Road", "Town"]


def test_the_example_organisation_block_is_valid_and_complete() -> None:
    """Uncommented, the example [organisation] block writes a letter and names every setting."""
    example = Path(__file__).resolve().parents[2] / "config" / "idgov.example.toml"
    text = example.read_text(encoding="utf-8")
    block = text[text.index("[organisation]") : text.index("# LDAP / Active Directory")]
    lines = [line.removeprefix("# ") for line in block.splitlines()]
    document = tomllib.loads("\n".join(line for line in lines if re.match(r"^[a-z_]+ = ", line)))
    settings = OrganisationSettings.model_validate(document)
    assert set(document) == set(OrganisationSettings.model_fields)
    assert "Jane Smith" in compose_letter(settings, DAY).text()
