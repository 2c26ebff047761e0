"""LdapIdentityProvider: find, bind, list and change entries of one LDAP or AD directory."""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Callable, Iterator
from typing import Any

from idgov.providers.directory import active_directory, ppolicy
from idgov.providers.directory.attributes import (
    AttributeMap,
    DirectoryGroup,
    DirectoryUser,
    EntryProblem,
    attribute_map,
    parse_group,
    parse_user,
)
from idgov.providers.directory.outcomes import BindOutcome, BindStatus
from idgov.providers.directory.settings import DirectorySettings
from idgov.providers.directory.syntax import normalize_dn
from idgov.providers.ldap.connections import (
    ConnectionPool,
    DirectoryRefused,
    DirectoryUnavailable,
)

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", r"(tagMap|typeMap) is deprecated", DeprecationWarning)
    from ldap3 import BASE, MODIFY_DELETE, SUBTREE, Connection
    from ldap3.utils.conv import escape_filter_chars

NO_SUCH_ATTRIBUTE = 16  # RFC 4511 4.1.9: the value to remove is not there (already removed)
# A DN that cannot exist: binds for unknown usernames go here, so that the directory does the
# same work and takes the same time as for a real one (LOCK-3).
DUMMY_DN = "cn=idgov-no-such-user,o=idgov-invalid"


