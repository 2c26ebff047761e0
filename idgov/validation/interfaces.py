"""Ports of the validation report: how it reaches the running application without importing it."""

from __future__ import annotations

from typing import Any, Protocol


class HttpProbe(Protocol):
    """Answers a GET on the application as a client would (in-process, no socket)."""

    def get(self, path: str) -> tuple[int, dict[str, Any]]:
        """The status code and the JSON body (an empty dict when the body is not JSON)."""
        ...
