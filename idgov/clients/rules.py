"""Host-client rules: names, scopes, source-address networks (DEV-1) and secret digests."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
from collections.abc import Iterable

from idgov.errors import InvalidRequest

# The scopes a host can hold (RFC 6749 section 3.3: space-delimited, case-sensitive).
SCOPES = frozenset({"signatures", "entitlements"})
NAME = re.compile(r"[A-Za-z0-9._-]{1,100}")
NOT_PRINTABLE = re.compile(r"[^\x20-\x7e]")
MAX_NETWORKS = 50
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def check_name(name: str) -> str:
    if not NAME.fullmatch(name):
        raise InvalidRequest(
            "name: 1-100 characters from A-Z, a-z, 0-9, '.', '_' and '-'", field="name"
        )
    return name


def check_scopes(scopes: Iterable[str]) -> list[str]:
    """The scopes, sorted and without repeats; at least one, each one of SCOPES."""
    wanted = sorted(set(scopes))
    unknown = [scope for scope in wanted if scope not in SCOPES]
    if unknown or not wanted:
        raise InvalidRequest(
            f"scopes: choose one or more of {', '.join(sorted(SCOPES))}", field="scopes"
        )
    return wanted


def check_networks(cidrs: Iterable[str]) -> list[str]:
    """Normalized IPv4/IPv6 networks; a bare address is a single-address network. Host bits
    set (10.0.0.1/8) are refused: such a typo would allow far more than meant."""
    found: list[str] = []
    for text in cidrs:
        try:
            network = ipaddress.ip_network(text.strip(), strict=True)
        except ValueError:
            raise InvalidRequest(
                f"allowed_cidrs: {text[:60]!r} is not an IPv4 or IPv6 network "
                "(such as 192.0.2.0/24 or 2001:db8::/32, with no host bits set)",
                field="allowed_cidrs",
            ) from None
        if str(network) not in found:
            found.append(str(network))
    if len(found) > MAX_NETWORKS:
        raise InvalidRequest(
            f"allowed_cidrs: at most {MAX_NETWORKS} networks", field="allowed_cidrs"
        )
    return found


def networks_of(stored: str) -> list[Network]:
    return [ipaddress.ip_network(text) for text in stored.split(",") if text]


def source_allowed(stored: str, source: str | None) -> bool:
    """DEV-1: a client bound to networks is served only from inside them. No binding means
    any address; an unknown or unparsable source fails closed."""
    networks = networks_of(stored)
    if not networks:
        return True
    if not source:
        return False
    try:
        address = ipaddress.ip_address(source.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:192.0.2.7 is the IPv4 client 192.0.2.7
    return any(address in network for network in networks)


def digest(secret: str) -> str:
    """SHA-256 hex. The secrets are 256-bit random values, so a slow hash adds nothing: there
    is no dictionary to search."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def digest_matches(secret: str, expected: str) -> bool:
    return hmac.compare_digest(digest(secret).encode("ascii"), expected.encode("ascii"))


def scope_list(stored: str) -> list[str]:
    return [scope for scope in stored.split(" ") if scope]


def printable(text: str) -> str:
    """Text from a caller as printable ASCII, for audit values (PostgreSQL refuses NUL)."""
    return NOT_PRINTABLE.sub("?", text)
