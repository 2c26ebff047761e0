"""Attribute maps, raw-entry parsing for both presets, GeneralizedTime and DN normalization."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from idgov.providers.directory.attributes import (
    PRESETS,
    AttributeMap,
    DirectoryGroup,
    DirectoryUser,
    EntryProblem,
    attribute_map,
    parse_group,
    parse_user,
)
from idgov.providers.directory.syntax import generalized_time, normalize_dn

OPENLDAP = PRESETS["openldap"]
AD = PRESETS["active-directory"]
Raw = dict[str, list[bytes]]

USER_DN = "uid=jdoe,ou=People,dc=example,dc=com"
AD_DN = "CN=Jane Doe,OU=Lab Staff,DC=corp,DC=example,DC=com"
# objectGUID 4a5c6b8e-2f1d-4c3b-9a8e-1b2c3d4e5f60 as AD sends it (bytes_le).
RAW_GUID = b"\x8e\x6b\x5c\x4a\x1d\x2f\x3b\x4c\x9a\x8e\x1b\x2c\x3d\x4e\x5f\x60"


def ldap_user(**changes: list[bytes] | None) -> Raw:
    """An inetOrgPerson as slapd returns it (ldap3 raw_attributes; names in the server's case)."""
    raw: Raw = {
        "uid": [b" JDoe "],
        "entryUUID": [b"6F1C3D2E-8A4B-4C5D-9E6F-0A1B2C3D4E5F"],
        "cn": [b"Jane Doe"],
        "mail": [b"jane.doe@example.com"],
        "manager": [b"uid=boss,ou=People,dc=example,dc=com"],
        "memberOf": [b"cn=qa,ou=Groups,dc=example,dc=com", b"cn=lab,ou=Groups,dc=example,dc=com"],
        "pwdChangedTime": [b"20240115093000Z"],
        "modifyTimestamp": [b"20240301120000Z"],
    }
    return _apply(raw, changes)


def ad_user(**changes: list[bytes] | None) -> Raw:
    """A user object as a Windows Server domain controller returns it."""
    raw: Raw = {
        "sAMAccountName": [b"JDoe"],
        "objectGUID": [RAW_GUID],
        "displayName": ["Jane Doe-Müller".encode()],
        "mail": [b"jane.doe@corp.example.com"],
        "manager": [b"CN=Boss,OU=Lab Staff,DC=corp,DC=example,DC=com"],
        "memberOf": [b"CN=QA,OU=Groups,DC=corp,DC=example,DC=com"],
        "pwdLastSet": [b"133485408000000000"],
        "msDS-UserPasswordExpiryTimeComputed": [b"133563168000000000"],
        "userAccountControl": [b"512"],
        "lockoutTime": [b"0"],
        "uSNChanged": [b"204851"],
    }
    return _apply(raw, changes)


def _apply(raw: Raw, changes: dict[str, list[bytes] | None]) -> Raw:
    for name, values in changes.items():
        name = name.replace("_", "-")
        if values is None:
            raw.pop(name, None)
        else:
            raw[name] = values
    return raw


def user(raw: Raw, amap: AttributeMap = OPENLDAP, preset: str = "openldap") -> DirectoryUser:
    parsed = parse_user(USER_DN, raw, amap, preset)
    assert isinstance(parsed, DirectoryUser), parsed
    return parsed


def problem(raw: Raw, amap: AttributeMap = OPENLDAP, preset: str = "openldap") -> str:
    parsed = parse_user(USER_DN, raw, amap, preset)
    assert isinstance(parsed, EntryProblem), parsed
    assert parsed.dn == USER_DN
    return parsed.problem


def ad(raw: Raw) -> DirectoryUser:
    return user(raw, AD, "active-directory")


def ad_problem(raw: Raw) -> str:
    return problem(raw, AD, "active-directory")


# -- attribute maps ------------------------------------------------------------------------


def test_presets() -> None:
    assert OPENLDAP.user_attributes() == [
        "uid", "entryUUID", "cn", "mail", "manager", "memberOf", "pwdChangedTime",
        "pwdAccountLockedTime", "pwdReset", "modifyTimestamp", "createTimestamp",
    ]  # fmt: skip
    assert OPENLDAP.group_attributes() == [
        "cn", "entryUUID", "member", "description", "owner", "modifyTimestamp",
    ]  # fmt: skip
    assert AD.user_attributes() == [
        "sAMAccountName", "objectGUID", "displayName", "mail", "manager", "memberOf",
        "pwdLastSet", "msDS-UserPasswordExpiryTimeComputed", "userAccountControl",
        "lockoutTime", "uSNChanged", "whenCreated",
    ]  # fmt: skip
    assert AD.group_attributes() == [
        "cn", "objectGUID", "member", "description", "managedBy", "uSNChanged",
    ]  # fmt: skip
    assert (OPENLDAP.user_filter, OPENLDAP.group_filter) == (
        "(objectClass=inetOrgPerson)",
        "(objectClass=groupOfNames)",
    )
    assert (AD.user_filter, AD.group_filter) == (
        "(&(objectCategory=person)(objectClass=user))",
        "(objectClass=group)",
    )
    assert OPENLDAP.password_expires is None
    assert OPENLDAP.account_control is None
    assert AD.must_change is None


def test_attribute_map_applies_overrides() -> None:
    assert attribute_map("openldap", {}) == OPENLDAP
    assert attribute_map("active-directory", {}) == AD
    custom = attribute_map("openldap", {"printed_name": "displayName", "manager": ""})
    assert custom == replace(OPENLDAP, printed_name="displayName", manager=None)
    assert "manager" not in custom.user_attributes()
    assert "displayName" in custom.user_attributes()
    same = attribute_map("active-directory", {"username": "mail"})
    assert same.user_attributes().count("mail") == 1


@pytest.mark.parametrize(
    ("preset", "overrides", "named"),
    [
        ("freeipa", {}, "'freeipa'"),
        ("openldap", {"surname": "sn"}, "'surname'"),
        ("openldap", {"user_attributes": "x"}, "'user_attributes'"),
        ("openldap", {"email": " "}, "'email'"),
        ("active-directory", {"key": ""}, "'key'"),
    ],
)
def test_attribute_map_refuses_unknown_names(
    preset: str, overrides: dict[str, str], named: str
) -> None:
    with pytest.raises(ValueError, match=named):
        attribute_map(preset, overrides)


# -- OpenLDAP users ------------------------------------------------------------------------


def test_an_openldap_user() -> None:
    assert user(ldap_user()) == DirectoryUser(
        dn=USER_DN,
        key="6f1c3d2e-8a4b-4c5d-9e6f-0a1b2c3d4e5f",
        username="jdoe",
        printed_name="Jane Doe",
        email="jane.doe@example.com",
        manager_dn="uid=boss,ou=People,dc=example,dc=com",
        member_of=("cn=qa,ou=Groups,dc=example,dc=com", "cn=lab,ou=Groups,dc=example,dc=com"),
        password_changed_at=datetime(2024, 1, 15, 9, 30, tzinfo=UTC),
        password_expires_at=None,
        must_change=False,
        locked=False,
        disabled=False,
        modify_stamp="20240301120000Z",
    )


def test_attribute_names_are_matched_case_insensitively() -> None:
    raw = {name.upper(): values for name, values in ldap_user().items()}
    assert user(raw) == user(ldap_user())


def test_optional_attributes_may_be_absent() -> None:
    parsed = user(ldap_user(manager=None, memberOf=None, pwdChangedTime=None, modifyTimestamp=[]))
    assert parsed.manager_dn is None
    assert parsed.member_of == ()
    assert parsed.password_changed_at is None
    assert parsed.modify_stamp is None


@pytest.mark.parametrize("name", ["uid", "entryUUID", "cn", "mail"])
def test_required_openldap_attributes(name: str) -> None:
    assert problem(ldap_user(**{name: None})) == f"attribute {name!r} is missing"
    assert problem(ldap_user(**{name: []})) == f"attribute {name!r} is missing"
    assert problem(ldap_user(**{name: [b"  "]})) == f"attribute {name!r} is empty"


@pytest.mark.parametrize("name", ["uid", "cn", "mail", "manager", "pwdChangedTime", "pwdReset"])
def test_single_valued_openldap_attributes(name: str) -> None:
    raw = ldap_user(**{name: [b"TRUE", b"FALSE"]})
    assert problem(raw) == f"attribute {name!r} has 2 values where one is expected"


def test_invalid_utf8_is_a_problem() -> None:
    assert problem(ldap_user(cn=[b"Jane \xc3("])) == "attribute 'cn' is not valid UTF-8"
    assert problem(ldap_user(memberOf=[b"cn=\xff"])) == "attribute 'memberOf' is not valid UTF-8"


@pytest.mark.req("PWD-3")
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("20240115093000Z", datetime(2024, 1, 15, 9, 30, tzinfo=UTC)),
        ("20240115093000.123Z", datetime(2024, 1, 15, 9, 30, 0, 123000, tzinfo=UTC)),
        ("20240115093000,5Z", datetime(2024, 1, 15, 9, 30, 0, 500000, tzinfo=UTC)),
        ("20240115093000.1234567891Z", datetime(2024, 1, 15, 9, 30, 0, 123456, tzinfo=UTC)),
        ("20240115103000+0100", datetime(2024, 1, 15, 9, 30, tzinfo=UTC)),
        ("20240115043000-0500", datetime(2024, 1, 15, 9, 30, tzinfo=UTC)),
        ("20240115103000.25+01", datetime(2024, 1, 15, 9, 30, 0, 250000, tzinfo=UTC)),
        ("20240101003000+0100", datetime(2023, 12, 31, 23, 30, tzinfo=UTC)),
        ("202401150930Z", datetime(2024, 1, 15, 9, 30, tzinfo=UTC)),
        ("202401150930.5Z", datetime(2024, 1, 15, 9, 30, 30, tzinfo=UTC)),
        ("2024011509Z", datetime(2024, 1, 15, 9, tzinfo=UTC)),
        ("2024011509.5Z", datetime(2024, 1, 15, 9, 30, tzinfo=UTC)),
        ("20161231235960Z", datetime(2016, 12, 31, 23, 59, 59, tzinfo=UTC)),  # leap second
    ],
)
def test_generalized_time_variants(text: str, expected: datetime) -> None:
    assert generalized_time(text) == expected
    assert generalized_time(text).tzinfo is UTC
    assert user(ldap_user(pwdChangedTime=[text.encode()])).password_changed_at == expected


