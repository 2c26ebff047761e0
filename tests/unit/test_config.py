"""Settings: defaults < TOML file < IDGOV_SECTION__KEY environment; errors name the culprit."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from idgov.config import Settings, load_settings, resolve_secret
from idgov.errors import ConfigurationError


@pytest.fixture(autouse=True)
def _no_default_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # load_settings falls back to config/idgov.toml in the working directory: keep it absent.
    monkeypatch.chdir(tmp_path)


def write_toml(tmp_path: Path, text: str, name: str = "idgov.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_file_or_environment() -> None:
    settings = load_settings(environ={})
    assert settings == Settings()
    assert settings.server.port == 8080
    assert settings.database.url == "sqlite:///instance/idgov.db"
    assert settings.keys.algorithm == "EdDSA"


def test_file_overrides_defaults(tmp_path: Path) -> None:
    path = write_toml(tmp_path, '[server]\nport = 9000\n\n[keys]\nalgorithm = "ES256"\n')
    settings = load_settings(environ={}, config_file=path)
    assert settings.server.port == 9000
    assert settings.keys.algorithm == "ES256"
    assert settings.server.host == "127.0.0.1"  # untouched keys keep their defaults


def test_environment_overrides_file(tmp_path: Path) -> None:
    path = write_toml(tmp_path, "[server]\nport = 9000\n\n[database]\npool_size = 7\n")
    settings = load_settings(
        environ={"IDGOV_SERVER__PORT": "9100", "IDGOV_DATABASE__ECHO": "true"}, config_file=path
    )
    assert settings.server.port == 9100  # environment wins over the file
    assert settings.database.pool_size == 7  # the file wins over the default
    assert settings.database.echo is True


def test_idgov_config_names_the_file(tmp_path: Path) -> None:
    path = write_toml(tmp_path, "[audit]\ncheckpoint_interval_seconds = 600\n", "custom.toml")
    settings = load_settings(environ={"IDGOV_CONFIG": str(path)})
    assert settings.audit.checkpoint_interval_seconds == 600


def test_default_config_file_in_working_directory_is_read(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    write_toml(tmp_path / "config", '[logging]\nlevel = "DEBUG"\n')
    assert load_settings(environ={}).logging.level == "DEBUG"


def test_idgov_config_pointing_to_a_missing_file_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.toml"
    with pytest.raises(ConfigurationError, match="not found") as caught:
        load_settings(environ={"IDGOV_CONFIG": str(missing)})
    assert str(missing) in caught.value.detail
    assert "IDGOV_CONFIG" in caught.value.detail


def test_malformed_toml_names_the_file(tmp_path: Path) -> None:
    path = write_toml(tmp_path, "[server\nport = 1\n")
    with pytest.raises(ConfigurationError, match="not valid TOML") as caught:
        load_settings(environ={}, config_file=path)
    assert str(path) in caught.value.detail


def test_setting_outside_a_section_is_an_error(tmp_path: Path) -> None:
    path = write_toml(tmp_path, "port = 8080\n")
    with pytest.raises(ConfigurationError, match=r"\[section\] table") as caught:
        load_settings(environ={}, config_file=path)
    assert str(path) in caught.value.detail
    assert "'port'" in caught.value.detail


def test_unknown_key_in_file_names_file_and_key(tmp_path: Path) -> None:
    path = write_toml(tmp_path, "[server]\nprot = 8080\n")
    with pytest.raises(ConfigurationError) as caught:
        load_settings(environ={}, config_file=path)
    assert caught.value.detail == f"{path}: key 'server.prot': unknown setting"


def test_unknown_section_in_file_is_an_unknown_setting(tmp_path: Path) -> None:
    path = write_toml(tmp_path, "[sever]\nport = 8080\n")
    with pytest.raises(ConfigurationError) as caught:
        load_settings(environ={}, config_file=path)
    assert str(path) in caught.value.detail
    assert "'sever'" in caught.value.detail
    assert "unknown setting" in caught.value.detail


@pytest.mark.parametrize(
    ("toml", "key", "problem"),
    [
        ("[server]\nport = 70000\n", "server.port", "less than or equal to 65535"),
        ("[server]\nport = 0\n", "server.port", "greater than or equal to 1"),
        ('[database]\npool_size = "many"\n', "database.pool_size", "valid integer"),
        ('[keys]\nalgorithm = "RS256"\n', "keys.algorithm", "'EdDSA' or 'ES256'"),
        ('[logging]\nlevel = "LOUD"\n', "logging.level", "'DEBUG'"),
        ("[audit]\ncheckpoint_interval_seconds = 1\n", "audit.checkpoint_interval_seconds", "60"),
    ],
)
def test_invalid_value_in_file_names_file_key_and_problem(
    tmp_path: Path, toml: str, key: str, problem: str
) -> None:
    path = write_toml(tmp_path, toml)
    with pytest.raises(ConfigurationError) as caught:
        load_settings(environ={}, config_file=path)
    detail = caught.value.detail
    assert detail.startswith(f"{path}: key '{key}': ")
    assert problem in detail


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    path = write_toml(tmp_path, '[server]\nport = 70000\nprot = 1\n\n[database]\npool_size = "x"\n')
    with pytest.raises(ConfigurationError) as caught:
        load_settings(environ={}, config_file=path)
    detail = caught.value.detail
    for key in ("server.port", "server.prot", "database.pool_size"):
        assert f"key '{key}'" in detail


def test_unknown_environment_setting_names_the_variable() -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_settings(environ={"IDGOV_SERVER__NOPE": "1"})
    assert caught.value.detail == (
        "environment variable IDGOV_SERVER__NOPE: key 'server.nope': unknown setting"
    )


def test_invalid_environment_value_names_the_variable(tmp_path: Path) -> None:
    path = write_toml(tmp_path, "[server]\nport = 9000\n")
    with pytest.raises(ConfigurationError) as caught:
        load_settings(environ={"IDGOV_SERVER__PORT": "eighty"}, config_file=path)
    detail = caught.value.detail
    assert detail.startswith("environment variable IDGOV_SERVER__PORT: key 'server.port': ")
    assert "valid integer" in detail
    assert str(path) not in detail  # the environment overrode the file: blame the variable


def test_non_setting_idgov_variables_are_ignored() -> None:
    environ = {
        "IDGOV_TEST_DATABASE_URL": "postgresql://example/db",
        "IDGOV_TEST_SOMETHING__ODD": "1",
        "IDGOV_KEY_PASSPHRASE": "a secret for env://IDGOV_KEY_PASSPHRASE",
        "OTHER_SERVER__PORT": "1",
        "PATH": "/usr/bin",
    }
    assert load_settings(environ=environ) == Settings()


# --- server.base_url: the issuer follows the port unless set ----------------------------------


def test_base_url_follows_the_port_set_in_the_environment() -> None:
    settings = load_settings(environ={"IDGOV_SERVER__PORT": "8091"})
    assert settings.server.base_url == "http://127.0.0.1:8091"


def test_base_url_follows_host_and_port_set_in_the_file(tmp_path: Path) -> None:
    path = write_toml(tmp_path, '[server]\nhost = "idgov.lab.example"\nport = 9000\n')
    settings = load_settings(environ={}, config_file=path)
    assert settings.server.base_url == "http://idgov.lab.example:9000"


def test_base_url_set_in_the_file_is_kept_whatever_the_port(tmp_path: Path) -> None:
    # Behind a proxy the public URL legitimately differs from the port idgov listens on.
    path = write_toml(tmp_path, '[server]\nbase_url = "https://idgov.example.com"\n')
    settings = load_settings(environ={"IDGOV_SERVER__PORT": "8091"}, config_file=path)
    assert (settings.server.port, settings.server.base_url) == (8091, "https://idgov.example.com")


def test_base_url_set_in_the_environment_is_kept() -> None:
    environ = {"IDGOV_SERVER__PORT": "8091", "IDGOV_SERVER__BASE_URL": "https://idgov.example.com"}
    assert load_settings(environ=environ).server.base_url == "https://idgov.example.com"


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", "http://127.0.0.1:8091"),
        ("0.0.0.0", "http://127.0.0.1:8091"),
        ("", "http://127.0.0.1:8091"),
        ("::", "http://[::1]:8091"),
        ("::1", "http://[::1]:8091"),
        ("[::1]", "http://[::1]:8091"),
        ("2001:db8::7", "http://[2001:db8::7]:8091"),
        ("fe80::1%eth0", "http://[fe80::1%25eth0]:8091"),
        ("localhost", "http://localhost:8091"),
    ],
)
def test_derived_base_url_is_one_a_browser_on_this_host_can_open(host: str, expected: str) -> None:
    environ = {"IDGOV_SERVER__HOST": host, "IDGOV_SERVER__PORT": "8091"}
    assert load_settings(environ=environ).server.base_url == expected


def test_command_line_options_win_and_move_the_derived_base_url() -> None:
    settings = load_settings(environ={"IDGOV_SERVER__PORT": "8091"}, options={"server.port": 8092})
    assert (settings.server.port, settings.server.base_url) == (8092, "http://127.0.0.1:8092")


def test_a_bad_command_line_option_is_named_as_such() -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_settings(environ={}, options={"server.port": 0})
    assert caught.value.detail.startswith(
        "command-line option for server.port: key 'server.port': "
    )


def test_a_bad_port_is_reported_and_no_base_url_is_guessed() -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_settings(environ={"IDGOV_SERVER__PORT": "eighty"})
    assert "key 'server.port'" in caught.value.detail
    assert "base_url" not in caught.value.detail


def test_settings_are_frozen() -> None:
    settings = load_settings(environ={})
    with pytest.raises(ValidationError, match="frozen"):
        settings.server.port = 1  # type: ignore[misc]
    with pytest.raises(ValidationError, match="frozen"):
        settings.database = settings.database  # type: ignore[misc]


def test_env_secret_reads_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IDGOV_UNIT_SECRET", "s3cret")
    assert resolve_secret("env://IDGOV_UNIT_SECRET") == "s3cret"


def test_env_secret_missing_variable_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IDGOV_UNIT_SECRET", raising=False)
    with pytest.raises(ConfigurationError, match="environment variable IDGOV_UNIT_SECRET"):
        resolve_secret("env://IDGOV_UNIT_SECRET")


def test_env_secret_empty_variable_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IDGOV_UNIT_SECRET", "")
    with pytest.raises(ConfigurationError, match="is not set"):
        resolve_secret("env://IDGOV_UNIT_SECRET")


def test_file_secret_is_read_relative_to_base_dir_and_stripped(tmp_path: Path) -> None:
    (tmp_path / "instance").mkdir()
    (tmp_path / "instance" / "secret").write_text("  s3cret\n", encoding="utf-8")
    assert resolve_secret("file://instance/secret", base_dir=tmp_path) == "s3cret"


def test_file_secret_with_absolute_path(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    path.write_text("s3cret", encoding="utf-8")
    assert resolve_secret(f"file://{path}", base_dir=tmp_path / "elsewhere") == "s3cret"


def test_file_secret_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot read") as caught:
        resolve_secret("file://missing", base_dir=tmp_path)
    assert str(tmp_path / "missing") in caught.value.detail


def test_file_secret_empty_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "blank").write_text("\n  \n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="is empty"):
        resolve_secret("file://blank", base_dir=tmp_path)


def test_literal_secret_is_returned_as_is() -> None:
    assert resolve_secret("just-a-literal-value") == "just-a-literal-value"


def test_example_config_documents_every_setting_with_its_default() -> None:
    """config/idgov.example.toml is the operators' reference: it must not drift."""
    import tomllib

    example = Path(__file__).resolve().parents[2] / "config" / "idgov.example.toml"
    document = tomllib.loads(example.read_text(encoding="utf-8"))
    defaults = Settings().model_dump(exclude_none=True)  # optional settings are commented out
    assert defaults.pop("directories") == {}  # none by default; the example block is commented
    assert defaults.pop("oidc") == {}
    # Derived from host and port unless set: the example shows it commented out, as setting it
    # would stop it following the port.
    assert defaults["server"].pop("base_url") == "http://127.0.0.1:8080"
    assert '\n# base_url = "https://' in example.read_text(encoding="utf-8")
    assert document == defaults


