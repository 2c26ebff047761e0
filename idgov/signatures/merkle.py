"""Merkle root over a batch's record digests, as in RFC 6962 section 2.1 (Certificate
Transparency): leaves and interior nodes are hashed with distinct prefixes."""

from __future__ import annotations

import hashlib

LEAF, NODE = b"\x00", b"\x01"


def merkle_root(digests_hex: list[str]) -> str:
    """Hex SHA-256 Merkle Tree Hash of the 32-byte record digests, in batch order."""
    if not digests_hex:
        raise ValueError("a batch has at least one record")
    return _mth([bytes.fromhex(digest) for digest in digests_hex]).hex()


def _mth(leaves: list[bytes]) -> bytes:
    if len(leaves) == 1:
        return hashlib.sha256(LEAF + leaves[0]).digest()
    # k: the largest power of two smaller than n (RFC 6962 section 2.1).
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return hashlib.sha256(NODE + _mth(leaves[:k]) + _mth(leaves[k:])).digest()
