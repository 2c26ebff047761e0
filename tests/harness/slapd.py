"""A real OpenLDAP slapd (memberof + ppolicy overlays) on a loopback port, seeded for tests."""

from __future__ import annotations

import subprocess
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.harness.certificates import TlsFiles
from tests.harness.missing import require_binary
from tests.harness.ports import LOOPBACK, free_port, wait_for_port
from tests.harness.process import ServerProcess

with warnings.catch_warnings():
    # ldap3 2.9.1 imports pyasn1's deprecated tagMap/typeMap aliases once, at import time;
    # importing it here (the plugin loads first) keeps later imports silent under -W error.
    warnings.filterwarnings(
        "ignore", r"(tagMap|typeMap) is deprecated", DeprecationWarning, module=r"ldap3\b"
    )
    from ldap3 import MODIFY_DELETE, NONE, Connection, Server
    from ldap3.core.exceptions import LDAPException

INSTALL_HINT = "apt-get install -y slapd ldap-utils"
BASE_DN = "dc=idgov,dc=test"
PEOPLE_DN = f"ou=people,{BASE_DN}"
GROUPS_DN = f"ou=groups,{BASE_DN}"
POLICIES_DN = f"ou=policies,{BASE_DN}"
DEFAULT_POLICY_DN = f"cn=default,{POLICIES_DN}"
ADMIN_DN = f"cn=admin,{BASE_DN}"
ADMIN_PASSWORD = "idgov-admin-secret"

_MODULE_DIRS = ("/usr/lib/ldap", "/usr/lib64/openldap", "/usr/lib/openldap")
_SCHEMA_DIRS = ("/etc/ldap/schema", "/etc/openldap/schema")
_SCHEMAS = ("core", "cosine", "inetorgperson", "nis")
START_TIMEOUT = 15.0


@dataclass(frozen=True)
class SeedPerson:
    """A seeded inetOrgPerson under ou=people, with its clear-text password."""

    uid: str
    given_name: str
    sn: str
    title: str
    password: str
    manager: str | None = None  # uid of the manager

    @property
    def dn(self) -> str:
        return f"uid={self.uid},{PEOPLE_DN}"

    @property
    def cn(self) -> str:
        return f"{self.given_name} {self.sn}"

    @property
    def display_name(self) -> str:
        return f"{self.cn} ({self.title})"

    @property
    def mail(self) -> str:
        return f"{self.uid}@idgov.test"

    @property
    def manager_dn(self) -> str | None:
        return None if self.manager is None else f"uid={self.manager},{PEOPLE_DN}"


@dataclass(frozen=True)
class SeedGroup:
    """A seeded groupOfNames under ou=groups; members are people uids and nested group cns."""

    cn: str
    people: tuple[str, ...]
    groups: tuple[str, ...] = ()

    @property
    def dn(self) -> str:
        return f"cn={self.cn},{GROUPS_DN}"

    @property
    def member_dns(self) -> list[str]:
        people = [f"uid={uid},{PEOPLE_DN}" for uid in self.people]
        return people + [f"cn={cn},{GROUPS_DN}" for cn in self.groups]


SEED_PEOPLE: dict[str, SeedPerson] = {
    p.uid: p
    for p in (
        SeedPerson("alice", "Alice", "Anders", "QA Manager", "Alice-Pass-1"),
        SeedPerson("bob", "Bob", "Berg", "QA Approver", "Bob-Pass-1", manager="alice"),
        SeedPerson("carol", "Carol", "Chen", "QA Approver", "Carol-Pass-1", manager="alice"),
        SeedPerson("dave", "Dave", "Diaz", "Lab Analyst", "Dave-Pass-1", manager="alice"),
        SeedPerson("sec.officer", "Sam", "Secure", "Security Officer", "SecOfficer-Pass-1"),
        SeedPerson("locktest", "Lock", "Test", "Lockout Test User", "Locktest-Pass-1"),
    )
}
# Order matters: a nested group must exist before a group that lists it.
SEED_GROUPS: dict[str, SeedGroup] = {
    g.cn: g
    for g in (
        SeedGroup("qa-approvers", ("bob", "carol")),
        SeedGroup("lims-users", ("dave",), groups=("qa-approvers",)),
        SeedGroup("security", ("sec.officer",)),
    )
}
PWD_POLICY: dict[str, str] = {  # the default pwdPolicy entry
    "pwdAttribute": "userPassword",
    "pwdMaxFailure": "3",
    "pwdLockout": "TRUE",
    "pwdLockoutDuration": "0",
    "pwdMaxAge": "0",
    "pwdFailureCountInterval": "0",
    "pwdMustChange": "TRUE",
    "pwdAllowUserChange": "TRUE",
    "pwdGraceAuthNLimit": "2",
}


def _probe_dir(candidates: tuple[str, ...], marker: str) -> Path:
    for directory in candidates:
        if (Path(directory) / marker).exists():
            return Path(directory)
    message = f"{marker} not found in {candidates}; install it with: {INSTALL_HINT}"
    pytest.fail(message, pytrace=False)


