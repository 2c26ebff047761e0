"""[directories.NAME] settings: a password never crosses the network in clear."""

from __future__ import annotations

from pathlib import Path

import pytest

from idgov.config import load_settings
from idgov.errors import ConfigurationError
from idgov.loopback import is_loopback_url

BLOCK = """[directories.corp]
urls = {urls}
tls = "{tls}"
bind_dn = "cn=idgov,ou=services,dc=corp,dc=example"
bind_password = "env://IDGOV_CORP_LDAP_PASSWORD"
user_base = "ou=people,dc=corp,dc=example"
password_change = {password_change}
"""


def config(tmp_path: Path, urls: list[str], tls: str, password_change: bool) -> Path:
    path = tmp_path / "idgov.toml"
    text = BLOCK.format(
        urls=str(urls).replace("'", '"'), tls=tls, password_change=str(password_change).lower()
    )
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "urls",
    [
        ["ldap://ldap1.corp.example"],
        ["ldap://10.0.0.5:389"],
        ["ldap://127.0.0.1", "ldap://ldap2.corp.example"],  # the failover leaves the host
    ],
)
def test_password_change_without_tls_over_the_network_is_refused(
    tmp_path: Path, urls: list[str]
) -> None:
    path = config(tmp_path, urls, "none", password_change=True)
    with pytest.raises(ConfigurationError) as caught:
        load_settings(environ={}, config_file=path)
    detail = caught.value.detail
    assert detail.startswith(f"{path}: key 'directories.corp': ")
    assert 'password_change = true with tls = "none"' in detail  # the keys
    assert "in clear" in detail  # the risk
    assert 'set tls = "starttls"' in detail  # the fix
    assert "password_change = false" in detail


@pytest.mark.parametrize(
    "urls",
    [
        ["ldap://127.0.0.1:3890"],
        ["ldap://[::1]:3890"],
        ["ldap://localhost", "ldap://127.0.0.2"],
    ],
)
def test_password_change_without_tls_on_this_host_is_accepted(
    tmp_path: Path, urls: list[str]
) -> None:
    path = config(tmp_path, urls, "none", password_change=True)
    corp = load_settings(environ={}, config_file=path).directories["corp"]
    assert (corp.tls, corp.password_change) == ("none", True)


@pytest.mark.parametrize(
    ("tls", "password_change"), [("starttls", True), ("none", False)], ids=["tls", "no-change"]
)
def test_with_tls_or_without_password_change_a_remote_directory_is_accepted(
    tmp_path: Path, tls: str, password_change: bool
) -> None:
    path = config(tmp_path, ["ldap://ldap1.corp.example"], tls, password_change)
    assert load_settings(environ={}, config_file=path).directories["corp"].tls == tls


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("ldap://127.0.0.1", True),
        ("ldap://127.8.9.10:389", True),
        ("ldap://[::1]:389", True),
        ("ldap://LocalHost", True),
        ("ldap://localhost.corp.example", False),
        ("ldap://ldap.corp.example", False),
        ("ldap://[2001:db8::1]", False),
        ("ldap://[broken", False),
    ],
)
def test_is_loopback(url: str, loopback: bool) -> None:
    assert is_loopback_url(url) is loopback
