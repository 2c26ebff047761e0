"""Configuration that silently defeats a rule: each gap with the rule it defeats and its fix.

One computation for `idgov check`, the start-up logs of `idgov serve` and `idgov worker`, and
the administrator's home page. None of these stops the service (`/readyz` stays 200): they
tell the operator, who decides.
"""

from __future__ import annotations

import logging
import smtplib
import threading
import time
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from idgov.audit.chain_state import CHECKPOINT_EXPORTED
from idgov.audit.models import AuditEvent
from idgov.clock import Clock, iso_utc
from idgov.config import Settings
from idgov.db_role import superuser_warning
from idgov.keys.models import SigningKey
from idgov.loopback import is_loopback_host, is_loopback_url
from idgov.policies.documents import AlertingPolicy
from idgov.policies.store import PolicyStore

PROBE_TIMEOUT_SECONDS = 3.0
PROBE_CACHE_SECONDS = 300.0  # the home page asks often; the relay is tried at most this often


@dataclass(frozen=True)
class Gap:
    """One gap: `serious` ones make `idgov check` exit non-zero."""

    code: str
    serious: bool
    requirement: str  # the part11.md requirement (or rule) it defeats
    problem: str
    fix: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class RelayProbe(Protocol):
    def __call__(self, host: str, port: int, timeout: float) -> str | None:
        """None when an SMTP server answers at host:port within `timeout`, else why not."""


def smtp_probe(host: str, port: int, timeout: float) -> str | None:
    """Connect, greet (EHLO) and quit: the relay answers, or the reason it did not."""
    try:
        with smtplib.SMTP(host, port, timeout=timeout) as relay:
            relay.ehlo()
    except (OSError, smtplib.SMTPException) as exc:  # refused, timed out, no SMTP greeting
        return str(exc) or type(exc).__name__
    return None


