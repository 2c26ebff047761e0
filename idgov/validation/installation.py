"""IQ of the installation itself: idgov's version and files, Python, the operating system,
and every installed package against the lock file (VAL-1, 11.10(a))."""

from __future__ import annotations

import base64
import hashlib
import platform
from dataclasses import dataclass, field
from importlib.metadata import distribution, distributions
from pathlib import Path

import idgov
from idgov.validation.checks import Check
from idgov.validation.lockfile import applicable, canonical_name, read_pins
from idgov.validation.shipped import ShippedSuite

# Installers, not part of what the locks pin: a fresh virtual environment brings them.
INSTALLER_TOOLS = frozenset({"pip", "setuptools", "wheel", "idgov"})


@dataclass
class InstallationFacts:
    """What the installation checks saw, kept whole for evidence.json."""

    checks: list[Check] = field(default_factory=list)
    packages: list[dict[str, str]] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)
    version: str = ""


def inspect_installation(suite: ShippedSuite | None, with_tests: bool) -> InstallationFacts:
    facts = InstallationFacts(version=distribution("idgov").version)
    facts.checks.append(_version_check(facts.version))
    file_check, facts.files = _files_check()
    facts.checks.append(file_check)
    facts.checks.append(
        Check(
            "IQ-PYTHON",
            "Python interpreter",
            "CPython 3.11 or later",
            f"{platform.python_implementation()} {platform.python_version()}",
            platform.python_implementation() == "CPython"
            and tuple(map(int, platform.python_version_tuple()[:2])) >= (3, 11),
        )
    )
    facts.checks.append(
        Check(
            "IQ-OS",
            "Operating system",
            "recorded",
            f"{platform.platform()} ({platform.machine()})",
            True,
        )
    )
    lock_name = "test.txt" if with_tests else "run.txt"
    package_check, facts.packages = _packages_check(suite, lock_name)
    facts.checks.append(package_check)
    return facts


def _version_check(version: str) -> Check:
    imported = getattr(idgov, "__version__", None) or version
    return Check(
        "IQ-VERSION",
        "idgov version",
        f"the installed distribution ({version})",
        f"idgov {imported}",
        imported == version,
    )


def _files_check() -> tuple[Check, dict[str, str]]:
    """SHA-256 of every file idgov installed. From a wheel, each against the hash its RECORD
    holds (an edited file fails); an editable install lists the package's source files."""
    dist = distribution("idgov")
    hashes: dict[str, str] = {}
    mismatched: list[str] = []
    recorded = [entry for entry in dist.files or [] if entry.hash is not None]
    for entry in recorded:
        path = Path(str(entry.locate()))
        digest = _sha256(path)
        hashes[str(entry)] = digest.hex() if digest else "missing"
        recorded_digest = base64.urlsafe_b64decode(entry.hash.value + "==") if entry.hash else b""
        if digest != recorded_digest:
            mismatched.append(str(entry))
    package_dir = Path(idgov.__file__).resolve().parent
    editable = not any(str(entry).startswith("idgov/") for entry in recorded)
    if editable:
        for path in sorted(package_dir.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                hashes[str(path.relative_to(package_dir.parent))] = _sha256(path).hex()
    overall = hashlib.sha256(
        "".join(f"{digest}  {name}\n" for name, digest in sorted(hashes.items())).encode()
    ).hexdigest()
    kind = "editable install (source files listed)" if editable else "wheel (RECORD checked)"
    observed = f"{len(hashes)} files, {kind}; digest of the list {overall}"
    if mismatched:
        observed += f"; differ from RECORD: {', '.join(mismatched[:10])}"
    expected = "every file as its RECORD lists it" if not editable else "files readable"
    return Check(
        "IQ-FILES", "idgov's installed files (SHA-256)", expected, observed, not mismatched
    ), hashes


def _sha256(path: Path) -> bytes:
    try:
        return hashlib.sha256(path.read_bytes()).digest()
    except OSError:
        return b""


def installed_versions() -> dict[str, str]:
    found: dict[str, str] = {}
    for dist in distributions():
        name = dist.metadata["Name"]
        if name:
            found[canonical_name(name)] = dist.version
    return found


def _packages_check(
    suite: ShippedSuite | None, lock_name: str
) -> tuple[Check, list[dict[str, str]]]:
    """Every installed package against the lock: expected version, observed version."""
    installed = installed_versions()
    if suite is None or not suite.lock(lock_name).is_file():
        unlocked = [
            {"name": n, "expected": "", "observed": v} for n, v in sorted(installed.items())
        ]
        return (
            Check(
                "IQ-PACKAGES",
                "Installed packages",
                f"as requirements/{lock_name}",
                "the lock file is not shipped with this installation",
                False,
            ),
            unlocked,
        )
    expected = applicable(read_pins(suite.lock(lock_name)))
    rows: list[dict[str, str]] = []
    differ: list[str] = []
    for name in sorted(set(expected) | set(installed)):
        if name in INSTALLER_TOOLS and name not in expected:
            continue
        row = {
            "name": name,
            "expected": expected.get(name, "not in the lock"),
            "observed": installed.get(name, "not installed"),
        }
        rows.append(row)
        if row["expected"] != row["observed"]:
            differ.append(f"{name} {row['expected']} != {row['observed']}")
    observed = f"{len(rows) - len(differ)} of {len(rows)} as locked"
    if differ:
        observed += "; differ: " + "; ".join(differ[:12]) + (" ..." if len(differ) > 12 else "")
    return (
        Check(
            "IQ-PACKAGES",
            "Installed packages against the lock",
            f"exactly the versions of requirements/{lock_name}",
            observed,
            not differ,
        ),
        rows,
    )
