"""The port a directory adapter offers (LdapIdentityProvider implements it; unit tests fake it)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from idgov.providers.directory.attributes import DirectoryGroup, DirectoryUser, EntryProblem
from idgov.providers.directory.outcomes import BindOutcome
from idgov.providers.directory.settings import DirectorySettings


class Directory(Protocol):
    """One configured directory. Every method answers or raises ProviderUnavailable: an
    unreachable directory never lets anyone in and never changes the registry (fail closed)."""

    name: str
    settings: DirectorySettings

    @property
    def server(self) -> str | None:
        """The URL that answered last."""
        ...

    def find_user(self, username: str) -> DirectoryUser | EntryProblem | None:
        """The one entry with this username (the value is filter-escaped), if any."""
        ...

    def dn_of(self, key: str) -> str | None:
        """The current DN of the entry with this immutable key, if any (renames included)."""
        ...

    def bind(self, dn: str | None, password: str) -> BindOutcome:
        """Bind as `dn` (None: a DN that cannot exist, for unknown usernames) and decode."""
        ...

    def users(self, since: str | None = None) -> Iterator[DirectoryUser | EntryProblem]:
        """All user entries, or those changed at or after the high-water mark `since`."""
        ...

    def groups(self, since: str | None = None) -> Iterator[DirectoryGroup | EntryProblem]:
        """All groups, or those changed at or after `since`."""
        ...

    def group_members(self, group_dn: str) -> set[str]:
        """The group's direct members, normalized DNs, read fresh."""
        ...

    def remove_member(self, group_dn: str, member_dn: str) -> bool:
        """Remove and read back; True only if the member is verifiably gone."""
        ...

    def change_password(self, dn: str, current: str, new: str) -> str | None:
        """Change the person's own password; None, or the directory's reason for refusing."""
        ...

    def close(self) -> None: ...
