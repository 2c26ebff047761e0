"""Directory attribute maps (openldap, active-directory presets) and parsing of raw entries."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Any

from idgov.providers.directory.active_directory import (
    AccountControl,
    account_control,
    filetime,
    filetime_ticks,
    guid_text,
)
from idgov.providers.directory.syntax import generalized_time

OPENLDAP = "openldap"
ACTIVE_DIRECTORY = "active-directory"


@dataclass(frozen=True)
class AttributeMap:
    """Which attribute holds what, per directory. None: this directory has no such attribute."""

    username: str
    key: str  # immutable (UNQ-1): entryUUID (RFC 4530) or objectGUID
    printed_name: str
    email: str
    manager: str | None
    member_of: str | None
    password_changed: str | None  # pwdChangedTime (draft-behera 5.3.1) / pwdLastSet
    password_expires: str | None  # msDS-UserPasswordExpiryTimeComputed
    account_control: str | None  # userAccountControl
    locked_time: str | None  # pwdAccountLockedTime (draft-behera 5.3.2) / lockoutTime
    must_change: str | None  # pwdReset (draft-behera 5.3.6); AD: pwdLastSet = 0
    modify_stamp: str | None  # modifyTimestamp / uSNChanged
    created: str | None  # createTimestamp / whenCreated: password age when nothing better
    group_name: str
    group_key: str
    group_member: str
    group_description: str | None
    group_owner: str | None
    group_modify_stamp: str | None
    user_filter: str
    group_filter: str

    def user_attributes(self) -> list[str]:
        """The attributes a user search asks for (operational ones must be named)."""
        names = (self.username, self.key, self.printed_name, self.email, self.manager)
        more = (self.member_of, self.password_changed, self.password_expires)
        last = (self.account_control, self.locked_time, self.must_change, self.modify_stamp)
        return _unique((*names, *more, *last, self.created))

    def group_attributes(self) -> list[str]:
        """The attributes a group search asks for."""
        names = (self.group_name, self.group_key, self.group_member, self.group_description)
        return _unique((*names, self.group_owner, self.group_modify_stamp))


def _unique(names: Sequence[str | None]) -> list[str]:
    seen: dict[str, str] = {}
    for name in names:
        if name is not None:
            seen.setdefault(name.lower(), name)
    return list(seen.values())


# OpenLDAP: RFC 4519 / inetOrgPerson (RFC 2798), entryUUID (RFC 4530), slapo-memberof(5),
# ppolicy state (draft-behera-ldap-password-policy-10 5.3). Active Directory: [MS-ADA1..3].
# fmt: off
PRESETS: dict[str, AttributeMap] = {
    OPENLDAP: AttributeMap(
        username="uid", key="entryUUID", printed_name="cn", email="mail", manager="manager",
        member_of="memberOf", password_changed="pwdChangedTime",  # noqa: S106
        password_expires=None, account_control=None, locked_time="pwdAccountLockedTime",
        must_change="pwdReset", modify_stamp="modifyTimestamp", created="createTimestamp",
        group_name="cn", group_key="entryUUID", group_member="member",
        group_description="description", group_owner="owner",
        group_modify_stamp="modifyTimestamp",
        user_filter="(objectClass=inetOrgPerson)", group_filter="(objectClass=groupOfNames)",
    ),
    ACTIVE_DIRECTORY: AttributeMap(
        username="sAMAccountName", key="objectGUID", printed_name="displayName", email="mail",
        manager="manager", member_of="memberOf", password_changed="pwdLastSet",  # noqa: S106
        password_expires="msDS-UserPasswordExpiryTimeComputed",  # noqa: S106
        account_control="userAccountControl", locked_time="lockoutTime", must_change=None,
        modify_stamp="uSNChanged", created="whenCreated",
        group_name="cn", group_key="objectGUID", group_member="member",
        group_description="description", group_owner="managedBy",
        group_modify_stamp="uSNChanged",
        user_filter="(&(objectCategory=person)(objectClass=user))",
        group_filter="(objectClass=group)",
    ),
}
# fmt: on
_FIELDS = frozenset(f.name for f in fields(AttributeMap))
_REQUIRED = frozenset(f.name for f in fields(AttributeMap) if f.type in ("str", str))


def attribute_map(preset: str, overrides: Mapping[str, str]) -> AttributeMap:
    """The preset's map with `overrides` (field name -> attribute name) applied. An empty
    override switches an optional attribute off. Unknown preset or field, or an empty
    required one, raise ValueError naming it."""
    base = PRESETS.get(preset)
    if base is None:
        raise ValueError(f"unknown directory preset {preset!r}: use one of {sorted(PRESETS)}")
    changes: dict[str, Any] = {}  # checked against the fields just below
    for field_name, attribute in overrides.items():
        if field_name not in _FIELDS:
            raise ValueError(f"unknown directory attribute {field_name!r}")
        value = attribute.strip()
        if not value and field_name in _REQUIRED:
            raise ValueError(f"directory attribute {field_name!r} cannot be empty")
        changes[field_name] = value or None
    return replace(base, **changes)


@dataclass(frozen=True)
class DirectoryUser:
    """One user entry in idgov's terms. `key` is the immutable key (UNQ-1) as text."""

    dn: str
    key: str
    username: str
    printed_name: str
    email: str
    manager_dn: str | None
    member_of: tuple[str, ...]
    password_changed_at: datetime | None
    password_expires_at: datetime | None
    must_change: bool
    locked: bool
    disabled: bool
    modify_stamp: str | None
    created_at: datetime | None = None


