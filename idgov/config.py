"""Typed, frozen settings: defaults < TOML file (IDGOV_CONFIG) < IDGOV_SECTION__KEY env vars."""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from limits import parse_many
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from idgov.errors import ConfigurationError
from idgov.providers.directory.settings import NAME_PATTERN, DirectorySettings
from idgov.providers.oidc.settings import OidcSettings
from idgov.validation.letter_settings import OrganisationSettings

DEFAULT_CONFIG_FILE = Path("config/idgov.toml")
ENV_PREFIX = "IDGOV_"
ENV_SEPARATOR = "__"
# IDGOV_* variables that are not settings: the config file path, test-only variables,
# and names carrying no "__" (free for env:// secret references such as IDGOV_KEY_PASSPHRASE).
RESERVED_ENV = {"IDGOV_CONFIG"}


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ServerSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    # The issuer of checkpoints and signatures. When not set (file or environment) it follows
    # host and port; set it behind a proxy, where the public URL differs from what idgov binds.
    base_url: str = "http://127.0.0.1:8080"  # what _derive_base_url gives for the defaults
    secret_key: str = "file://instance/secret_key"  # noqa: S105 - a reference, not a secret
    trusted_proxies: int = Field(default=0, ge=0, le=5)

    @model_validator(mode="before")
    @classmethod
    def _derive_base_url(cls, data: Any) -> Any:
        # Before validation, while an explicit base_url can still be told from a default one.
        if not isinstance(data, Mapping) or "base_url" in data:
            return data
        host, port = data.get("host", "127.0.0.1"), data.get("port", 8080)
        try:
            number = int(port)
        except (TypeError, ValueError):
            return data  # the port's own error is reported; base_url is not guessed
        if not isinstance(host, str):
            return data
        return {**data, "base_url": local_base_url(host, number)}


def local_base_url(host: str, port: int) -> str:
    """The URL at which a browser on this machine reaches a server bound to host:port.

    A wildcard address is where to listen, not where to connect: 0.0.0.0 (or an empty host)
    becomes 127.0.0.1 and :: becomes ::1, the loopback of the family that is surely bound
    (an IPv6 socket on :: takes IPv4 only when the system allows dual-stack). An IPv6 literal
    is bracketed (RFC 3986 3.2.2), its zone's "%" escaped (RFC 6874).
    """
    address = host.strip().strip("[]")
    if address in ("", "0.0.0.0"):  # noqa: S104 - recognised here, never bound
        address = "127.0.0.1"
    elif address == "::":
        address = "::1"
    try:
        literal = ipaddress.ip_address(address)
    except ValueError:
        return f"http://{address}:{port}"  # a host name
    if literal.version == 6:
        return f"http://[{address.replace('%', '%25')}]:{port}"
    return f"http://{address}:{port}"


class DatabaseSettings(_Section):
    url: str = "sqlite:///instance/idgov.db"
    pool_size: int = Field(default=5, ge=1, le=200)
    connect_timeout_seconds: int = Field(default=5, ge=1, le=120)
    # PostgreSQL: seconds of silence before the server probes a client's connection (TCP
    # keepalive, both ends). A web host that loses power mid-transaction would otherwise hold
    # its row locks (the audit chain head) until the kernel default, over two hours. 0 leaves
    # the server's settings alone (PgBouncer in transaction mode refuses the startup option).
    tcp_keepalives_idle_seconds: int = Field(default=60, ge=0, le=7200)
    echo: bool = False


class KeySettings(_Section):
    passphrase: str = "file://instance/keys.passphrase"  # noqa: S105 - a reference
    algorithm: Literal["EdDSA", "ES256"] = "EdDSA"
    # `idgov check` names an active key older than this (LNK-2: rotate; old keys stay published).
    rotation_days: int = Field(default=365, ge=30, le=3650)


class AuditSettings(_Section):
    checkpoint_interval_seconds: int = Field(default=3600, ge=60, le=7 * 86400)
    # `idgov check` names a trail with no checkpoint exported (kept outside idgov) in this many
    # days (AUD-4: only an exported checkpoint shows a rewrite of the whole chain).
    checkpoint_export_days: int = Field(default=7, ge=1, le=365)


