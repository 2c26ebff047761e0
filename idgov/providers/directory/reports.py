"""What a directory sync did to accounts: counts and the entries it could not mirror."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class MirrorReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    refused: int = 0
    deactivated: int = 0
    returned: int = 0  # back in the directory after being gone: needs a rehire (IDV-1)
    problems: list[dict[str, str]] = field(default_factory=list)

    def problem(self, dn: str, text: str) -> None:
        self.problems.append({"dn": dn, "problem": text})
