"""Where the OQ finds what it runs: the checkout's tests/ and lock files, or the copies a
wheel ships under idgov/validation/suite/ (setup.py's build step puts them there)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import idgov

SUITE_PACKAGE_DIR = "suite"
LOCKS = ("run.txt", "test.txt")
# What the build leaves out of the shipped suite: node's packages (tests/oidc_provider installs
# them with `npm ci`), caches.
NOT_SHIPPED = ("node_modules", "__pycache__", ".pytest_cache")
# What the tests read beside tests/ (setup.py ships the same folders).
BESIDE_TESTS = ("config", "docs/examples")
# node's packages the tests use, each pinned by its package-lock.json (the OpenID provider, the
# accessibility rules): installed into the copy as `make node-test-deps` does in a checkout.
NODE_PACKAGES = ("tests/oidc_provider", "tests/e2e/axe")


@dataclass(frozen=True)
class ShippedSuite:
    """A project root holding pyproject.toml (pytest's settings), tests/ and requirements/."""

    root: Path
    kind: str  # "checkout" or "package"

    @property
    def tests(self) -> Path:
        return self.root / "tests"

    def lock(self, name: str) -> Path:
        return self.root / "requirements" / name


def find_suite() -> ShippedSuite | None:
    """The git checkout idgov runs from (editable install), else the suite in the wheel."""
    checkout = Path(idgov.__file__).resolve().parents[1]
    if (checkout / "tests" / "conftest.py").is_file() and (checkout / "pyproject.toml").is_file():
        return ShippedSuite(checkout, "checkout")
    packaged = Path(str(files("idgov.validation").joinpath(SUITE_PACKAGE_DIR)))
    if (packaged / "tests" / "conftest.py").is_file():
        return ShippedSuite(packaged, "package")
    return None


def run_directory(suite: ShippedSuite, tests: Path | None = None) -> Path:
    """A scratch project to run pytest in: the suite's pyproject.toml (markers, warnings as
    errors) beside a copy of its tests/, or of `tests` (a folder given to test the report
    itself). The caller removes it."""
    scratch = Path(tempfile.mkdtemp(prefix="idgov-oq-"))
    shutil.copy2(suite.root / "pyproject.toml", scratch / "pyproject.toml")
    ignore = shutil.ignore_patterns(*NOT_SHIPPED)
    shutil.copytree(tests or suite.tests, scratch / "tests", ignore=ignore)
    for folder in BESIDE_TESTS:
        if (suite.root / folder).is_dir():
            shutil.copytree(suite.root / folder, scratch / folder, ignore=ignore)
    return scratch


def install_node_packages(root: Path) -> list[str]:
    """`npm ci` in each of NODE_PACKAGES under `root` (a copied suite ships their lock files,
    not their node_modules); what could not be installed, each with why. Nothing is hidden: a
    test that needs a missing package fails with its install hint and shows in the matrix."""
    npm = shutil.which("npm")
    problems: list[str] = []
    for folder in NODE_PACKAGES:
        if not (root / folder / "package-lock.json").is_file():
            continue
        if npm is None:
            problems.append(f"{folder}: npm is not installed (Node.js 20 or later with npm)")
            continue
        done = subprocess.run(  # noqa: S603 - npm from PATH, fixed arguments
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=root / folder,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            problems.append(f"{folder}: npm ci failed: {done.stderr.strip()[-300:]}")
    return problems
