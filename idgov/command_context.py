"""Services for `idgov` commands, acting as the operating-system user who runs them."""

from __future__ import annotations

from idgov.audit.context import AuditContext, cli_actor
from idgov.config import load_settings
from idgov.wiring import Services, build_services, current_audit_context


def command_services() -> Services:
    services = build_services(load_settings())
    current_audit_context.set(AuditContext(cli_actor()))
    return services