@dataclass(frozen=True)
class DirectoryGroup:
    """One group entry; `member_dns` are its direct members as the directory wrote them."""

    dn: str
    key: str
    name: str
    description: str | None
    owner_dn: str | None
    member_dns: tuple[str, ...]
    modify_stamp: str | None


@dataclass(frozen=True)
class EntryProblem:
    """An entry that could not be read, and why (a sentence for the sync run's report)."""

    dn: str
    problem: str
    # The immutable key when it could be read: a full sync must not take an unusable entry
    # for a gone one (its identity is kept, the problem reported).
    key: str | None = None


class _Problem(Exception):
    """Internal: one attribute makes the entry unreadable."""


LOCKED_FOREVER = "000001010000Z"  # draft-behera 5.3.2: locked until an administrator unlocks


def _one(attrs: Mapping[str, Sequence[bytes]], name: str) -> bytes | None:
    values = attrs.get(name.lower())
    if not values:
        return None
    if len(values) > 1:
        raise _Problem(f"attribute {name!r} has {len(values)} values where one is expected")
    return values[0]


def _text(name: str, value: bytes) -> str:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        raise _Problem(f"attribute {name!r} is not valid UTF-8") from None


def _required(attrs: Mapping[str, Sequence[bytes]], name: str) -> str:
    value = _one(attrs, name)
    if value is None:
        raise _Problem(f"attribute {name!r} is missing")
    text = _text(name, value).strip()
    if not text:
        raise _Problem(f"attribute {name!r} is empty")
    return text


def _optional(attrs: Mapping[str, Sequence[bytes]], name: str | None) -> str | None:
    if name is None:
        return None
    value = _one(attrs, name)
    if value is None:
        return None
    return _text(name, value).strip() or None


def _many(attrs: Mapping[str, Sequence[bytes]], name: str | None) -> tuple[str, ...]:
    if name is None:
        return ()
    texts = (_text(name, value).strip() for value in attrs.get(name.lower(), ()))
    return tuple(text for text in texts if text)  # an empty member (groupOfNames filler)


def _key(attrs: Mapping[str, Sequence[bytes]], name: str) -> str:
    """The immutable key (UNQ-1): objectGUID / mS-DS-ConsistencyGuid bytes as GUID text,
    entryUUID (RFC 4530) in canonical lower-case form, any other attribute's text lowered."""
    lowered = name.lower()
    if lowered in ("objectguid", "ms-ds-consistencyguid"):
        value = _one(attrs, name)
        if value is None:
            raise _Problem(f"attribute {name!r} is missing")
        try:
            return guid_text(value)
        except ValueError as error:
            raise _Problem(f"attribute {name!r} is not a GUID: {error}") from None
    text = _required(attrs, name)
    if lowered == "entryuuid":
        try:
            return str(uuid.UUID(text))
        except ValueError:
            raise _Problem(f"attribute {name!r} is not a UUID: {text!r}") from None
    return text.lower()


def _time(attrs: Mapping[str, Sequence[bytes]], name: str | None, ad: bool) -> datetime | None:
    text = _optional(attrs, name)
    if text is None:
        return None
    try:
        return filetime(text) if ad else generalized_time(text)
    except ValueError as error:
        raise _Problem(f"attribute {name!r} is not a time: {error}") from None