class PolicySettings(_Section):
    # The baseline password policy before any versioned change (docs/policies.md).
    profile: Literal["gxp-classic", "nist-800-63b"] = "gxp-classic"


class SmtpSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=25, ge=1, le=65535)
    starttls: bool = False
    username: str | None = None
    password: str | None = None  # a secret reference
    from_address: str = "idgov@localhost"
    timeout_seconds: int = Field(default=10, ge=1, le=120)


class LoggingSettings(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["json", "text"] = "json"


class WorkerSettings(_Section):
    poll_interval_seconds: float = Field(default=2.0, gt=0, le=300)


# Storages Flask-Limiter can share between processes, and memory:// for one process.
THROTTLE_SCHEMES = (
    "memory://",
    "redis://",
    "rediss://",
    "redis+unix://",
    "redis+sentinel://",
    "redis+cluster://",
    "valkey://",
    "valkeys://",
)


class ThrottlingSettings(_Section):
    """Request throttles and the password-hash cap (docs/sessions-and-access.md, Throttling).
    Limits are Flask-Limiter strings ("10/minute", "100/hour;10/minute"), moving window."""

    enabled: bool = True
    # memory:// counts per process: right for `idgov serve`; several gunicorn workers or
    # replicas must share a Redis (redis://host:6379/0), or each keeps its own counts.
    storage_uri: str = "memory://"
    signin_per_source: str = "30/minute"
    signin_per_account: str = "10/minute"
    signing_per_source: str = "300/minute"  # a host signs for all its people from one address
    signing_per_account: str = "20/minute"
    ceremony_per_source: str = "60/minute"
    ceremony_per_account: str = "20/minute"
    token_per_source: str = "60/minute"  # noqa: S105 - a rate limit, not a secret
    token_per_client: str = "20/minute"  # noqa: S105 - a rate limit, not a secret
    # argon2id takes 64 MiB per hash at the default parameters: at most this many at once in
    # one process; a request that waits longer than hash_wait_seconds for a slot gets 503.
    max_concurrent_hashes: int = Field(default=4, ge=1, le=64)
    hash_wait_seconds: float = Field(default=2.0, ge=0, le=30)

    @field_validator(
        "signin_per_source",
        "signin_per_account",
        "signing_per_source",
        "signing_per_account",
        "ceremony_per_source",
        "ceremony_per_account",
        "token_per_source",
        "token_per_client",
    )
    @classmethod
    def _limit(cls, value: str) -> str:
        try:
            items = parse_many(value)
        except ValueError:
            items = []
        if not items or any(item.amount < 1 for item in items):
            raise ValueError(
                f"{value!r} is not a rate limit such as '10/minute' or '100/hour;10/minute'"
            )
        return value

    @field_validator("storage_uri")
    @classmethod
    def _storage(cls, value: str) -> str:
        if not value.startswith(THROTTLE_SCHEMES):
            raise ValueError("storage_uri must start with one of " + ", ".join(THROTTLE_SCHEMES))
        return value


class Settings(_Section):
    """Every setting idgov reads; config/idgov.example.toml documents each one."""

    server: ServerSettings = ServerSettings()
    database: DatabaseSettings = DatabaseSettings()
    keys: KeySettings = KeySettings()
    audit: AuditSettings = AuditSettings()
    policy: PolicySettings = PolicySettings()
    smtp: SmtpSettings = SmtpSettings()
    logging: LoggingSettings = LoggingSettings()
    worker: WorkerSettings = WorkerSettings()
    throttling: ThrottlingSettings = ThrottlingSettings()
    # Who certifies its electronic signatures to FDA (`idgov certification-letter`, CERT-1).
    organisation: OrganisationSettings = OrganisationSettings()
    # LDAP / Active Directory sources by name ([directories.NAME]); docs/directories.md.
    directories: dict[str, DirectorySettings] = {}
    # OpenID Connect providers by name ([oidc.NAME]); docs/oidc.md.
    oidc: dict[str, OidcSettings] = {}

    @field_validator("directories")
    @classmethod
    def _directory_names(cls, value: dict[str, DirectorySettings]) -> dict[str, DirectorySettings]:
        for name in value:
            if name == "local" or not re.match(NAME_PATTERN, name):
                raise ValueError(
                    f"directory name {name!r}: lower-case letters, digits and '-', "
                    "starting with a letter, not 'local'"
                )
        return value

    @field_validator("oidc")
    @classmethod
    def _oidc_names(cls, value: dict[str, OidcSettings]) -> dict[str, OidcSettings]:
        for name in value:
            if not re.match(NAME_PATTERN, name):
                raise ValueError(
                    f"OpenID provider name {name!r}: lower-case letters, digits and '-', "
                    "starting with a letter"
                )
        return value


def load_settings(
    environ: Mapping[str, str] | None = None,
    config_file: Path | None = None,
    options: Mapping[str, object] | None = None,
) -> Settings:
    """Build Settings from defaults, TOML file, environment and command-line `options` (keyed
    "section.key", highest precedence); errors name the culprit."""
    env = os.environ if environ is None else environ
    path = config_file or _config_path(env)
    values: dict[str, dict[str, Any]] = {}
    sources: dict[tuple[str, str], str] = {}
    if path is not None:
        for section, key, value in _read_toml(path):
            values.setdefault(section, {})[key] = value
            sources[(section, key)] = str(path)
    for name, raw in env.items():
        section_key = _env_setting(name)
        if section_key is None:
            continue
        section, key = section_key
        values.setdefault(section, {})[key] = raw
        sources[(section, key)] = f"environment variable {name}"
    for dotted, value in (options or {}).items():
        section, _, key = dotted.partition(".")
        values.setdefault(section, {})[key] = value
        sources[(section, key)] = f"command-line option for {dotted}"
    try:
        return Settings.model_validate(values)
    except ValidationError as exc:
        raise ConfigurationError(_describe(exc, sources, path)) from None


def _config_path(env: Mapping[str, str]) -> Path | None:
    explicit = env.get("IDGOV_CONFIG")
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigurationError(f"{path}: configuration file not found (from IDGOV_CONFIG)")
        return path
    return DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.is_file() else None


def _read_toml(path: Path) -> list[tuple[str, str, Any]]:
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{path}: not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"{path}: cannot be read: {exc}") from None
    items: list[tuple[str, str, Any]] = []
    for section, table in document.items():
        if not isinstance(table, dict):
            raise ConfigurationError(
                f"{path}: key '{section}': settings belong in a [section] table"
            )
        items.extend((section, key, value) for key, value in table.items())
    return items