@pytest.mark.parametrize(
    "text",
    [
        "", "Z", "20240115093000", "2024011509300Z", "20240115093000.Z", "20240115093000.1.2Z",
        "20241315093000Z", "20240230093000Z", "20240115253000Z", "20240115096100Z",
        "20240115093061Z", "20240115093000+2400", "20240115093000+01000", "20240115093000+1",
        "2024-01-15T09:30:00Z", "20240115 93000Z", "00000101000000Z", "00010101000000+0100",
        "99991231235959-0100", "+0100", "\uff12\uff10\uff12\uff140115093000Z",
    ],
)  # fmt: skip
def test_bad_generalized_times(text: str) -> None:
    with pytest.raises(ValueError, match="GeneralizedTime"):
        generalized_time(text)
    if text:
        assert problem(ldap_user(pwdChangedTime=[text.encode()])).startswith(
            "attribute 'pwdChangedTime' is not a time: "
        )


@pytest.mark.req("PWD-3")
def test_pwd_reset_means_must_change() -> None:
    assert user(ldap_user(pwdReset=[b"TRUE"])).must_change
    assert not user(ldap_user(pwdReset=[b"FALSE"])).must_change
    assert (
        problem(ldap_user(pwdReset=[b"yes"])) == "attribute 'pwdReset' is not TRUE or FALSE: 'yes'"
    )


