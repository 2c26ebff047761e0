"""The configuration in force, as the report shows it: every setting, secrets by reference
only (DESIGN: secrets never reach a report; the named list of audit/canonical.py)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from idgov.audit.canonical import REDACTED, SECRET_FIELDS
from idgov.config import Settings

# Settings that hold a secret reference (env://NAME or file://path, config.resolve_secret)
# under a name the audit list does not carry.
SECRET_SETTINGS = SECRET_FIELDS | {"secret_key"}
REFERENCE_SCHEMES = ("env://", "file://")


def configuration_in_force(settings: Settings) -> dict[str, Any]:
    """The settings as nested JSON; a secret shows its reference, never a literal value, and a
    URL's password is replaced (a database or Redis URL may carry one)."""
    shown = _redact(settings.model_dump(mode="json"))
    assert isinstance(shown, dict)
    return shown


def _redact(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        return {name: _redact(inner, name) for name, inner in value.items()}
    if isinstance(value, list):
        return [_redact(inner, key) for inner in value]
    if not isinstance(value, str):
        return value
    if key in SECRET_SETTINGS:
        return value if value.startswith(REFERENCE_SCHEMES) else f"{REDACTED} (a literal value)"
    return _without_url_password(value)


def _without_url_password(value: str) -> str:
    if "://" not in value or "@" not in value:
        return value
    try:
        parts = urlsplit(value)
        password = parts.password
    except ValueError:
        return value
    if not password:
        return value
    netloc = parts.netloc.replace(f":{password}@", f":{REDACTED}@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def flatten(configuration: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """("section.key", value) rows for the report's tables."""
    rows: list[tuple[str, str]] = []
    for name, value in configuration.items():
        dotted = f"{prefix}{name}"
        if isinstance(value, dict) and value:
            rows.extend(flatten(value, f"{dotted}."))
        else:
            rows.append((dotted, str(value)))
    return rows
