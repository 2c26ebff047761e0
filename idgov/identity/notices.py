"""Telling people about their own credentials: every reset and every new credential is mailed
to the owner through the alert outbox, so delivery is retried and audited (CMP-2, 11.300)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from idgov.alerts.outbox import AlertOutbox
from idgov.identity.models import Identity

CHANGED = "credential-changed"
NOT_YOU = (
    "If this was not you or someone you asked, tell your security unit at once through a "
    "channel you already trust (not by replying to this message)."
)


class CredentialNotices:
    def __init__(self, outbox: AlertOutbox) -> None:
        self._outbox = outbox

    def tell(
        self,
        session: Session,
        identity: Identity,
        summary: str,
        details: dict[str, Any] | None = None,
        *,
        kind: str = CHANGED,
        next_steps: list[str] | None = None,
    ) -> None:
        """A notice (severity info, never repeated) to the identity's own e-mail address only,
        in the caller's transaction: it goes out when the change commits, never without it."""
        if not identity.email.strip():
            return
        self._outbox.raise_alert(
            session,
            kind,
            summary,
            {**(details or {}), "next_steps": [*(next_steps or []), NOT_YOU]},
            severity="info",
            identity=identity,
            recipients=[("email", identity.email)],
        )
