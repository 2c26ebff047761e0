"""What idgov imports at run time is what it declares, and the lock files pin all of it."""

from __future__ import annotations

import ast
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
RUN_LOCK = ROOT / "requirements" / "run.txt"
TEST_LOCK = ROOT / "requirements" / "test.txt"
RUNTIME_EXTRAS = ("postgres",)  # installed by `make run` beside the dependencies


def imported_top_level_modules(package: Path) -> set[str]:
    """Every absolute import in the package's modules, at any depth (lazy ones included)."""
    modules: set[str] = set()
    for path in package.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    return modules - set(sys.stdlib_module_names) - {"idgov", "__future__"}


def declared(requirements: list[str]) -> set[str]:
    return {canonicalize_name(Requirement(line).name) for line in requirements}


def locked(path: Path) -> dict[str, str]:
    """name -> pinned version, from a hashed lock file (`name==version ; markers \\`)."""
    pins: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line and not line[0].isspace() and not line.startswith("#") and "==" in line:
            name, _, rest = line.partition("==")
            pins[canonicalize_name(name)] = rest.split(";")[0].split("\\")[0].strip()
    return pins


def runtime_requirements() -> list[str]:
    extras = PROJECT["optional-dependencies"]
    return [*PROJECT["dependencies"], *(line for x in RUNTIME_EXTRAS for line in extras[x])]


def test_every_runtime_import_is_a_declared_dependency() -> None:
    # A module imported only in the test extra would break `make run` and `pip install idgov`.
    providers = packages_distributions()
    runtime = declared(PROJECT["dependencies"])
    missing = {}
    for module in imported_top_level_modules(ROOT / "idgov"):
        distributions = {canonicalize_name(name) for name in providers.get(module, [module])}
        if not distributions & runtime:
            missing[module] = sorted(distributions)
    assert not missing, f"imported by idgov but not in [project].dependencies: {missing}"


@pytest.mark.parametrize(
    ("lock", "requirements"),
    [
        (RUN_LOCK, runtime_requirements()),
        (TEST_LOCK, [*runtime_requirements(), *PROJECT["optional-dependencies"]["test"]]),
    ],
    ids=["run", "test"],
)
def test_lock_pins_every_requirement_within_its_range(lock: Path, requirements: list[str]) -> None:
    pins = locked(lock)
    problems = []
    for line in requirements:
        requirement = Requirement(line)
        version = pins.get(canonicalize_name(requirement.name))
        if version is None:
            problems.append(f"{requirement.name}: not in {lock.name}")
        elif not requirement.specifier.contains(version, prereleases=True):
            problems.append(f"{requirement.name}=={version} outside {requirement.specifier}")
    assert not problems, f"{problems}: run `make lock` and commit requirements/"


def test_test_environment_runs_the_runtime_versions() -> None:
    # The suite proves the versions `make run` installs, not others.
    run, test = locked(RUN_LOCK), locked(TEST_LOCK)
    differing = {name: (v, test.get(name)) for name, v in run.items() if test.get(name) != v}
    assert not differing, f"run and test locks disagree: {differing}; run `make lock`"


@pytest.mark.parametrize("lock", [RUN_LOCK, TEST_LOCK], ids=["run", "test"])
def test_every_pin_carries_its_hashes(lock: Path) -> None:
    # `pip install --require-hashes` refuses a file with one unhashed pin; say which.
    hashes: dict[str, int] = {}
    current = None
    for line in lock.read_text(encoding="utf-8").splitlines():
        if line and not line[0].isspace() and "==" in line and not line.startswith("#"):
            current = canonicalize_name(line.partition("==")[0])
            hashes[current] = 0
        elif current and line.strip().startswith("--hash=sha256:"):
            hashes[current] += 1
    assert hashes, f"{lock.name} pins nothing"
    assert [name for name, count in hashes.items() if count == 0] == []
