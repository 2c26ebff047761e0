"""The signature certification statement a person acknowledges before signing (TRN-1)."""

from __future__ import annotations

STATEMENT_TEMPLATE = (
    "I, {printed_name}, certify that the electronic signature issued to me by this system is "
    "the legally binding equivalent of my traditional handwritten signature, and that I will "
    "not share it or let anyone else use it (21 CFR 11.100(c))."
)


def statement_for(printed_name: str) -> str:
    """The statement as the person sees and acknowledges it; kept verbatim with the record."""
    return STATEMENT_TEMPLATE.format(printed_name=printed_name)
