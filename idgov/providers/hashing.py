"""argon2id mechanics for local passwords: hasher, input limits, rehash test (PWD-1, RFC 9106)."""

from __future__ import annotations

import ctypes
import ctypes.util
import math
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

from argon2 import PasswordHasher, Type, extract_parameters
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.low_level import ARGON2_VERSION

from idgov.errors import HashingBusy
from idgov.policies.documents import PasswordPolicy
from idgov.policies.password import EXPANSION, encodable, normalize

# Never hash more than this, whatever the policy says: 1024 code points of 4 UTF-8 bytes.
MAX_HASHED_BYTES = 4096
# A hash of a random secret nobody knows, made with the default parameters (argon2id, t=3,
# m=64 MiB, p=4: RFC 9106 section 4, second recommended option). Unknown usernames are checked
# against it so that they cost as long as a real verification (LOCK-3).
DUMMY_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$NQxIdPZ9OWrFkCuadA8W7g"
    "$thews/efvSsZoBfMyQbVLWy82pleOLKHncELjhaIcIs"
)
DEFAULT_PARAMETERS = (3, 65536, 4)
# Temporary passwords are read out or typed by people: no 0/o, 1/l/i look-alikes.
TEMPORARY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


class HashGate:
    """At most `slots` argon2 computations at once in this process, each waiting at most
    `wait_seconds` for a slot. argon2id at the default parameters takes 64 MiB (RFC 9106
    section 4): an unbounded burst of logins would take as many times that as there are
    threads, so beyond the cap a request is refused at once with 503 and Retry-After (fail
    closed: nothing is checked, counted or recorded) instead of exhausting memory."""

    def __init__(self, slots: int, wait_seconds: float) -> None:
        self.slots = slots
        self.wait_seconds = wait_seconds
        self._free = threading.BoundedSemaphore(slots)

    @contextmanager
    def slot(self) -> Iterator[None]:
        if not self._free.acquire(timeout=self.wait_seconds):
            raise HashingBusy(
                "too many passwords are being checked at this moment: nothing was checked "
                "or counted; try again shortly",
                retry_after=max(1, math.ceil(self.wait_seconds)),
            )
        try:
            yield
        finally:
            self._free.release()


# One gate per process, shared by every app and thread in it; create_app sizes it from the
# [throttling] settings (limit_concurrent_hashes).
_gate = HashGate(slots=4, wait_seconds=2.0)


def limit_concurrent_hashes(slots: int, wait_seconds: float) -> None:
    """Size this process's hash gate. Hashes already running finish under the old gate."""
    global _gate
    _gate = HashGate(slots, wait_seconds)
    _return_freed_hash_memory()


# glibc's mallopt(M_MMAP_THRESHOLD): allocations above it are mapped and unmapped on free.
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_BYTES = 128 * 1024


def _return_freed_hash_memory() -> None:
    """Make the gate a memory bound. glibc raises its mmap threshold after the first large
    free, so later argon2 buffers come from each thread's own heap arena and stay resident:
    a gunicorn worker with 8 threads kept 8 x m_cost after a burst, whatever the gate. A
    fixed threshold maps every buffer and gives it back when the hash ends. No-op elsewhere."""
    name = ctypes.util.find_library("c")
    libc = ctypes.CDLL(name) if name else None
    mallopt = getattr(libc, "mallopt", None)
    if mallopt is not None:
        mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)


def gate() -> HashGate:
    """This process's hash gate (its size is in the [throttling] settings)."""
    return _gate


def hash_secret(policy: PasswordPolicy, secret: str) -> str:
    """The argon2id PHC string of `secret` under the policy, inside a hash slot."""
    with _gate.slot():
        return hasher(policy).hash(secret)


def hasher(policy: PasswordPolicy) -> PasswordHasher:
    """argon2id with the policy's cost parameters, 16-byte salt and 32-byte tag (RFC 9106)."""
    return PasswordHasher(
        time_cost=policy.argon2_time_cost,
        memory_cost=policy.argon2_memory_kib,
        parallelism=policy.argon2_parallelism,
        hash_len=32,
        salt_len=16,
        type=Type.ID,
    )


def hashable(password: object, policy: PasswordPolicy) -> str | None:
    """The NFKC text to hash (NIST SP 800-63B 5.1.1.2), or None when it must not be hashed at
    all: not a str, longer than the policy allows, or not encodable as UTF-8."""
    if not isinstance(password, str) or len(password) > EXPANSION * policy.max_length:
        return None
    if not encodable(password):
        return None
    text = normalize(password)
    if len(text) > policy.max_length or len(text.encode("utf-8")) > MAX_HASHED_BYTES:
        return None
    return text


def matches(hashed: str, secret: str) -> bool:
    """argon2 verification that answers False instead of raising; the parameters come from
    the PHC string, so hashes made under older policies still verify."""
    try:
        with _gate.slot():
            return PasswordHasher().verify(hashed, secret)
    except (VerificationError, InvalidHashError):
        return False


def needs_raise(stored_hash: str, policy: PasswordPolicy) -> bool:
    """True when argon2 says the hash differs from the policy and it is weaker on some axis:
    raised parameters re-hash on the next login (PWD-1); lowered ones never weaken a hash."""
    wanted = hasher(policy)
    if not wanted.check_needs_rehash(stored_hash):
        return False
    try:
        stored = extract_parameters(stored_hash)
    except InvalidHashError:
        return False
    return (
        stored.type is not Type.ID
        or stored.version < ARGON2_VERSION
        or stored.time_cost < wanted.time_cost
        or stored.memory_cost < wanted.memory_cost
        or stored.parallelism < wanted.parallelism
        or stored.hash_len < wanted.hash_len
        or stored.salt_len < wanted.salt_len
    )


def parameters(hashed: str) -> dict[str, object]:
    """The cost parameters of a PHC string, for audit values (never the hash itself)."""
    found = extract_parameters(hashed)
    return {
        "algorithm": found.type.name.lower(),
        "time_cost": found.time_cost,
        "memory_kib": found.memory_cost,
        "parallelism": found.parallelism,
    }


@cache
def dummy_hash(time_cost: int, memory_kib: int, parallelism: int) -> str:
    """A hash of an unknown random secret with these parameters (LOCK-3 timing)."""
    if (time_cost, memory_kib, parallelism) == DEFAULT_PARAMETERS:
        return DUMMY_HASH
    made = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)
    with _gate.slot():
        return made.hash(secrets.token_urlsafe(32))


def temporary_password(max_length: int) -> str:
    """Four groups of five random characters (about 99 bits), or sixteen in one run (about 79
    bits) when the policy's maximum length is shorter than the grouped form (CMP-2)."""
    groups = ["".join(secrets.choice(TEMPORARY_ALPHABET) for _ in range(5)) for _ in range(4)]
    grouped = "-".join(groups)
    return grouped if len(grouped) <= max_length else "".join(groups)[:16]
