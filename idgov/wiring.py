"""The one place that builds concrete services from settings (constructor injection)."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from idgov.alerts.outbox import AlertOutbox
from idgov.audit.checkpoints import CheckpointService
from idgov.audit.context import SYSTEM_ACTOR, AuditContext
from idgov.audit.trail import AuditTrail
from idgov.audit.verify import ChainVerifier
from idgov.clock import Clock, SystemClock
from idgov.config import Settings, resolve_secret
from idgov.db import make_engine, make_session_factory
from idgov.identity.ledger import IdentifierLedger
from idgov.identity.services import IdentityService
from idgov.keys.store import KeyStore
from idgov.policies.store import PolicyStore

current_audit_context: ContextVar[AuditContext] = ContextVar(
    "current_audit_context",
    default=AuditContext(SYSTEM_ACTOR),  # noqa: B039 - a frozen dataclass, immutable
)


@dataclass
class Services:
    settings: Settings
    clock: Clock
    engine: Engine
    sessions: sessionmaker[Session]
    trail: AuditTrail
    keys: KeyStore
    checkpoints: CheckpointService
    verifier: ChainVerifier
    policies: PolicyStore
    alerts: AlertOutbox
    ledger: IdentifierLedger
    identities: IdentityService

    @property
    def checkpoint_interval(self) -> timedelta:
        return timedelta(seconds=self.settings.audit.checkpoint_interval_seconds)


def build_services(settings: Settings, clock: Clock | None = None) -> Services:
    clock = clock or SystemClock()
    engine = make_engine(settings.database)
    trail = AuditTrail(clock, current_audit_context.get)
    keys = KeyStore(
        _PassphraseSource(settings.keys.passphrase), settings.keys.algorithm, clock, trail
    )
    policies = PolicyStore(clock, trail, settings.policy.profile)
    alerts = AlertOutbox(clock, trail, policies)
    ledger = IdentifierLedger(clock, trail, alerts)
    return Services(
        settings=settings,
        clock=clock,
        engine=engine,
        sessions=make_session_factory(engine),
        trail=trail,
        keys=keys,
        checkpoints=CheckpointService(keys, clock, settings.server.base_url),
        verifier=ChainVerifier(engine),
        policies=policies,
        alerts=alerts,
        ledger=ledger,
        identities=IdentityService(clock, trail, ledger),
    )


class _PassphraseSource:
    """Resolves the key passphrase on first use, so a missing secret fails the key use
    (KeyUnavailable) rather than start-up of unrelated commands."""

    def __init__(self, reference: str) -> None:
        self._reference = reference

    def __call__(self) -> bytes:
        return resolve_secret(self._reference, Path.cwd()).encode("utf-8")
