"""Return URLs for the signing ceremony: exact, https (http to loopback only), no fragment."""

from __future__ import annotations

import pytest

from idgov.clients.return_urls import check_return_urls, outcome_url
from idgov.errors import InvalidRequest


@pytest.mark.parametrize(
    "url",
    [
        "https://lims.example.com/esig/return",
        "https://lims.example.com:8443/return?tenant=7",
        "http://127.0.0.1:5001/return",
        "http://[::1]:5001/return",
        "http://localhost/return",
    ],
)
def test_accepted(url: str) -> None:
    assert check_return_urls([url, url]) == [url]  # kept exactly as given, once


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://lims.example.com/return", "must use https"),
        ("http://10.0.0.5/return", "must use https"),
        ("https://lims.example.com/return#top", "fragment"),
        ("https://user:pw@lims.example.com/return", "user name"),
        ("/relative/return", "absolute"),
        ("javascript:alert(1)", "absolute"),
        ("ftp://lims.example.com/x", "absolute"),
        ("https://lims.example.com/a b", "printable"),
        ("https://lims.example.com:99999/x", "not a URL"),
        ("", "printable"),
    ],
)
def test_refused_with_the_reason(url: str, why: str) -> None:
    with pytest.raises(InvalidRequest, match=why):
        check_return_urls([url])


def test_at_most_twenty() -> None:
    with pytest.raises(InvalidRequest, match="at most 20"):
        check_return_urls([f"https://h.example.com/{n}" for n in range(21)])


def test_the_outcome_joins_an_existing_query() -> None:
    assert (
        outcome_url("https://h.example.com/r?tenant=7", {"signing_request": "x", "state": "a&b"})
        == "https://h.example.com/r?tenant=7&signing_request=x&state=a%26b"
    )
    assert outcome_url("https://h.example.com/r", {"error": "declined"}) == (
        "https://h.example.com/r?error=declined"
    )
