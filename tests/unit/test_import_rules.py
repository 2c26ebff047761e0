"""The import rules of docs/architecture.md: only the entry points know the composition root.

`make lint` runs this file on its own, and the suite runs it with the rest.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "idgov"

# The entry points and the composition root: they may import anything.
ENTRY = ("idgov.web", "idgov.commands", "idgov.cli", "idgov.app", "idgov.wiring", "idgov.worker")
ENTRY += ("idgov.demo",)
# What no other module may import.
FORBIDDEN = ("idgov.web", "idgov.commands", "idgov.cli", "idgov.app", "idgov.wiring")
FORBIDDEN += ("idgov.worker", "idgov.command_context")
# Packages that talk through a port instead (signatures uses its TemporaryCredentials port).
PORTS = {"idgov.signatures": ("idgov.tokens",)}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


def imported(source: str, package: str) -> set[str]:
    """Every module the source imports, at module level or inside functions; `package` is
    where its relative imports start."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def violations() -> list[str]:
    broken: list[str] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        if _within(module, ENTRY):
            continue
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        banned = FORBIDDEN + next(
            (targets for owner, targets in PORTS.items() if _within(module, (owner,))), ()
        )
        names = imported(path.read_text(encoding="utf-8"), package)
        broken.extend(f"{module} imports {name}" for name in sorted(names) if _within(name, banned))
    return broken


def test_domain_packages_import_no_entry_point_nor_the_composition_root() -> None:
    assert violations() == []


def test_the_check_sees_imports_inside_functions_and_relative_ones() -> None:
    source = "def f():\n    from idgov.wiring import Services\nfrom ...web import api\n"
    found = imported(source, "idgov.reviews.queries")  # a subpackage: ... is idgov
    assert _within("idgov.wiring.Services", FORBIDDEN)
    assert {"idgov.wiring", "idgov.web", "idgov.web.api"} <= found
    assert all(_within(name, FORBIDDEN) for name in ("idgov.wiring", "idgov.web.api"))
