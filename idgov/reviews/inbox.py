"""InboxReader: what a reviewer sees (read-only queries for the pages and the API)."""

from __future__ import annotations


class InboxReader:
    """To be completed: see the access-review issue, item 7."""
