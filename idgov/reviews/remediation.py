"""RemediationService: carry out signed revocations and verify them (REV-4)."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from idgov.audit.trail import AuditTrail
from idgov.clock import Clock
from idgov.providers.directory.writeback import GroupWriteBack


class RemediationService:
    """To be completed: see the access-review issue, item 5."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Clock,
        trail: AuditTrail,
        write_back: GroupWriteBack,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._trail = trail
        self._write_back = write_back

    def carry_out_due(self) -> int:
        """Worker job: directory revocations not yet done are tried (again); the number done."""
        return 0
