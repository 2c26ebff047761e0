"""Services for `idgov` commands, acting as the operating-system user who runs them."""

from __future__ import annotations

from collections.abc import Mapping

from idgov.audit.context import AuditContext, cli_actor
from idgov.config import load_settings
from idgov.logs import configure_logging
from idgov.wiring import Services, build_services, current_audit_context


def command_services(options: Mapping[str, object] | None = None) -> Services:
    """Services from the settings, with `options` ("section.key": value) from the command line
    over them; logging is set up as for the web processes, one JSON line per event."""
    settings = load_settings(options=options)
    configure_logging(settings.logging.level, settings.logging.format)
    services = build_services(settings)
    current_audit_context.set(AuditContext(cli_actor()))
    return services