def _lowered(raw: Mapping[str, Sequence[bytes]], preset: str) -> dict[str, Sequence[bytes]]:
    if preset not in PRESETS:
        raise ValueError(f"unknown directory preset {preset!r}")
    return {name.lower(): values for name, values in raw.items()}


def parse_user(
    dn: str, raw: Mapping[str, Sequence[bytes]], amap: AttributeMap, preset: str
) -> DirectoryUser | EntryProblem:
    """One user entry from ldap3's `raw_attributes` (names matched case-insensitively), or
    the first reason it cannot be used. Required single values: key, username, printed
    name, e-mail. Lock and aging state (LOCK-1, PWD-3): OpenLDAP pwdAccountLockedTime /
    pwdReset / pwdChangedTime (draft-behera 5.3); AD lockoutTime, pwdLastSet (0: must
    change), msDS-UserPasswordExpiryTimeComputed and userAccountControl."""
    attrs = _lowered(raw, preset)
    ad = preset == ACTIVE_DIRECTORY
    key: str | None = None
    try:
        key = _key(attrs, amap.key)
        username = _required(attrs, amap.username).lower()
        printed_name = _required(attrs, amap.printed_name)
        email = _required(attrs, amap.email)
        flags = AccountControl(0)
        if amap.account_control is not None:
            try:
                flags = account_control(_optional(attrs, amap.account_control))
            except ValueError as error:
                raise _Problem(f"attribute {amap.account_control!r}: {error}") from None
        must_change = AccountControl.PASSWORD_EXPIRED in flags
        reset = _optional(attrs, amap.must_change)
        if reset is not None and reset not in ("TRUE", "FALSE"):  # RFC 4517 3.3.3 Boolean
            raise _Problem(f"attribute {amap.must_change!r} is not TRUE or FALSE: {reset!r}")
        must_change |= reset == "TRUE"
        locked_text = _optional(attrs, amap.locked_time)
        if ad:
            changed_text = _optional(attrs, amap.password_changed)
            must_change |= (
                changed_text is not None and _ticks(amap.password_changed, changed_text) == 0
            )
            locked = AccountControl.LOCKOUT in flags
            if locked_text is not None:
                locked |= bool(_ticks(amap.locked_time, locked_text))
        else:
            locked = locked_text is not None
            if locked_text is not None and locked_text != LOCKED_FOREVER:
                _time(attrs, amap.locked_time, ad)  # a lock whose time is unreadable is a problem
        return DirectoryUser(
            dn=dn,
            key=key,
            username=username,
            printed_name=printed_name,
            email=email,
            manager_dn=_optional(attrs, amap.manager),
            member_of=_many(attrs, amap.member_of),
            password_changed_at=_time(attrs, amap.password_changed, ad),
            password_expires_at=_time(attrs, amap.password_expires, ad),
            must_change=must_change,
            locked=locked,
            disabled=AccountControl.ACCOUNTDISABLE in flags,
            modify_stamp=_optional(attrs, amap.modify_stamp),
            created_at=_time(attrs, amap.created, False),  # GeneralizedTime on both
        )
    except _Problem as problem:
        return EntryProblem(dn=dn, problem=str(problem), key=key)


def _ticks(name: str | None, text: str) -> int:
    try:
        return filetime_ticks(text) or 0
    except ValueError as error:
        raise _Problem(f"attribute {name!r} is not a time: {error}") from None


def parse_group(
    dn: str, raw: Mapping[str, Sequence[bytes]], amap: AttributeMap, preset: str
) -> DirectoryGroup | EntryProblem:
    """One group entry from ldap3's `raw_attributes`, or the reason it cannot be used. AD
    sends a large group's members in ranges ("member;range=0-1499", [MS-ADTS] 3.1.1.3.1.3.3):
    an entry with only part of its members is a problem, never a smaller group."""
    attrs = _lowered(raw, preset)
    ranged = amap.group_member.lower() + ";range="
    key: str | None = None
    try:
        key = _key(attrs, amap.group_key)
        if any(name.startswith(ranged) for name in attrs):
            raise _Problem(f"attribute {amap.group_member!r} came in ranges: not all members read")
        return DirectoryGroup(
            dn=dn,
            key=key,
            name=_required(attrs, amap.group_name),
            description=_optional(attrs, amap.group_description),
            owner_dn=_optional(attrs, amap.group_owner),
            member_dns=_many(attrs, amap.group_member),
            modify_stamp=_optional(attrs, amap.group_modify_stamp),
        )
    except _Problem as problem:
        return EntryProblem(dn=dn, problem=str(problem), key=key)