@pytest.mark.req("LOCK-1")
@pytest.mark.parametrize("value", [b"000001010000Z", b"20240301120000Z", b"20240301120000.5Z"])
def test_pwd_account_locked_time_is_a_directory_lock(value: bytes) -> None:
    parsed = user(ldap_user(pwdAccountLockedTime=[value]))
    assert parsed.locked
    assert not parsed.disabled


@pytest.mark.req("LOCK-1")
def test_an_unreadable_lock_time_is_a_problem() -> None:
    assert problem(ldap_user(pwdAccountLockedTime=[b"soon"])).startswith(
        "attribute 'pwdAccountLockedTime' is not a time"
    )
    assert not user(ldap_user()).locked


@pytest.mark.req("UNQ-1")
def test_entry_uuid_is_the_canonical_lower_case_key() -> None:
    assert user(ldap_user(entryUUID=[b"6f1c3d2e-8a4b-4c5d-9e6f-0a1b2c3d4e5f"])).key == (
        "6f1c3d2e-8a4b-4c5d-9e6f-0a1b2c3d4e5f"
    )
    assert problem(ldap_user(entryUUID=[b"not-a-uuid"])) == (
        "attribute 'entryUUID' is not a UUID: 'not-a-uuid'"
    )
    two = ldap_user(entryUUID=[b"6f1c3d2e-8a4b-4c5d-9e6f-0a1b2c3d4e5f"] * 2)
    assert problem(two) == "attribute 'entryUUID' has 2 values where one is expected"


