"""Pooled, verified connections to one directory, with failover across its URLs (RFC 4513)."""

from __future__ import annotations

import math
import queue
import ssl
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit

from idgov.errors import ConfigurationError, Conflict, ProviderUnavailable
from idgov.providers.directory.settings import DirectorySettings

with warnings.catch_warnings():
    # ldap3 2.9.1 touches pyasn1's deprecated tagMap/typeMap aliases once, at import time.
    warnings.filterwarnings("ignore", r"(tagMap|typeMap) is deprecated", DeprecationWarning)
    from ldap3 import NONE, Connection, Server, Tls
    from ldap3.core.exceptions import LDAPException


Kind = Literal["service", "anonymous"]
T = TypeVar("T")


class DirectoryUnavailable(ProviderUnavailable):
    """No server of the directory answered, or one failed mid-operation: refuse, never fall
    back (DESIGN: fail closed)."""


class DirectoryRefused(Conflict):
    """The directory answered but refused a change (access rights, schema): retrying the
    same change will not help; someone must look at the directory."""


class VerifiedTls(Tls):  # type: ignore[misc]  # ldap3 has no type hints
    """TLS with Python's own certificate and host-name checks (RFC 6125, IP addresses
    included) instead of ldap3's, which calls the deprecated ssl.match_hostname."""

    def __init__(self, ca_file: str | None, verify: bool) -> None:
        super().__init__(validate=ssl.CERT_REQUIRED if verify else ssl.CERT_NONE)
        self._ca_file = ca_file
        self._verify = verify
        self._context: ssl.SSLContext | None = None

    def _ssl_context(self) -> ssl.SSLContext:
        # Built on first use: an unreadable CA file makes this directory unavailable (an
        # OSError, reported per URL) instead of stopping idgov from starting.
        if self._context is None:
            context = ssl.create_default_context(cafile=self._ca_file)
            context.minimum_version = ssl.TLSVersion.TLSv1_2
            if not self._verify:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            self._context = context
        return self._context

    def wrap_socket(self, connection: Any, do_handshake: bool = False) -> None:
        connection.socket = self._ssl_context().wrap_socket(
            connection.socket,
            server_side=False,
            do_handshake_on_connect=do_handshake,
            server_hostname=connection.server.host,
        )


class ConnectionPool:
    """Idle connections kept for reuse (up to `pool_size`), opened on the first URL that
    answers. `service()` connections are bound as the service account; `anonymous()` ones
    serve binds as users. A connection that fails is closed, never returned to the pool."""

    def __init__(self, settings: DirectorySettings, service_password: Callable[[], str]) -> None:
        self._settings = settings
        self._service_password = service_password
        tls = None
        if settings.tls != "none":
            tls = VerifiedTls(settings.ca_file, settings.verify_certificate)
        self._servers = [self._server(url, tls) for url in settings.urls]
        self._idle: dict[str, queue.LifoQueue[Connection]] = {
            "service": queue.LifoQueue(settings.pool_size),
            "anonymous": queue.LifoQueue(settings.pool_size),
        }
        self.last_url: str | None = None

    def _server(self, url: str, tls: Tls | None) -> Server:
        parts = urlsplit(url)
        secure = parts.scheme == "ldaps"
        return Server(
            parts.hostname or "",
            port=parts.port or (636 if secure else 389),
            use_ssl=secure,
            tls=tls,
            get_info=NONE,
            connect_timeout=self._settings.connect_timeout_seconds,
        )

    def run(self, kind: Kind, operation: Callable[[Connection], T]) -> T:
        """Run `operation` on a pooled connection of `kind` ("service": bound as the service
        account; "anonymous": for binds as users). A pooled connection the server has closed
        meanwhile (idle timeout, restart) is dropped and the operation tried again; a failure
        on a new connection is final."""
        while True:
            conn, reused = self._take(kind)
            try:
                result = operation(conn)
            except (LDAPException, OSError) as exc:
                _discard(conn)
                if reused:
                    continue  # a stale idle connection: dropped, try the next (or a new one)
                raise _failed(exc) from None
            except BaseException:
                _discard(conn)
                raise
            self._give_back(kind, conn)
            return result

    @contextmanager
    def fresh(self, kind: Kind) -> Iterator[Connection]:
        """A new connection for a long operation (a paged listing): never a stale one."""
        conn = self._open(kind == "service")
        try:
            yield conn
        except (LDAPException, OSError) as exc:
            _discard(conn)
            raise _failed(exc) from None
        except BaseException:
            _discard(conn)
            raise
        self._give_back(kind, conn)

    def close(self) -> None:
        for idle in self._idle.values():
            while not idle.empty():
                _discard(idle.get_nowait())

    def _take(self, kind: Kind) -> tuple[Connection, bool]:
        try:
            return self._idle[kind].get_nowait(), True
        except queue.Empty:
            return self._open(kind == "service"), False

    def _give_back(self, kind: Kind, conn: Connection) -> None:
        if conn.closed:
            return
        try:
            self._idle[kind].put_nowait(conn)
        except queue.Full:
            _discard(conn)

    def _open(self, bind_as_service: bool) -> Connection:
        """The first server that accepts a connection (and StartTLS, and the service bind)."""
        problems = []
        for server, url in zip(self._servers, self._settings.urls, strict=True):
            conn = Connection(
                server,
                receive_timeout=math.ceil(
                    self._settings.operation_timeout_seconds
                ),  # ldap3 packs an int
                raise_exceptions=False,
            )
            # ldap3 skips an address that failed in the last few seconds and then reports only
            # "invalid server address": forget that, so a server that is back is used at once
            # and a failing one says why each time (failover across URLs is ours).
            server.reset_availability()
            try:
                conn.open()
                if self._settings.tls == "starttls" and not conn.start_tls():
                    raise DirectoryUnavailable(f"{url} refused StartTLS: {conn.result}")
                if bind_as_service:
                    self._bind_service(conn, url)
            except DirectoryUnavailable as exc:
                _discard(conn)
                if exc.extensions.get("reason") == "service-bind":
                    raise  # a wrong service password is not a reason to try another server
                problems.append(exc.detail)
                continue
            except (LDAPException, OSError) as exc:
                _discard(conn)
                problems.append(f"{url}: {_describe(exc)}")
                continue
            self.last_url = url
            return conn
        raise DirectoryUnavailable("no directory server answered: " + "; ".join(problems))

    def _bind_service(self, conn: Connection, url: str) -> None:
        try:
            secret = self._service_password()
        except ConfigurationError as exc:
            raise DirectoryUnavailable(
                f"the service password cannot be read: {exc.detail}", reason="service-bind"
            ) from None
        if conn.rebind(self._settings.bind_dn, secret):
            return
        code = conn.result.get("result") if conn.result else None
        if code == 49:
            raise DirectoryUnavailable(
                f"the directory refused the service account {self._settings.bind_dn} "
                f"({url}): check bind_dn and bind_password",
                reason="service-bind",
            )
        raise DirectoryUnavailable(f"{url}: service bind failed: {conn.result}")


def _discard(conn: Connection) -> None:
    """Close without caring how: ldap3 2.9.1 can leave the socket of a failed open behind."""
    with suppress(LDAPException, OSError):
        conn.unbind()
    sock = getattr(conn, "socket", None)
    if sock is not None:
        with suppress(OSError):
            sock.close()
        conn.socket = None


def _failed(exc: BaseException) -> DirectoryUnavailable:
    return DirectoryUnavailable(f"the directory failed during the operation: {_describe(exc)}")


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    if isinstance(exc, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in text:
        return f"the server's certificate was not accepted ({text})"
    return text
