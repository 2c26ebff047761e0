"""Sealing the package: SHA256SUMS over its files (the `sha256sum -c` format) and a detached
JWS over those bytes (RFC 7515 appendix F) signed with the audit key, so that no file can be
edited, removed or added unnoticed; and the check of both."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from idgov.keys.jwk import load_public_jwk
from idgov.keys.jws import (
    JwsError,
    PrivateKey,
    PublicKey,
    read_header,
    sign_detached,
    verify_detached,
)

SUMS = "SHA256SUMS"
SIGNATURE = "SHA256SUMS.jws"
SEAL_TYP = "idgov-validation-report+jws"


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_sums(directory: Path, names: list[str]) -> bytes:
    """SHA256SUMS for `names` (binary mode marker '*', as `sha256sum -b` writes it)."""
    text = "".join(f"{sha256_file(directory / name)} *{name}\n" for name in sorted(names))
    (directory / SUMS).write_text(text, encoding="utf-8")
    return text.encode("utf-8")


def seal(directory: Path, sums: bytes, kid: str, alg: str, key: PrivateKey) -> str:
    token = sign_detached({"alg": alg, "kid": kid, "typ": SEAL_TYP}, sums, key)
    (directory / SIGNATURE).write_text(token + "\n", encoding="utf-8")
    return token


def jwks_keys(document: dict[str, Any]) -> Callable[[str], PublicKey | None]:
    """A key lookup over a JWK Set (for instance the installation's /.well-known/jwks.json)."""
    by_kid = {str(entry.get("kid")): entry for entry in document.get("keys", [])}

    def lookup(kid: str) -> PublicKey | None:
        entry = by_kid.get(kid)
        if entry is None or entry.get("idgov_purpose", "audit") != "audit":
            return None
        return load_public_jwk(entry)

    return lookup


def verify_package(directory: Path, key_for: Callable[[str], PublicKey | None]) -> list[str]:
    """Every problem found (empty: the package is as it was sealed)."""
    sums_path, signature_path = directory / SUMS, directory / SIGNATURE
    if not sums_path.is_file():
        return [f"{SUMS} is missing"]
    sums = sums_path.read_bytes()
    problems = _check_sums(directory, sums.decode("utf-8", "replace"))
    if not signature_path.is_file():
        return [*problems, f"{SIGNATURE} is missing"]
    token = signature_path.read_text(encoding="utf-8").strip()
    try:
        kid = str(read_header(token).get("kid", ""))
        key = key_for(kid)
        if key is None:
            problems.append(f"{SIGNATURE}: key {kid!r} is not a published audit key")
        else:
            verify_detached(token, sums, key)
    except (JwsError, ValueError) as exc:
        problems.append(f"{SIGNATURE}: {exc}")
    return problems


def _check_sums(directory: Path, text: str) -> list[str]:
    problems: list[str] = []
    listed: set[str] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        digest, _, name = line.partition(" ")
        name = name.lstrip(" *")
        if len(digest) != 64 or not name or "/" in name:
            problems.append(f"{SUMS} line {number} is malformed")
            continue
        listed.add(name)
        path = directory / name
        if not path.is_file():
            problems.append(f"{name}: listed in {SUMS} but missing")
        elif sha256_file(path) != digest:
            problems.append(f"{name}: SHA-256 differs from {SUMS} (the file was changed)")
    for extra in sorted(p.name for p in directory.iterdir() if p.is_file()):
        if extra not in listed and extra not in (SUMS, SIGNATURE):
            problems.append(f"{extra}: not listed in {SUMS} (added after sealing)")
    return problems


def read_jwks(path: Path) -> dict[str, Any]:
    document = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(document, dict):
        raise ValueError("not a JWK Set")
    return document