@pytest.mark.req("UNQ-1")
def test_another_key_attribute_is_read_as_lower_case_text() -> None:
    amap = attribute_map("openldap", {"key": "employeeNumber"})
    assert user(ldap_user(employeeNumber=[b" E-1234X "]), amap).key == "e-1234x"


def test_an_unknown_preset_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="'freeipa'"):
        parse_user(USER_DN, ldap_user(), OPENLDAP, "freeipa")


# -- Active Directory users ----------------------------------------------------------------


@pytest.mark.req("UNQ-1")
def test_an_active_directory_user() -> None:
    assert ad(ad_user()) == DirectoryUser(
        dn=USER_DN,
        key="4a5c6b8e-2f1d-4c3b-9a8e-1b2c3d4e5f60",
        username="jdoe",
        printed_name="Jane Doe-Müller",
        email="jane.doe@corp.example.com",
        manager_dn="CN=Boss,OU=Lab Staff,DC=corp,DC=example,DC=com",
        member_of=("CN=QA,OU=Groups,DC=corp,DC=example,DC=com",),
        password_changed_at=datetime(2024, 1, 1, tzinfo=UTC),
        password_expires_at=datetime(2024, 3, 31, tzinfo=UTC),
        must_change=False,
        locked=False,
        disabled=False,
        modify_stamp="204851",
    )


@pytest.mark.parametrize("name", ["sAMAccountName", "objectGUID", "displayName", "mail"])
def test_required_active_directory_attributes(name: str) -> None:
    assert ad_problem(ad_user(**{name: None})) == f"attribute {name!r} is missing"


@pytest.mark.req("UNQ-1")
@pytest.mark.parametrize("raw", [RAW_GUID[:15], b"4a5c6b8e-2f1d-4c3b-9a8e-1b2c3d4e5f60", b""])
def test_an_object_guid_must_be_sixteen_bytes(raw: bytes) -> None:
    assert ad_problem(ad_user(objectGUID=[raw])).startswith("attribute 'objectGUID' is not a GUID")


@pytest.mark.req("UNQ-1")
def test_object_guid_bytes_need_not_be_utf8() -> None:
    guid = b"\xff\xfe\x00\x80" * 4
    assert ad(ad_user(objectGUID=[guid])).key == "8000feff-feff-8000-fffe-0080fffe0080"


@pytest.mark.req("PWD-3")
def test_pwd_last_set_zero_means_must_change() -> None:
    parsed = ad(ad_user(pwdLastSet=[b"0"], msDS_UserPasswordExpiryTimeComputed=[b"0"]))
    assert parsed.must_change
    assert parsed.password_changed_at is None
    assert parsed.password_expires_at is None
    assert not ad(ad_user(pwdLastSet=None)).must_change  # not readable: not "0"


