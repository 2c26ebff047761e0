"""Where a signing ceremony sends the person back: a host's registered return URLs (DEV-1)."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlencode, urlsplit

from sqlalchemy.orm import Session

from idgov.audit.trail import AuditTrail
from idgov.clients.bearer import client_target
from idgov.clients.models import HostClient
from idgov.clients.rules import NOT_PRINTABLE
from idgov.errors import Conflict, InvalidRequest
from idgov.loopback import is_loopback_host

MAX_RETURN_URLS = 20
MAX_URL_LENGTH = 2000


def check_return_urls(urls: Iterable[str]) -> list[str]:
    """The URLs as given (compared by exact string match, RFC 9700 section 2.1), without
    repeats. Each is absolute, https (plain http only to a loopback host, as RFC 8252 section
    7.3 allows), with no fragment (RFC 6749 section 3.1.2) and no user name or password."""
    found: list[str] = []
    for url in urls:
        problem = _problem(url)
        if problem:
            raise InvalidRequest(f"return_urls: {url[:80]!r} {problem}", field="return_urls")
        if url not in found:
            found.append(url)
    if len(found) > MAX_RETURN_URLS:
        raise InvalidRequest(f"return_urls: at most {MAX_RETURN_URLS}", field="return_urls")
    return found


def _problem(url: str) -> str | None:
    if not url or len(url) > MAX_URL_LENGTH or NOT_PRINTABLE.search(url) or " " in url:
        return f"must be 1 to {MAX_URL_LENGTH} printable characters without spaces"
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        return "is not a URL"
    if parts.scheme not in {"https", "http"} or not host:
        return "must be an absolute https URL"
    if parts.scheme == "http" and not is_loopback_host(host):
        return "must use https (plain http only to 127.0.0.1, ::1 or localhost)"
    if parts.fragment or "#" in url:
        return "must not have a fragment"
    if parts.username is not None or parts.password is not None:
        return "must not carry a user name or password"
    return None


def stored(urls: list[str]) -> str:
    return "\n".join(urls)


def registered(client: HostClient) -> list[str]:
    return [url for url in client.return_urls.split("\n") if url]


def is_registered(client: HostClient, url: str) -> bool:
    """Exact string comparison: no prefix, pattern or normalisation (RFC 9700 section 4.1.3)."""
    return url in registered(client)


def outcome_url(return_url: str, params: dict[str, str]) -> str:
    """The return URL with the outcome's parameters added to its query (RFC 6749 section
    4.1.2 does the same for an authorization response)."""
    separator = "&" if urlsplit(return_url).query else "?"
    return return_url + separator + urlencode(params)


class ReturnUrls:
    """Changes to a host's return URLs, each audited with its reason (AUD-1, CHG-1)."""

    def __init__(self, trail: AuditTrail) -> None:
        self._trail = trail

    def replace(
        self, session: Session, client: HostClient, urls: Iterable[str], *, reason: str
    ) -> list[str]:
        """Set the client's return URLs to `urls` (an empty list removes them all)."""
        if not reason.strip():
            raise InvalidRequest("reason: say why the return URLs change", field="reason")
        if client.disabled_at is not None:
            raise Conflict(f"host client {client.name!r} is disabled")
        new, old = check_return_urls(urls), registered(client)
        client.return_urls = stored(new)
        self._trail.record(
            session,
            "client:return-urls:changed",
            client_target(client.client_id),
            old={"return_urls": old},
            new={"return_urls": new},
            reason=reason.strip(),
        )
        return new