class LdapIdentityProvider:
    """One configured directory. Every method either answers or raises DirectoryUnavailable
    (ProviderUnavailable, 503): a directory that cannot be reached never lets anyone in."""

    def __init__(
        self, name: str, settings: DirectorySettings, service_password: Callable[[], str]
    ) -> None:
        self.name = name
        self.settings = settings
        self.attributes: AttributeMap = attribute_map(settings.preset, settings.attributes)
        self.user_filter = settings.user_filter or self.attributes.user_filter
        self.group_filter = settings.group_filter or self.attributes.group_filter
        self._pool = ConnectionPool(settings, service_password)

    @property
    def server(self) -> str | None:
        """The URL that answered last (incremental AD syncs must stay on one server)."""
        return self._pool.last_url

    def close(self) -> None:
        self._pool.close()

    # -- authentication -------------------------------------------------------------------

    def find_user(self, username: str) -> DirectoryUser | EntryProblem | None:
        """The entry whose username attribute equals `username` (RFC 4515 escaping: `*`, `(`,
        `)`, `\\` and NUL never change the filter). None when there is none; an EntryProblem
        when there are several or the entry is unusable."""
        value = escape_filter_chars(username)
        query = f"(&{self.user_filter}({self.attributes.username}={value}))"
        entries = self._pool.run(
            "service",
            lambda conn: list(self._search(conn, self.settings.user_base, query, users=True)),
        )
        if not entries:
            return None
        if len(entries) > 1:
            return EntryProblem(
                entries[0][0], f"{len(entries)} directory entries have the username {username!r}"
            )
        dn, raw = entries[0]
        return parse_user(dn, raw, self.attributes, self.settings.preset)

    def dn_of(self, key: str) -> str | None:
        """The current DN of the entry with this immutable key (it survives renames and
        moves), or None when no entry has it. objectGUID is matched on its 16 bytes as AD
        stores them (RFC 4515 escapes), entryUUID on its text."""
        attribute = self.attributes.key
        if attribute.lower() in ("objectguid", "ms-ds-consistencyguid"):
            value = "".join(f"\\{byte:02x}" for byte in uuid.UUID(key).bytes_le)
        else:
            value = escape_filter_chars(key)
        query = f"({attribute}={value})"

        def search(conn: Connection) -> list[str]:
            ok = conn.search(self.settings.user_base, query, SUBTREE, attributes=["1.1"])
            if not ok and conn.result.get("result") not in (0, 32):
                raise DirectoryUnavailable(f"cannot look the entry up: {_words(conn.result)}")
            return [e["dn"] for e in conn.response or () if e.get("type") == "searchResEntry"]

        found = self._pool.run("service", search)
        return found[0] if found else None

    def bind(self, dn: str | None, password: str) -> BindOutcome:
        """Bind as the user with the password-policy request control and decode the answer
        (ppolicy response control on OpenLDAP, bind sub-codes on AD). `dn` None binds a DN
        that cannot exist, for unknown usernames (LOCK-3). An empty password is refused here:
        RFC 4513 5.1.2 makes it an unauthenticated bind that many servers accept."""
        if not password:
            return BindOutcome(BindStatus.BAD_CREDENTIALS, diagnostic="empty password")

        def bind_as(conn: Connection) -> dict[str, Any]:
            conn.rebind(dn or DUMMY_DN, password, controls=[ppolicy.request_control()])
            return dict(conn.result or {})

        return self._decode_bind(self._pool.run("anonymous", bind_as))

    def _decode_bind(self, result: dict[str, Any]) -> BindOutcome:
        code = int(result.get("result", 80))
        diagnostic = str(result.get("message") or "")
        if self.settings.preset == "active-directory":
            return active_directory.bind_outcome(code, diagnostic)
        control = (result.get("controls") or {}).get(ppolicy.PPOLICY_OID)
        try:
            response = ppolicy.decode_response(control["value"]) if control else None
        except ValueError as exc:
            diagnostic = f"{diagnostic} (unreadable password-policy control: {exc})".strip()
            response = None
        return ppolicy.bind_outcome(code, response, diagnostic)

    # -- listing for sync ------------------------------------------------------------------

    def users(self, since: str | None = None) -> Iterator[DirectoryUser | EntryProblem]:
        """Every user entry (paged, RFC 2696), or those changed since the high-water mark."""
        query = self._since(self.user_filter, self.attributes.modify_stamp, since)
        with self._pool.fresh("service") as conn:
            for dn, raw in self._search(conn, self.settings.user_base, query, users=True):
                yield parse_user(dn, raw, self.attributes, self.settings.preset)

    def groups(self, since: str | None = None) -> Iterator[DirectoryGroup | EntryProblem]:
        if not self.settings.group_base:
            return
        query = self._since(self.group_filter, self.attributes.group_modify_stamp, since)
        with self._pool.fresh("service") as conn:
            for dn, raw in self._search(conn, self.settings.group_base, query, users=False):
                yield parse_group(dn, raw, self.attributes, self.settings.preset)

    @staticmethod
    def _since(base_filter: str, stamp: str | None, since: str | None) -> str:
        if since is None or stamp is None:
            return base_filter
        return f"(&{base_filter}({stamp}>={escape_filter_chars(since)}))"

    def _search(
        self, conn: Connection, base: str, query: str, *, users: bool
    ) -> Iterator[tuple[str, dict[str, list[bytes]]]]:
        names = self.attributes.user_attributes() if users else self.attributes.group_attributes()
        cookie: bytes | None = None
        while True:
            ok = conn.search(
                base,
                query,
                SUBTREE,
                attributes=names,
                paged_size=self.settings.page_size,
                paged_cookie=cookie,
            )
            if not ok and conn.result.get("result") not in (0, 32):  # 32: noSuchObject base
                raise DirectoryUnavailable(
                    f"directory search under {base} failed: {conn.result.get('description')} "
                    f"{conn.result.get('message') or ''}".strip()
                )
            for entry in conn.response or ():
                if entry.get("type") == "searchResEntry":
                    yield entry["dn"], entry["raw_attributes"]
            control = (conn.result.get("controls") or {}).get("1.2.840.113556.1.4.319")
            cookie = control["value"]["cookie"] if control else None
            if not cookie:
                return

    # -- write-back and password change ----------------------------------------------------

    def group_members(self, group_dn: str) -> set[str]:
        """The group's direct members as normalized DNs, read fresh from the directory."""
        member = self.attributes.group_member

        def read(conn: Connection) -> dict[str, list[bytes]]:
            if not conn.search(group_dn, "(objectClass=*)", BASE, attributes=[member]):
                raise DirectoryUnavailable(f"cannot read group {group_dn}: {_words(conn.result)}")
            return dict(conn.response[0]["raw_attributes"]) if conn.response else {}

        raw = self._pool.run("service", read)
        ranged = member.lower() + ";range="
        if any(key.lower().startswith(ranged) for key in raw):
            # AD range retrieval ([MS-ADTS] 3.1.1.3.1.3.3): only part of the members came back,
            # which can prove no removal. Refused rather than read as "not a member".
            raise DirectoryUnavailable(
                f"group {group_dn} sends its members in ranges; idgov cannot read them all"
            )
        values: list[bytes] = next((v for k, v in raw.items() if k.lower() == member.lower()), [])
        return {normalize_dn(value.decode("utf-8", "replace")) for value in values}

    def remove_member(self, group_dn: str, member_dn: str) -> bool:
        """Remove `member_dn` from the group, then read the group back: True only when the
        directory no longer lists it (the revocation is verified, not assumed). A directory
        that refuses the change (rights, schema) raises DirectoryRefused."""
        member = self.attributes.group_member

        def remove(conn: Connection) -> dict[str, Any]:
            conn.modify(group_dn, {member: [(MODIFY_DELETE, [member_dn])]})
            return dict(conn.result or {})

        result = self._pool.run("service", remove)
        if result.get("result") not in (0, NO_SUCH_ATTRIBUTE):
            raise DirectoryRefused(
                f"the directory refused to remove {member_dn} from {group_dn}: {_words(result)}"
            )
        return normalize_dn(member_dn) not in self.group_members(group_dn)

    def change_password(self, dn: str, current: str, new: str) -> str | None:
        """The person's own change, bound as themself: RFC 3062 password modify on OpenLDAP
        (with the ppolicy control, so its refusals can be named), unicodePwd delete+add on AD
        ([MS-ADTS] 3.1.1.3.1.5.1). None when changed, else why the directory refused."""

        def change(conn: Connection) -> dict[str, Any] | str:
            if not conn.rebind(dn, current, controls=[ppolicy.request_control()]):
                return f"the directory refused the current password ({_words(conn.result)})"
            if self.settings.preset == "active-directory":
                conn.extend.microsoft.modify_password(dn, new, current)
            else:
                conn.extend.standard.modify_password(
                    dn, current, new, controls=[ppolicy.request_control()]
                )
            return dict(conn.result or {})

        result = self._pool.run("anonymous", change)
        if isinstance(result, str):
            return result
        if result.get("result") == 0:
            return None
        control = (result.get("controls") or {}).get(ppolicy.PPOLICY_OID)
        try:
            error = ppolicy.decode_response(control["value"]).error if control else None
        except ValueError:
            error = None
        if error is not None:
            rule = error.name.lower().replace("_", " ")
            return f"the directory's password policy refused it: {rule}"
        return f"the directory refused the new password ({_words(result)})"


def _words(result: dict[str, Any] | None) -> str:
    result = result or {}
    return f"{result.get('description', 'error')} {result.get('message') or ''}".strip()
