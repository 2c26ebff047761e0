"""The LDAP adapter against real slapd servers: TLS trust, failover, failures, filter escaping."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import pytest

from idgov.providers.directory.attributes import DirectoryUser, EntryProblem
from idgov.providers.directory.outcomes import BindStatus
from idgov.providers.directory.settings import DirectorySettings
from idgov.providers.ldap.connections import DirectoryUnavailable
from idgov.providers.ldap.provider import LdapIdentityProvider
from tests.harness.certificates import CertificateSet, TlsFiles, make_certificates
from tests.harness.ports import LOOPBACK, free_port
from tests.harness.proxy import DroppingProxy
from tests.harness.slapd import ADMIN_DN, ADMIN_PASSWORD, PEOPLE_DN, SEED_PEOPLE, SlapdServer

pytestmark = pytest.mark.integration

Tls = Literal["starttls", "ldaps", "none"]
TRANSPORTS = pytest.mark.parametrize("tls", ["starttls", "ldaps"])
BOB = SEED_PEOPLE["bob"]
PAGE_SIZE = 10  # the smallest DirectorySettings allows
EXTRA_PEOPLE = 3 * PAGE_SIZE  # with the seeded ones: four pages
TIMEOUT = 2.0


# -- servers and providers -----------------------------------------------------------------


@contextmanager
def running(server: SlapdServer) -> Iterator[SlapdServer]:
    server.start()
    try:
        yield server
    finally:
        server.stop()


def tls_slapd(factory: pytest.TempPathFactory, files: TlsFiles) -> SlapdServer:
    return SlapdServer(factory.mktemp(files.cert_file.stem), tls=files)


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> CertificateSet:
    return make_certificates(tmp_path_factory.mktemp("certificates"))


@pytest.fixture(scope="module")
def trusted(
    tmp_path_factory: pytest.TempPathFactory, certificates: CertificateSet
) -> Iterator[SlapdServer]:
    """Serves a certificate from the test CA; it also holds extra people for paging."""
    with running(tls_slapd(tmp_path_factory, certificates.valid)) as server:
        _add_people(server, EXTRA_PEOPLE)
        yield server


@pytest.fixture(scope="module")
def expired(
    tmp_path_factory: pytest.TempPathFactory, certificates: CertificateSet
) -> Iterator[SlapdServer]:
    with running(tls_slapd(tmp_path_factory, certificates.expired)) as server:
        yield server


@pytest.fixture(scope="module")
def self_signed(
    tmp_path_factory: pytest.TempPathFactory, certificates: CertificateSet
) -> Iterator[SlapdServer]:
    with running(tls_slapd(tmp_path_factory, certificates.self_signed)) as server:
        yield server


def _add_people(server: SlapdServer, count: int) -> None:
    with server.admin_connection() as conn:
        for n in range(count):
            uid = f"paged{n:02d}"
            attrs = {"uid": uid, "cn": f"Paged {n}", "sn": "Paged"}
            assert conn.add(f"uid={uid},{PEOPLE_DN}", ["inetOrgPerson"], attrs), conn.result


def url_of(server: SlapdServer, tls: Tls) -> str:
    return server.ldaps_url if tls == "ldaps" else server.url


def dead_url() -> str:
    return f"ldap://{LOOPBACK}:{free_port()}"


@contextmanager
def directory(
    *urls: str,
    tls: Tls = "starttls",
    ca_file: Path | None = None,
    password: str = ADMIN_PASSWORD,
    **overrides: Any,
) -> Iterator[LdapIdentityProvider]:
    """A provider for `urls`; `password` is what the service password reference resolves to."""
    settings = DirectorySettings(
        urls=list(urls),
        tls=tls,
        ca_file=None if ca_file is None else str(ca_file),
        bind_dn=ADMIN_DN,
        bind_password=ADMIN_PASSWORD,
        user_base=PEOPLE_DN,
        connect_timeout_seconds=TIMEOUT,
        operation_timeout_seconds=TIMEOUT,
        **overrides,
    )
    provider = LdapIdentityProvider("corp", settings, lambda: password)
    try:
        yield provider
    finally:
        provider.close()


@contextmanager
def proxy_to(server: SlapdServer, drop_after_bytes: int | None) -> Iterator[DroppingProxy]:
    proxy = DroppingProxy(server.host, server.port, drop_after_bytes)
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.stop()


def assert_finds_and_binds_bob(provider: LdapIdentityProvider) -> None:
    user = provider.find_user("bob")
    assert isinstance(user, DirectoryUser), user
    assert user.username == "bob"
    assert provider.bind(user.dn, BOB.password).ok


def list_users(provider: LdapIdentityProvider, into: list[DirectoryUser | EntryProblem]) -> None:
    """Iterate provider.users() into `into`, so what arrived before a failure stays visible."""
    for user in provider.users():
        into.append(user)


# -- certificates ----------------------------------------------------------------------------


@TRANSPORTS
def test_certificate_from_trusted_ca(
    trusted: SlapdServer, certificates: CertificateSet, tls: Tls
) -> None:
    with directory(url_of(trusted, tls), tls=tls, ca_file=certificates.ca_file) as provider:
        assert_finds_and_binds_bob(provider)


@pytest.mark.req("ACC-1")
@TRANSPORTS
def test_self_signed_certificate_refused(
    self_signed: SlapdServer, certificates: CertificateSet, tls: Tls
) -> None:
    """A directory that cannot prove who it is never sees a password, nor is asked for users."""
    with directory(url_of(self_signed, tls), tls=tls, ca_file=certificates.ca_file) as provider:
        with pytest.raises(DirectoryUnavailable, match=r"certificate.*self-signed"):
            provider.find_user("bob")
        with pytest.raises(DirectoryUnavailable, match=r"certificate.*self-signed"):
            provider.bind(BOB.dn, BOB.password)


@TRANSPORTS
def test_unverified_certificate_accepted_when_verification_off(
    self_signed: SlapdServer, certificates: CertificateSet, tls: Tls
) -> None:
    """verify_certificate = false exists for test benches whose directory has a certificate
    nobody can check: traffic is still encrypted, but an impostor would be believed. It is
    the only thing that makes the self-signed server acceptable."""
    url = url_of(self_signed, tls)
    with directory(url, tls=tls, ca_file=certificates.ca_file, verify_certificate=False) as p:
        assert_finds_and_binds_bob(p)


@pytest.mark.req("ACC-1")
@TRANSPORTS
def test_expired_certificate_refused(
    expired: SlapdServer, certificates: CertificateSet, tls: Tls
) -> None:
    with (
        directory(url_of(expired, tls), tls=tls, ca_file=certificates.ca_file) as provider,
        pytest.raises(DirectoryUnavailable, match=r"not accepted.*certificate has expired"),
    ):
        provider.find_user("bob")


# -- service account and failover ------------------------------------------------------------


def test_wrong_service_password_is_not_tried_elsewhere(
    trusted: SlapdServer, certificates: CertificateSet
) -> None:
    with (
        proxy_to(trusted, None) as second,
        directory(trusted.url, second.url, ca_file=certificates.ca_file, password="wrong") as p,
        pytest.raises(DirectoryUnavailable, match=f"refused the service account {ADMIN_DN}") as e,
    ):
        p.find_user("bob")
    assert e.value.extensions["reason"] == "service-bind"
    assert second.connections == 0  # the second URL (same server, behind a proxy) never tried
    assert p.server is None


def test_failover_to_next_url(trusted: SlapdServer, certificates: CertificateSet) -> None:
    with directory(dead_url(), trusted.url, ca_file=certificates.ca_file) as provider:
        assert_finds_and_binds_bob(provider)
        assert provider.server == trusted.url


@pytest.mark.req("ACC-1")
def test_no_url_answers(certificates: CertificateSet) -> None:
    urls = [dead_url(), dead_url()]
    with directory(*urls, ca_file=certificates.ca_file) as provider:
        with pytest.raises(DirectoryUnavailable, match="no directory server answered") as found:
            provider.find_user("bob")
        with pytest.raises(DirectoryUnavailable, match="no directory server answered"):
            provider.bind(BOB.dn, BOB.password)
    for url in urls:
        assert f"{url}: " in found.value.detail


# -- failures mid-operation ------------------------------------------------------------------


def _bytes_of_full_listing(server: SlapdServer) -> int:
    """What the server sends for a service bind and a paged listing of every user."""
    people: list[DirectoryUser | EntryProblem] = []
    with proxy_to(server, None) as proxy:
        with directory(proxy.url, tls="none", page_size=PAGE_SIZE) as provider:
            list_users(provider, people)
        assert len(people) == len(SEED_PEOPLE) + EXTRA_PEOPLE
        return proxy.bytes_to_client


def test_connection_dropped_mid_listing(trusted: SlapdServer) -> None:
    half = _bytes_of_full_listing(trusted) // 2
    people: list[DirectoryUser | EntryProblem] = []
    started = time.monotonic()
    with (
        proxy_to(trusted, drop_after_bytes=half) as proxy,
        directory(proxy.url, tls="none", page_size=PAGE_SIZE) as provider,
        pytest.raises(DirectoryUnavailable, match="failed during the operation"),
    ):
        list_users(provider, people)
    assert time.monotonic() - started < TIMEOUT
    assert PAGE_SIZE <= len(people) < len(SEED_PEOPLE) + EXTRA_PEOPLE  # cut after page one


@pytest.mark.req("ACC-1")
def test_server_stopped_and_restarted(tmp_path: Path) -> None:
    with running(SlapdServer(tmp_path)) as server, directory(server.url, tls="none") as provider:
        assert_finds_and_binds_bob(provider)
        server.stop()
        # The pooled connection the stop closed is dropped and a new one tried, which is
        # refused: the answer names the real cause, not the stale connection.
        with pytest.raises(DirectoryUnavailable, match="no directory server answered"):
            provider.find_user("bob")
        with pytest.raises(DirectoryUnavailable):
            provider.bind(BOB.dn, BOB.password)
        server.start()
        assert_finds_and_binds_bob(provider)  # at once: no dead connection or memory of one


# -- what a username or password can do ------------------------------------------------------


@pytest.mark.req("LOCK-3")
@pytest.mark.parametrize("username", ["*", "bob)(uid=*", "b\\5c", "\x00bob", "(uid=*)"])
def test_filter_metacharacters_match_nothing(
    trusted: SlapdServer, certificates: CertificateSet, username: str
) -> None:
    with directory(trusted.url, ca_file=certificates.ca_file) as provider:
        assert provider.find_user(username) is None
        assert isinstance(provider.find_user("bob"), DirectoryUser)


@pytest.mark.req("ACC-1")
def test_empty_password_is_bad_credentials(
    trusted: SlapdServer, certificates: CertificateSet
) -> None:
    """RFC 4513 5.1.2: a DN with an empty password is an unauthenticated bind, not a login."""
    with directory(trusted.url, ca_file=certificates.ca_file) as provider:
        assert provider.bind(BOB.dn, "").status == BindStatus.BAD_CREDENTIALS