def config_ldif(workdir: Path, tls: TlsFiles | None = None) -> str:
    """The cn=config LDIF that ``slapadd -n0`` turns into a slapd.d directory."""
    modules = _probe_dir(_MODULE_DIRS, "back_mdb.la")
    schemas = _probe_dir(_SCHEMA_DIRS, "core.ldif")
    includes = "\n".join(f"include: file://{schemas / f'{s}.ldif'}\n" for s in _SCHEMAS)
    tls_lines = ""
    if tls is not None:
        tls_lines = (
            f"olcTLSCACertificateFile: {tls.ca_file}\n"
            f"olcTLSCertificateFile: {tls.cert_file}\n"
            f"olcTLSCertificateKeyFile: {tls.key_file}\n"
        )
    return f"""\
dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: {workdir / "slapd.pid"}
{tls_lines}
dn: cn=module{{0}},cn=config
objectClass: olcModuleList
cn: module{{0}}
olcModulePath: {modules}
olcModuleLoad: back_mdb
olcModuleLoad: memberof
olcModuleLoad: ppolicy

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

{includes}
dn: olcDatabase={{-1}}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {{-1}}frontend

dn: olcDatabase={{0}}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {{0}}config
olcAccess: {{0}}to * by * none

dn: olcDatabase={{1}}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {{1}}mdb
olcDbDirectory: {workdir / "data"}
olcDbMaxSize: 104857600
olcSuffix: {BASE_DN}
olcRootDN: {ADMIN_DN}
olcRootPW: {ADMIN_PASSWORD}
olcDbIndex: objectClass eq
olcDbIndex: uid,mail,cn eq
olcDbIndex: member,memberOf eq
olcAccess: {{0}}to attrs=userPassword by self write by anonymous auth by * none
olcAccess: {{1}}to * by users read by * none

dn: olcOverlay={{0}}memberof,olcDatabase={{1}}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcMemberOf
olcOverlay: {{0}}memberof
olcMemberOfRefInt: TRUE
olcMemberOfGroupOC: groupOfNames
olcMemberOfMemberAD: member
olcMemberOfMemberOfAD: memberOf

dn: olcOverlay={{1}}ppolicy,olcDatabase={{1}}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcPPolicyConfig
olcOverlay: {{1}}ppolicy
olcPPolicyDefault: {DEFAULT_POLICY_DN}
olcPPolicyUseLockout: TRUE
olcPPolicyHashCleartext: TRUE
"""


def seed_entries() -> list[tuple[str, list[str], dict[str, str | list[str]]]]:
    """(dn, objectClasses, attributes) to add over LDAP, parents first."""
    entries: list[tuple[str, list[str], dict[str, str | list[str]]]] = [
        (BASE_DN, ["dcObject", "organization"], {"dc": "idgov", "o": "idgov test"}),
        (PEOPLE_DN, ["organizationalUnit"], {"ou": "people"}),
        (GROUPS_DN, ["organizationalUnit"], {"ou": "groups"}),
        (POLICIES_DN, ["organizationalUnit"], {"ou": "policies"}),
        (DEFAULT_POLICY_DN, ["applicationProcess", "pwdPolicy"], {"cn": "default", **PWD_POLICY}),
    ]
    for p in SEED_PEOPLE.values():
        attrs: dict[str, str | list[str]] = {
            "uid": p.uid,
            "cn": p.cn,
            "givenName": p.given_name,
            "sn": p.sn,
            "title": p.title,
            "displayName": p.display_name,
            "mail": p.mail,
            "userPassword": p.password,
        }
        if p.manager_dn:
            attrs["manager"] = p.manager_dn
        entries.append((p.dn, ["inetOrgPerson"], attrs))
    for g in SEED_GROUPS.values():
        entries.append((g.dn, ["groupOfNames"], {"cn": g.cn, "member": g.member_dns}))
    return entries


def close_connection(conn: Connection) -> None:
    """Unbind ``conn`` and close its socket: ldap3 2.9.1 leaks the socket of a failed connect."""
    conn.unbind()
    if conn.socket is not None:
        conn.socket.close()
        conn.socket = None


class LdapTestServer(ServerProcess):
    """A directory server process with an administrator: what slapd and Samba share."""

    admin_dn: str
    admin_password: str

    @property
    def url(self) -> str:
        raise NotImplementedError

    def _server(self) -> Server:
        raise NotImplementedError

    @contextmanager
    def admin_connection(self) -> Iterator[Connection]:
        """An ldap3 connection bound as the administrator; unbound on exit."""
        conn = Connection(self._server(), self.admin_dn, self.admin_password, receive_timeout=10)
        try:
            if not conn.bind():
                raise RuntimeError(f"admin bind to {self.url} failed: {conn.result}")
            yield conn
        finally:
            close_connection(conn)

    def bind_result(self, dn: str, password: str) -> dict[str, Any]:
        """The raw answer to a simple bind as `dn`: result code and diagnostic message."""
        conn = Connection(self._server(), dn, password, receive_timeout=10)
        try:
            conn.bind()
            return dict(conn.result or {})
        finally:
            close_connection(conn)

    def can_bind(self, dn: str, password: str) -> bool:
        """True if a simple bind as ``dn`` with ``password`` succeeds."""
        return self.bind_result(dn, password).get("result") == 0


