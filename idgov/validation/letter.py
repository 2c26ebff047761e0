"""The 21 CFR 11.100(c) certification letter: its text from the `[organisation]` settings (CERT-1).

11.100(c): persons using electronic signatures shall, before or at the time of such use,
certify to the agency that the electronic signatures in their system, used on or after August
20, 1997, are intended to be the legally binding equivalent of traditional handwritten
signatures; (c)(1): in paper form, signed with a traditional handwritten signature; (c)(2):
upon the agency's request, additional certification or testimony for a specific signature.
idgov writes the letter; a person signs it by hand and the organisation sends it.
"""

from __future__ import annotations

import hashlib
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from idgov.audit.context import Target
from idgov.audit.trail import AuditTrail
from idgov.errors import ConfigurationError
from idgov.validation.letter_settings import (
    REGULATION_1997_RECIPIENT,
    OrganisationSettings,
    missing_settings,
)

GENERATED = "validation:certification-letter:generated"
SUBJECT = "Re: Certification of electronic signatures under 21 CFR 11.100(c)"
TITLE = "Certification of electronic signatures (21 CFR 11.100(c))"
TEXT_WIDTH = 78
SIGNATURE_LINE = "_" * 40


@dataclass(frozen=True)
class CertificationLetter:
    """The letter, in the parts a page lays out: sender, date, recipient, body, signature."""

    sender: tuple[str, ...]
    dated: str
    recipient: tuple[str, ...]
    subject: str
    salutation: str
    paragraphs: tuple[str, ...]
    closing: str
    signatory: tuple[str, ...]  # printed name, title, organisation: under the signature line
    organisation: str

    def text(self) -> str:
        """The letter as plain text, wrapped at 78 columns (letter.txt)."""
        blocks = [
            "\n".join(self.sender),
            self.dated,
            "\n".join(self.recipient),
            self.subject,
            self.salutation,
            *(textwrap.fill(paragraph, TEXT_WIDTH) for paragraph in self.paragraphs),
            self.closing + "\n\n\n" + SIGNATURE_LINE + "\n" + "\n".join(self.signatory),
        ]
        return "\n\n".join(blocks) + "\n"


def compose_letter(settings: OrganisationSettings, today: date) -> CertificationLetter:
    """The letter from the settings, dated `today`; ConfigurationError naming every required
    setting that is not set (nothing is written then)."""
    missing = missing_settings(settings)
    if missing:
        raise ConfigurationError(
            "the certification letter needs " + ", ".join(missing) + ": set them in the "
            "[organisation] block of the configuration file (config/idgov.example.toml)"
        )
    name, address = settings.name or "", settings.address or []
    signer = settings.signatory_name or ""
    where = ", ".join(address)
    paragraphs = [
        # 11.100(c), closely: the certification itself.
        f"In accordance with 21 CFR 11.100(c), {name}, {where}, hereby certifies to the "
        "Food and Drug Administration that the electronic signatures in its systems, used on "
        "or after August 20, 1997, are intended to be the legally binding equivalent of "
        "traditional handwritten signatures.",
        f"This certification covers the electronic signatures executed by the employees, "
        f"agents and representatives of {name}, wherever they are located.",
        # 11.100(c)(2).
        f"Upon the agency's request, {name} will provide additional certification or "
        "testimony that a specific electronic signature is the legally binding equivalent of "
        "the signer's handwritten signature, as 21 CFR 11.100(c)(2) provides.",
    ]
    if settings.contact_email:
        paragraphs.append(
            f"Questions about this certification may be addressed to {signer} at "
            f"{settings.contact_email}."
        )
    return CertificationLetter(
        sender=(name, *address),
        dated=f"{today:%B} {today.day}, {today.year}",
        recipient=tuple(settings.recipient),
        subject=SUBJECT,
        salutation="Dear Sir or Madam:",
        paragraphs=tuple(paragraphs),
        closing="Sincerely,",
        signatory=(signer, settings.signatory_title or "", name),
        organisation=name,
    )


def uses_1997_recipient(settings: OrganisationSettings) -> bool:
    """True while the recipient is the address of 11.100(c)(1) as published in 1997."""
    return tuple(settings.recipient) == REGULATION_1997_RECIPIENT


def sha256_digest(content: bytes) -> str:
    return "sha256:" + hashlib.sha256(content).hexdigest()


def record_generated(
    session: Session,
    trail: AuditTrail,
    letter: CertificationLetter,
    files: Mapping[str, bytes],
) -> None:
    """The audit event of a generated letter, with the SHA-256 of each file written, in the
    caller's transaction (11.10(e)): which letter was produced, when and by whom."""
    values = {
        "dated": letter.dated,
        "organisation": letter.organisation,
        "signatory": letter.signatory[0],
        "signatory_title": letter.signatory[1],
        "recipient": list(letter.recipient),
        "files": {name: sha256_digest(content) for name, content in sorted(files.items())},
    }
    trail.record(
        session, GENERATED, Target("certification-letter", letter.organisation), new=values
    )