@pytest.mark.req("PWD-3")
def test_a_password_that_never_expires() -> None:
    parsed = ad(ad_user(msDS_UserPasswordExpiryTimeComputed=[b"9223372036854775807"]))
    assert parsed.password_expires_at is None
    assert not parsed.must_change


@pytest.mark.req("PWD-3")
def test_uac_password_expired_means_must_change() -> None:
    assert ad(ad_user(userAccountControl=[b"8389120"])).must_change


@pytest.mark.req("LOCK-1")
def test_ad_lockout_time_and_uac_lockout_are_directory_locks() -> None:
    assert ad(ad_user(lockoutTime=[b"133549650000000000"])).locked
    assert ad(ad_user(userAccountControl=[b"528"])).locked
    assert not ad(ad_user(lockoutTime=None)).locked
    assert not ad(ad_user()).locked


def test_uac_account_disable() -> None:
    parsed = ad(ad_user(userAccountControl=[b"514"]))
    assert parsed.disabled
    assert not parsed.locked
    assert not ad(ad_user(userAccountControl=None)).disabled


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"pwdLastSet": [b"yesterday"]}, "attribute 'pwdLastSet' is not a time: "),
        ({"lockoutTime": [b"-1"]}, "attribute 'lockoutTime' is not a time: "),
        ({"userAccountControl": [b"enabled"]}, "attribute 'userAccountControl': "),
        ({"userAccountControl": [b"512", b"2"]}, "attribute 'userAccountControl' has 2 values"),
        ({"mail": [b"a@x", b"b@x"]}, "attribute 'mail' has 2 values where one is expected"),
        ({"displayName": [b"\xe9"]}, "attribute 'displayName' is not valid UTF-8"),
        ({"msDS-UserPasswordExpiryTimeComputed": [b"1.5"]}, "attribute 'msDS-UserPassword"),
    ],
)
def test_bad_active_directory_values(changes: dict[str, list[bytes]], expected: str) -> None:
    raw = ad_user()
    raw.update(changes)
    assert ad_problem(raw).startswith(expected)


# -- groups ---------------------------------------------------------------------------------

GROUP_DN = "cn=qa,ou=Groups,dc=example,dc=com"


JDOE = b"uid=jdoe,ou=People,dc=example,dc=com"


def test_an_openldap_group() -> None:
    raw = {
        "cn": [b"qa"],
        "entryuuid": [b"0B7E5A2C-1D3F-4E5A-8B9C-0D1E2F3A4B5C"],
        "member": [JDOE, b"", b"uid=amy,ou=People,dc=example,dc=com"],
        "description": [b"Quality assurance"],
        "owner": [b"uid=boss,ou=People,dc=example,dc=com"],
        "modifyTimestamp": [b"20240301120000Z"],
    }
    assert parse_group(GROUP_DN, raw, OPENLDAP, "openldap") == DirectoryGroup(
        dn=GROUP_DN,
        key="0b7e5a2c-1d3f-4e5a-8b9c-0d1e2f3a4b5c",
        name="qa",
        description="Quality assurance",
        owner_dn="uid=boss,ou=People,dc=example,dc=com",
        member_dns=("uid=jdoe,ou=People,dc=example,dc=com", "uid=amy,ou=People,dc=example,dc=com"),
        modify_stamp="20240301120000Z",
    )


def test_an_active_directory_group() -> None:
    raw = {"CN": [b"QA"], "objectGUID": [RAW_GUID], "member": [b"CN=Jane Doe,OU=Lab,DC=corp"]}
    assert parse_group(AD_DN, raw, AD, "active-directory") == DirectoryGroup(
        dn=AD_DN,
        key="4a5c6b8e-2f1d-4c3b-9a8e-1b2c3d4e5f60",
        name="QA",
        description=None,
        owner_dn=None,
        member_dns=("CN=Jane Doe,OU=Lab,DC=corp",),
        modify_stamp=None,
    )


