"""LDAP value syntaxes: GeneralizedTime (RFC 4517 3.3.13) and comparable DNs (RFC 4514)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def _civil(digits: str) -> datetime:
    """YYYYMMDDHHMMSS as a naive datetime."""
    parts = (digits[:4], digits[4:6], digits[6:8], digits[8:10], digits[10:12], digits[12:14])
    year, month, day, hour, minute, second = map(int, parts)
    return datetime(year, month, day, hour, minute, second)


def generalized_time(text: str) -> datetime:
    """RFC 4517 3.3.13 GeneralizedTime ("20240131235959Z", "202401312359.5Z",
    "20240131235959.123+0100", "2024013123-05") as an aware UTC datetime; ValueError if not."""
    if len(text) == 15 and text[14] == "Z" and text[:14].isascii() and text[:14].isdigit():
        try:  # the form OpenLDAP writes, read with slices only
            return _civil(text).replace(tzinfo=UTC)
        except ValueError:
            pass  # a leap second or a bad date: the general path below says which
    offset = timedelta(0)
    if text.endswith("Z"):
        body = text[:-1]
    else:
        sign_at = max(text.rfind("+"), text.rfind("-"))
        zone = text[sign_at + 1 :]
        if sign_at < 10 or len(zone) not in (2, 4) or not (zone.isascii() and zone.isdigit()):
            raise ValueError(f"GeneralizedTime {text!r} has no time zone (Z, +hhmm or -hhmm)")
        hours, minutes = int(zone[:2]), int(zone[2:] or 0)
        if hours > 23 or minutes > 59:
            raise ValueError(f"GeneralizedTime {text!r} has a bad time-zone offset")
        offset = timedelta(hours=hours, minutes=minutes) * (1 if text[sign_at] == "+" else -1)
        body = text[:sign_at]
    main, dot, fraction = body.replace(",", ".").partition(".")
    if len(main) not in (10, 12, 14) or not (main.isascii() and main.isdigit()):
        raise ValueError(f"GeneralizedTime {text!r} is not YYYYMMDDHH[MM[SS]][.fff](Z|+hhmm)")
    if dot and not (fraction.isascii() and fraction.isdigit()):
        raise ValueError(f"GeneralizedTime {text!r} has a bad fraction")
    digits = main.ljust(14, "0")
    if digits[12:14] == "60":
        digits = digits[:12] + "59"  # RFC 4517 leap-second: read as :59
    unit = {10: 3600, 12: 60, 14: 1}[len(main)]  # the fraction is of the last unit given
    nanos = int(fraction[:9].ljust(9, "0")) if dot else 0
    try:
        moment = _civil(digits) + timedelta(microseconds=nanos * unit // 1000) - offset
    except (ValueError, OverflowError) as error:
        raise ValueError(
            f"GeneralizedTime {text!r} is not a valid date and time: {error}"
        ) from None
    return moment.replace(tzinfo=UTC)


def _split(text: str, separator: str) -> list[str]:
    """Split on `separator` where it is not escaped with a backslash (RFC 4514 2.4)."""
    if "\\" not in text:
        return text.split(separator)
    parts, start, index = [], 0, 0
    while index < len(text):
        if text[index] == "\\":
            index += 2
            continue
        if text[index] == separator:
            parts.append(text[start:index])
            start = index + 1
        index += 1
    parts.append(text[start:])
    return parts


def _trim(text: str) -> str:
    """Strip spaces, keeping an escaped trailing space ("cn=a\\ ")."""
    stripped = text.strip(" ")
    if stripped.endswith("\\") and len(text) > len(text.rstrip(" ")):
        backslashes = len(stripped) - len(stripped.rstrip("\\"))
        if backslashes % 2:
            stripped += " "
    return stripped


def normalize_dn(dn: str) -> str:
    """A DN in a form to compare (RFC 4514 string DN): RDNs split on unescaped ',', spaces
    around ',', '=' and '+' removed, types and values lower-cased (member / memberOf DNs match
    case-insensitively on OpenLDAP and AD), multi-valued RDN parts sorted; escapes such as
    "\\," are kept as written. Text without '=' is kept, trimmed and lower-cased."""
    rdns = []
    for rdn in _split(dn, ","):
        avas = []
        for ava in _split(rdn, "+"):
            kind, equals, value = ava.partition("=")
            avas.append(f"{_trim(kind)}{equals}{_trim(value)}".lower())
        rdns.append("+".join(sorted(avas)) if len(avas) > 1 else avas[0])
    return ",".join(rdns)