class SlapdServer(LdapTestServer):
    """One slapd process with its own cn=config and mdb data under ``workdir``. With ``tls``
    it also offers StartTLS on ``url`` and listens for ldaps:// on ``ldaps_url``."""

    people = SEED_PEOPLE
    groups = SEED_GROUPS
    base_dn = BASE_DN
    people_dn = PEOPLE_DN
    groups_dn = GROUPS_DN
    policies_dn = POLICIES_DN
    default_policy_dn = DEFAULT_POLICY_DN
    pwd_policy = PWD_POLICY
    admin_dn = ADMIN_DN
    admin_password = ADMIN_PASSWORD

    def __init__(self, workdir: Path, port: int | None = None, tls: TlsFiles | None = None) -> None:
        self.workdir = Path(workdir)
        self.host = LOOPBACK
        self.port = port or free_port(self.host)
        self.tls = tls
        self.ldaps_port = free_port(self.host) if tls else None
        self.confdir = self.workdir / "slapd.d"
        super().__init__(self.workdir / "slapd.log")
        self._seeded = False

    @property
    def url(self) -> str:
        return f"ldap://{self.host}:{self.port}"

    @property
    def ldaps_url(self) -> str:
        if self.ldaps_port is None:
            raise RuntimeError("this SlapdServer was made without tls: it has no ldaps:// URL")
        return f"ldaps://{self.host}:{self.ldaps_port}"

    def start(self) -> None:
        """Configure (first time only), launch slapd, wait until an admin bind works, seed."""
        if self.is_running():
            return
        slapd = require_binary("slapd", INSTALL_HINT)
        if not self.confdir.exists():
            self._configure(require_binary("slapadd", INSTALL_HINT))
        listen = f"{self.url}/" if self.tls is None else f"{self.url}/ {self.ldaps_url}/"
        self.launch([slapd, "-h", listen, "-F", str(self.confdir), "-d", "stats"])
        self._wait_ready()
        if not self._seeded:
            self._seed()
            self._seeded = True

    def restart(self) -> None:
        """Stop and start again on the same port with the same data."""
        self.stop()
        self.start()

    def add_people(self, prefix: str, count: int) -> None:
        """`count` more people (uid PREFIXnnnn, no password), so that a listing takes pages."""
        with self.admin_connection() as conn:
            for n in range(count):
                uid = f"{prefix}{n:04d}"
                attributes = {
                    "uid": uid,
                    "cn": f"{prefix} {n}",
                    "sn": prefix,
                    "mail": f"{uid}@idgov.test",
                }
                if not conn.add(f"uid={uid},{self.people_dn}", ["inetOrgPerson"], attributes):
                    raise RuntimeError(f"adding {uid} failed: {conn.result}")

    def unlock(self, uid: str) -> None:
        """Clear a ppolicy lockout on ``uid`` as the admin (ppolicy drops pwdFailureTime too)."""
        dn = f"uid={uid},{self.people_dn}"
        with self.admin_connection() as conn:
            conn.modify(dn, {"pwdAccountLockedTime": [(MODIFY_DELETE, [])]})
            if conn.result["result"] not in (0, 16):  # 16: noSuchAttribute, i.e. not locked
                raise RuntimeError(f"unlocking {dn} failed: {conn.result}")

    def _server(self) -> Server:
        return Server(self.host, port=self.port, get_info=NONE, connect_timeout=2)

    def _configure(self, slapadd: str) -> None:
        (self.workdir / "data").mkdir(parents=True, exist_ok=True)
        self.confdir.mkdir(parents=True)
        ldif = self.workdir / "config.ldif"
        ldif.write_text(config_ldif(self.workdir, self.tls))
        cmd = [slapadd, "-n0", "-F", str(self.confdir), "-l", str(ldif)]
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"slapadd -n0 failed ({result.returncode}):\n{result.stderr}")

    def _wait_ready(self) -> None:
        self.wait_until_ready(self._answers, START_TIMEOUT, f"slapd on {self.url}")

    def _answers(self) -> bool:
        try:
            wait_for_port(self.host, self.port, timeout=0.5)
            return self.can_bind(self.admin_dn, self.admin_password)
        except (TimeoutError, LDAPException):
            return False

    def _seed(self) -> None:
        with self.admin_connection() as conn:
            for dn, object_classes, attrs in seed_entries():
                if not conn.add(dn, object_classes, attrs):
                    raise RuntimeError(f"seeding {dn} failed: {conn.result}")
