"""How a ceremony ends for the person: where the browser goes, and what the page says."""

from __future__ import annotations

from dataclasses import dataclass

from idgov.signatures.ceremony.models import RequestStatus, SigningRequest


@dataclass(frozen=True)
class Ending:
    """Where the browser goes next, and what the page says if it shows anything."""

    redirect: str
    status: str
    message: str


def finished_message(row: SigningRequest) -> str:
    return {
        RequestStatus.COMPLETED: "This signing request has been signed already.",
        RequestStatus.DECLINED: "This signing request was declined.",
        RequestStatus.EXPIRED: "This signing request has expired: ask the system you came from "
        "for a new one.",
        RequestStatus.FAILED: "This signing request ended without a signature.",
    }.get(RequestStatus(row.status), "This signing request is still open.")