def test_example_oidc_block_is_valid_and_complete() -> None:
    """Uncommented, the example [oidc.entra] block is a valid provider naming every setting."""
    import tomllib

    from idgov.providers.oidc.settings import OidcSettings

    example = Path(__file__).resolve().parents[2] / "config" / "idgov.example.toml"
    text = example.read_text(encoding="utf-8")
    block = text[text.index("# [oidc.entra]") :].splitlines()
    settings_lines = [line[2:] for line in block if re.match(r"^# [a-z_]+ = ", line)]
    document = tomllib.loads("[oidc.entra]\n" + "\n".join(settings_lines))
    entra = Settings.model_validate(document).oidc["entra"]
    assert entra.signing_freshness_seconds == 120
    assert entra.clock_skew_seconds == 60
    assert set(document["oidc"]["entra"]) == set(OidcSettings.model_fields)


def test_example_directory_block_is_valid_and_complete() -> None:
    """Uncommented, the example [directories.corp] block is a valid directory that names
    every directory setting."""
    import tomllib

    from idgov.providers.directory.settings import DirectorySettings

    example = Path(__file__).resolve().parents[2] / "config" / "idgov.example.toml"
    text = example.read_text(encoding="utf-8")
    end = text.index("# OpenID Connect providers")
    block = text[text.index("# [directories.corp]") : end].splitlines()
    settings_lines = [line[2:] for line in block if re.match(r"^# [a-z_]+ = ", line)]
    document = tomllib.loads("[directories.corp]\n" + "\n".join(settings_lines))
    settings = Settings.model_validate(document)
    corp = settings.directories["corp"]
    assert corp.urls[0] == "ldap://ldap1.corp.example"
    assert set(document["directories"]["corp"]) == set(DirectorySettings.model_fields)