GROUP = {"cn": [b"QA"], "objectGUID": [RAW_GUID]}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"objectGUID": [RAW_GUID]}, "attribute 'cn' is missing"),
        ({"cn": [b"QA"]}, "attribute 'objectGUID' is missing"),
        ({**GROUP, "managedBy": [b"a", b"b"]}, "attribute 'managedBy' has 2 values"),
        ({**GROUP, "description": [b"a", b"b"]}, "attribute 'description' has 2 values"),
        ({**GROUP, "cn": [b"QA", b"Quality"]}, "attribute 'cn' has 2 values"),
        ({**GROUP, "member": [b"\xff"]}, "attribute 'member' is not valid UTF-8"),
        ({**GROUP, "member;range=0-1499": [b"CN=a"] * 1500}, "attribute 'member' came in ranges"),
        ({**GROUP, "Member;Range=1500-*": [b"CN=a"]}, "attribute 'member' came in ranges"),
    ],
)
def test_group_problems(raw: Raw, expected: str) -> None:
    parsed = parse_group(AD_DN, raw, AD, "active-directory")
    assert isinstance(parsed, EntryProblem)
    assert parsed.problem.startswith(expected)


# -- DN normalization -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dn", "expected"),
    [
        ("uid=jdoe,ou=People,dc=example,dc=com", "uid=jdoe,ou=people,dc=example,dc=com"),
        ("UID=JDoe, OU=People , DC=Example,DC=COM", "uid=jdoe,ou=people,dc=example,dc=com"),
        ("cn = Jane Doe , ou = Lab Staff", "cn=jane doe,ou=lab staff"),
        ("CN=Doe\\, Jane,OU=Lab,DC=corp", "cn=doe\\, jane,ou=lab,dc=corp"),
        ("cn=a\\+b+uid=X , dc=x", "cn=a\\+b+uid=x,dc=x"),
        ("uid=x + cn=Y,dc=x", "cn=y+uid=x,dc=x"),  # a multi-valued RDN's order does not matter
        ("cn=trailing\\ ,dc=x", "cn=trailing\\ ,dc=x"),  # an escaped trailing space stays
        ("cn=two\\\\ ,dc=x", "cn=two\\\\,dc=x"),  # an escaped backslash, then a real space
        ("cn=\\ lead,dc=x", "cn=\\ lead,dc=x"),
        ("cn=a\\2Cb,dc=x", "cn=a\\2cb,dc=x"),
        ("cn=x=y,dc=x", "cn=x=y,dc=x"),
        ("CN=Müller,DC=Corp", "cn=müller,dc=corp"),
        ("", ""),
    ],
)
def test_normalize_dn(dn: str, expected: str) -> None:
    assert normalize_dn(dn) == expected
    assert normalize_dn(expected) == expected


def test_member_and_member_of_dns_compare_equal_once_normalized() -> None:
    member = "CN=Jane Doe,OU=Lab Staff,DC=corp,DC=example,DC=com"
    member_of_side = "cn=jane doe, ou=lab staff, dc=CORP, dc=example, dc=com"
    assert normalize_dn(member) == normalize_dn(member_of_side)
    assert normalize_dn("cn=Doe\\, Jane,dc=x") != normalize_dn("cn=Doe,cn=Jane,dc=x")


def test_a_group_read_in_ranges_proves_no_removal() -> None:
    """AD sends big groups' members as member;range=0-1499: reading that as "not a member"
    would verify any removal, so the read refuses instead."""
    from idgov.providers.directory.settings import DirectorySettings
    from idgov.providers.ldap.connections import DirectoryUnavailable
    from idgov.providers.ldap.provider import LdapIdentityProvider

    provider = LdapIdentityProvider(
        "corp",
        DirectorySettings(
            urls=["ldaps://dc1.example"],
            tls="ldaps",
            bind_dn="cn=svc",
            bind_password="x",
            user_base="dc=example",
            preset="active-directory",
        ),
        lambda: "x",
    )
    ranged = {"member;range=0-1499": [b"CN=Bob,OU=Users,DC=example"]}
    provider._pool.run = lambda kind, operation: ranged  # type: ignore[method-assign]
    with pytest.raises(DirectoryUnavailable, match="in ranges"):
        provider.group_members("CN=Big,OU=Groups,DC=example")
