"""Who is acting and from where: the actor and request metadata every audit event carries."""

from __future__ import annotations

import getpass
import re
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Literal
from urllib.parse import quote

ActorType = Literal["identity", "client", "system", "cli"]
ACTION_PATTERN = re.compile(r"^[a-z][a-z0-9_-]*:[a-z][a-z0-9_-]*:[a-z][a-z0-9_-]*$")


@dataclass(frozen=True, slots=True)
class Actor:
    type: ActorType
    id: str
    name: str


SYSTEM_ACTOR = Actor(type="system", id="idgov", name="idgov system")


def cli_actor() -> Actor:
    """The operating-system account running an `idgov` command."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return Actor(type="cli", id=user, name=f"{user} (command line)")


@dataclass(frozen=True, slots=True)
class AuditContext:
    actor: Actor
    request_id: str | None = None  # always ours (web/middleware.py)
    source_address: str | None = None
    # A client's own X-Request-ID, kept beside ours in the event's new values (AUD-1).
    client_request_id: str | None = None


ContextProvider = Callable[[], AuditContext]

# Who acts in this request or command: set by the web middleware, host and sign-in guards, and
# the command root; read by the trail for every event (11.10(e): who, when, from where).
current_audit_context: ContextVar[AuditContext] = ContextVar(
    "current_audit_context",
    default=AuditContext(SYSTEM_ACTOR),  # noqa: B039 - a frozen dataclass, immutable
)


def acting(actor: Actor) -> AuditContext:
    """The current request's context with `actor` as the one who acts."""
    return replace(current_audit_context.get(), actor=actor)


@dataclass(frozen=True, slots=True)
class Target:
    type: str
    id: str


def audited_path(path: str) -> str:
    """A request path as audited: percent-encoded where it is not plain ASCII, so exact, and
    free of NUL and control characters, which PostgreSQL text refuses or a reader would misread."""
    return quote(path[:500], safe="/:@!$&'()*+,;=-._~", errors="replace")
