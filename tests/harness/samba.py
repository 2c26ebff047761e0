"""A real Active Directory: a Samba AD domain controller on loopback, provisioned for tests.

Samba listens on the fixed LDAP ports (389, 636, 3268, 3269) of 127.0.0.1, so only one such
domain controller can run on a machine at a time. Its LDAPS certificate is generated at the
first start and names the host in the realm (``DC1.corp.test``); idgov checks the certificate
against the name in the URL, so the tests use ``ldaps://dc1.corp.test`` and this process
resolves that one name to 127.0.0.1 (``resolving``) instead of editing /etc/hosts.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from idgov.providers.ldap.connections import VerifiedTls
from tests.harness.missing import require_binary
from tests.harness.ports import LOOPBACK, port_is_open
from tests.harness.slapd import LdapTestServer, SeedGroup, SeedPerson

with warnings.catch_warnings():
    warnings.filterwarnings(
        "ignore", r"(tagMap|typeMap) is deprecated", DeprecationWarning, module=r"ldap3\b"
    )
    from ldap3 import MODIFY_REPLACE, NONE, Server
    from ldap3.core.exceptions import LDAPException

INSTALL_HINT = "apt-get install -y samba samba-ad-dc samba-ad-provision winbind"
REALM = "CORP.TEST"
DOMAIN = "CORP"
HOST_NAME = "dc1"
DC_NAME = "dc1.corp.test"  # the certificate says DC1.corp.test; names compare without case
BASE_DN = "DC=corp,DC=test"
PEOPLE_DN = f"OU=people,{BASE_DN}"
GROUPS_DN = f"OU=groups,{BASE_DN}"
ADMIN_DN = f"CN=Administrator,CN=Users,{BASE_DN}"
ADMIN_PASSWORD = "Idgov-Admin-Secret-1"
LDAP_PORTS = (389, 636, 3268, 3269)  # fixed by Samba: 389/636 LDAP(S), 3268/3269 global catalog
LOCKOUT_THRESHOLD = 3
START_TIMEOUT = 30.0


@dataclass(frozen=True)
class AdPerson(SeedPerson):
    """A seeded user under OU=people: `uid` is its sAMAccountName; samba-tool names the entry
    after the full name."""

    @property
    def dn(self) -> str:
        return f"CN={self.cn},{PEOPLE_DN}"

    @property
    def mail(self) -> str:
        return f"{self.uid}@corp.test"

    @property
    def manager_dn(self) -> str | None:
        return None if self.manager is None else AD_PEOPLE[self.manager].dn


@dataclass(frozen=True)
class AdGroup(SeedGroup):
    """A seeded global security group under OU=groups, with people and nested groups."""

    @property
    def dn(self) -> str:
        return f"CN={self.cn},{GROUPS_DN}"


# Passwords meet AD's default complexity rule (three character classes, no part of the name).
AD_PEOPLE: dict[str, AdPerson] = {
    p.uid: p
    for p in (
        AdPerson("alice", "Alice", "Anders", "QA Manager", "Qm7-Harbour-Lantern"),
        AdPerson("bob", "Bob", "Berg", "QA Approver", "Qm7-Copper-Signal", manager="alice"),
        AdPerson("carol", "Carol", "Chen", "QA Approver", "Qm7-Willow-Ember", manager="alice"),
        AdPerson("dave", "Dave", "Diaz", "Lab Analyst", "Qm7-Quartz-Meadow", manager="alice"),
    )
}
# Order matters: a nested group must exist before a group that lists it.
AD_GROUPS: dict[str, AdGroup] = {
    g.cn: g
    for g in (
        AdGroup("qa-approvers", ("bob", "carol")),
        AdGroup("lims-users", ("dave",), groups=("qa-approvers",)),
    )
}


@contextmanager
def resolving(name: str, address: str) -> Iterator[None]:
    """Resolve `name` to `address` in this process only (like an /etc/hosts line), so that a
    certificate issued to `name` is checked against `name` while the server is on loopback."""
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, str) and host.lower() == name.lower():
            host = address
        return real(host, *args, **kwargs)

    socket.getaddrinfo = getaddrinfo
    try:
        yield
    finally:
        socket.getaddrinfo = real


class SambaDc(LdapTestServer):
    """One provisioned domain (realm CORP.TEST) under `workdir`, served by one `samba`
    process with only its LDAP service (the KDC, SMB and RPC servers are not started)."""

    people = AD_PEOPLE
    groups = AD_GROUPS
    base_dn = BASE_DN
    people_dn = PEOPLE_DN
    groups_dn = GROUPS_DN
    admin_dn = ADMIN_DN
    admin_password = ADMIN_PASSWORD
    lockout_threshold = LOCKOUT_THRESHOLD
    host = DC_NAME

    def __init__(self, workdir: Path) -> None:
        self.workdir = Path(workdir)
        self.conf = self.workdir / "etc" / "smb.conf"
        self.ca_file = self.workdir / "private" / "tls" / "ca.pem"
        super().__init__(self.workdir / "samba.log")
        self.provision_seconds: float | None = None
        self._managers_set = False

    @property
    def url(self) -> str:
        return f"ldaps://{DC_NAME}"

    def start(self) -> None:
        """Provision and seed (first time only), start samba, wait until LDAPS answers."""
        if self.is_running():
            return
        samba = require_binary("samba", INSTALL_HINT)
        require_binary("samba-tool", INSTALL_HINT)
        if os.geteuid() != 0:
            pytest.fail("a Samba domain controller needs root (it binds port 389)", pytrace=False)
        taken = [port for port in LDAP_PORTS if port_is_open(LOOPBACK, port)]
        if taken:
            pytest.fail(
                f"ports {taken} on {LOOPBACK} are taken: Samba needs 389, 636, 3268 and 3269, "
                "so only one Samba domain controller (or other LDAP server on them) can run on "
                "this machine at a time; stop the other one",
                pytrace=False,
            )
        if not self.conf.exists():
            began = time.monotonic()
            self._provision()
            self.provision_seconds = time.monotonic() - began
            self._seed()
        cmd = [samba, "-F", "-M", "single", "--no-process-group", "-s", str(self.conf)]
        self.launch([*cmd, "--option=server services=ldap"])  # the sub-codes come from LDAP
        self._wait_ready()

    def tool(self, *args: str) -> str:
        """Run `samba-tool ARGS` on this domain's database; its output, or RuntimeError."""
        return _samba_tool([*args, "-s", str(self.conf)])

    def create_user(self, person: AdPerson) -> None:
        self.tool(
            "user",
            "create",
            person.uid,
            person.password,
            "--userou=OU=people",
            f"--job-title={person.title}",
            f"--given-name={person.given_name}",
            f"--surname={person.sn}",
            f"--mail-address={person.mail}",
        )

    def delete_user(self, uid: str) -> None:
        self.tool("user", "delete", uid)

    def unlock(self, uid: str) -> None:
        """Clear the directory's lockout (lockoutTime 0) and its bad-password count."""
        self.tool("user", "unlock", uid)

    def _server(self) -> Server:
        tls = VerifiedTls(str(self.ca_file), verify=True)  # ldap3's own check warns
        return Server(DC_NAME, port=636, use_ssl=True, tls=tls, get_info=NONE, connect_timeout=2)

    def _provision(self) -> None:
        here = self.workdir
        (here / "run").mkdir(parents=True, exist_ok=True)
        options = {
            "interfaces": "lo",
            "bind interfaces only": "yes",
            "pid directory": str(here / "run"),  # not /run/samba: one per domain
            "log file": str(here / "log.%m"),
        }
        _samba_tool(
            [
                "domain",
                "provision",
                f"--realm={REALM}",
                f"--domain={DOMAIN}",
                "--server-role=dc",
                "--dns-backend=NONE",
                f"--host-name={HOST_NAME}",
                f"--adminpass={ADMIN_PASSWORD}",
                f"--targetdir={here}",
                *(f"--option={key}={value}" for key, value in options.items()),
            ]
        )

    def _seed(self) -> None:
        """OUs, the domain's password policy, people and groups: on the database, before the
        first start, so that no LDAP round trip is needed."""
        self.tool("ou", "create", "OU=people")
        self.tool("ou", "create", "OU=groups")
        self.tool(
            "domain",
            "passwordsettings",
            "set",
            f"--account-lockout-threshold={LOCKOUT_THRESHOLD}",
            "--account-lockout-duration=0",  # locked until an administrator unlocks
            "--reset-account-lockout-after=0",
            "--min-pwd-age=0",  # a reset may follow a change at once
        )
        for person in AD_PEOPLE.values():
            self.create_user(person)
        for group in AD_GROUPS.values():
            self.tool("group", "add", group.cn, "--groupou=OU=groups")
            self.tool("group", "addmembers", group.cn, ",".join(group.people + group.groups))

    def _set_managers(self) -> None:
        with self.admin_connection() as conn:
            for person in AD_PEOPLE.values():
                if person.manager_dn is None:
                    continue
                conn.modify(person.dn, {"manager": [(MODIFY_REPLACE, [person.manager_dn])]})
                if conn.result["result"] != 0:
                    raise RuntimeError(f"setting the manager of {person.dn}: {conn.result}")

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        last: Exception | None = None
        while time.monotonic() < deadline:
            if not self.is_running():
                break
            if self.ca_file.exists() and port_is_open(LOOPBACK, 636):
                try:
                    with self.admin_connection():
                        pass
                except (LDAPException, RuntimeError, OSError) as exc:
                    last = exc
                else:
                    if not self._managers_set:
                        self._set_managers()
                        self._managers_set = True
                    return
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(
            f"samba did not answer on {self.url} ({last!r}); log tail:\n{self.log_tail()}"
        )


def _samba_tool(args: list[str]) -> str:
    cmd = [require_binary("samba-tool", INSTALL_HINT), *args]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=300)
    if result.returncode != 0:
        raise RuntimeError(
            f"samba-tool {' '.join(args[:2])} failed ({result.returncode}):\n"
            f"{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
        )
    return result.stdout