def _env_setting(name: str) -> tuple[str, str] | None:
    if not name.startswith(ENV_PREFIX) or name in RESERVED_ENV or name.startswith("IDGOV_TEST_"):
        return None
    rest = name[len(ENV_PREFIX) :]
    if ENV_SEPARATOR not in rest:
        return None
    section, _, key = rest.partition(ENV_SEPARATOR)
    return section.lower(), key.lower()


def _describe(exc: ValidationError, sources: dict[tuple[str, str], str], path: Path | None) -> str:
    problems = []
    for error in exc.errors():
        loc = [str(part) for part in error["loc"]]
        dotted = ".".join(loc)
        origin = sources.get((loc[0], loc[1])) if len(loc) >= 2 else None
        origin = origin or (str(path) if path else "settings")
        message = "unknown setting" if error["type"] == "extra_forbidden" else error["msg"]
        problems.append(f"{origin}: key '{dotted}': {message}")
    return "; ".join(problems)


def resolve_secret(reference: str, base_dir: Path | None = None) -> str:
    """Resolve a secret reference: env://NAME, file://path (relative to base_dir), or a literal."""
    if reference.startswith("env://"):
        name = reference[len("env://") :]
        value = os.environ.get(name)
        if not value:
            raise ConfigurationError(f"secret {reference}: environment variable {name} is not set")
        return value
    if reference.startswith("file://"):
        path = Path(reference[len("file://") :])
        if base_dir is not None and not path.is_absolute():
            path = base_dir / path
        try:
            value = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigurationError(f"secret {reference}: cannot read {path}: {exc}") from None
        if not value:
            raise ConfigurationError(f"secret {reference}: {path} is empty")
        return value
    return reference