class GapFinder:
    """Reads settings, policy, keys and the trail; tries the mail relay and the database
    role. Read-only: it changes nothing."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        policies: PolicyStore,
        clock: Clock,
        probe: RelayProbe = smtp_probe,
    ) -> None:
        self._settings = settings
        self._engine = engine
        self._policies = policies
        self._clock = clock
        self._probe = probe
        self._relay: tuple[float, str | None] | None = None
        self._lock = threading.Lock()

    def find(self, session: Session, *, demo: bool) -> list[Gap]:
        """Every gap, serious ones first; `demo`: the database holds `idgov demo`'s data."""
        alerting = self._policies.current(session, AlertingPolicy)
        found = [
            *self._alert_gaps(alerting),
            *self._directory_gaps(),
            *self._checkpoint_gaps(session),
            *self._key_gaps(session),
            *self._database_gaps(demo),
        ]
        return sorted(found, key=lambda gap: not gap.serious)

    def _alert_gaps(self, alerting: AlertingPolicy) -> list[Gap]:
        found = []
        if not alerting.security_emails and not alerting.webhooks:
            # ALERT-1, 11.300(d): a lockout alert is raised and goes nowhere.
            found.append(
                Gap(
                    "no-alert-recipients",
                    True,
                    "ALERT-1",
                    "no security-unit recipients: lockout and attack alerts reach nobody",
                    "idgov policy set alerting 'security_emails=[\"security@example.com\"]' "
                    "--reason ... (or webhooks=[...])",
                )
            )
        if not alerting.notify_manager:
            found.append(
                Gap(
                    "managers-not-alerted",
                    False,
                    "ALERT-1",
                    "a locked person's manager is not told (alerting notify_manager = false)",
                    "idgov policy set alerting notify_manager=true --reason ...",
                )
            )
        if alerting.security_emails or alerting.notify_manager:
            smtp = self._settings.smtp
            why = self._relay_problem(smtp.host, smtp.port)
            if why is not None:
                found.append(
                    Gap(
                        "mail-relay-unreachable",
                        True,
                        "ALERT-1",
                        f"the mail relay {smtp.host}:{smtp.port} does not answer ({why}): "
                        "alert e-mails wait in the outbox",
                        "set [smtp] host and port to a relay that accepts mail from idgov",
                    )
                )
        return found

    def _relay_problem(self, host: str, port: int) -> str | None:
        with self._lock:
            now = time.monotonic()
            if self._relay is not None and now - self._relay[0] < PROBE_CACHE_SECONDS:
                return self._relay[1]
        why = self._probe(host, port, PROBE_TIMEOUT_SECONDS)
        with self._lock:
            self._relay = (time.monotonic(), why)
        return why

    def _directory_gaps(self) -> list[Gap]:
        found = []
        for name, directory in sorted(self._settings.directories.items()):
            if directory.tls != "none":
                continue
            remote = not all(map(is_loopback_url, directory.urls))
            found.append(
                Gap(
                    "directory-plain-ldap",
                    remote,  # binds carry passwords: in clear over the network
                    "PWD-1",
                    f'directory {name!r} uses plain LDAP (tls = "none"): binds and '
                    "passwords cross the network unencrypted",
                    f'set [directories.{name}] tls = "starttls" (or "ldaps" with ldaps:// URLs)',
                )
            )
        return found

    def _checkpoint_gaps(self, session: Session) -> list[Gap]:
        days = self._settings.audit.checkpoint_export_days
        last = session.scalar(
            select(func.max(AuditEvent.occurred_at)).where(AuditEvent.action == CHECKPOINT_EXPORTED)
        )
        if last is not None and self._clock.now() - last <= timedelta(days=days):
            return []
        since = "ever" if last is None else f"since {iso_utc(last)}"
        return [
            Gap(
                "checkpoint-not-exported",
                False,
                "AUD-4",
                f"no audit checkpoint exported {since} (policy: every {days} days): a rewrite "
                "of the whole chain would go unseen",
                "idgov audit checkpoint --output FILE, and keep FILE outside idgov",
            )
        ]

    def _key_gaps(self, session: Session) -> list[Gap]:
        days = self._settings.keys.rotation_days
        cutoff = self._clock.now() - timedelta(days=days)
        stale = session.scalars(
            select(SigningKey)
            .where(SigningKey.retired_at.is_(None), SigningKey.created_at < cutoff)
            .order_by(SigningKey.created_at)
        ).all()
        return [
            Gap(
                "signing-key-old",
                False,
                "LNK-2",
                f"the {key.purpose} signing key {key.kid} dates from {iso_utc(key.created_at)}, "
                f"older than the rotation policy ({days} days)",
                f"idgov keys rotate --purpose {key.purpose} --reason ...",
            )
            for key in stale
        ]

    def _database_gaps(self, demo: bool) -> list[Gap]:
        if self._engine.dialect.name == "sqlite":
            served = self._settings.server.host
            if demo and is_loopback_host(served):
                return []
            return [
                Gap(
                    "sqlite-in-production",
                    True,
                    "REC-1",
                    f"the database is SQLite (served on {served}"
                    f"{'' if demo else ', not the demo'}): one file, one writer, no replicas",
                    "set [database] url to PostgreSQL (README, PostgreSQL)",
                )
            ]
        warning = superuser_warning(self._engine)
        if warning is None:
            return []
        return [
            Gap(
                "database-superuser",
                True,
                "AUD-2",
                warning,
                "connect as a role that owns the idgov database and is not a superuser",
            )
        ]


def log_gaps(gaps: list[Gap], log: logging.Logger) -> None:
    """One WARNING per gap, for a process starting up."""
    for gap in gaps:
        log.warning(
            "configuration gap %s (%s): %s; fix: %s",
            gap.code,
            gap.requirement,
            gap.problem,
            gap.fix,
            extra={"gap": gap.code, "serious": gap.serious},
        )
