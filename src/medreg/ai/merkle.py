"""Merkle tree over the cases of a sealed evaluation-database version (pure).

The tree is the Merkle Tree Hash of RFC 6962 (Certificate Transparency), section 2.1, with SHA-256:

    MTH({})        = SHA-256()
    MTH({d0})      = SHA-256(0x00 || d0)
    MTH(D[n])      = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n])),  k the largest power of two < n

Leaves are the cases in ascending ``case_id`` order; a leaf's data is the canonical JSON of
``{case_id, label, metadata, salt}``. The per-case random ``salt`` is sealed with the label: without it
a published leaf hash of a binary label could be recomputed for label 0 and 1 and so reveal the label.
The root is published; it changes if any case, label, metadata value or salt changes, is added or removed.
Inclusion proofs (RFC 6962 2.1.1 audit paths) let the test centre show one case is part of the root.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence


def leaf_data(case_id: str, label: str, metadata: Mapping[str, str], salt: str) -> bytes:
    """Canonical bytes of one case (sorted keys, no spaces, UTF-8)."""
    body = {"case_id": case_id, "label": label, "metadata": dict(metadata), "salt": salt}
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def root_from_leaf_hashes(leaves: Sequence[bytes]) -> bytes:
    """RFC 6962 Merkle Tree Hash from the leaf hashes (iterative, O(n))."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    n = len(leaves)
    if n == 1:
        return leaves[0]
    k = _split(n)
    return _node(root_from_leaf_hashes(leaves[:k]), root_from_leaf_hashes(leaves[k:]))


def merkle_root(data: Sequence[bytes]) -> str:
    """Hex root of the leaves' data (in the given order)."""
    return root_from_leaf_hashes([leaf_hash(d) for d in data]).hex()


def audit_path(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """RFC 6962 2.1.1 audit path of leaf ``index`` (leaf hashes given)."""
    n = len(leaves)
    if not 0 <= index < n:
        raise ValueError("leaf index out of range")
    if n == 1:
        return []
    k = _split(n)
    if index < k:
        return audit_path(leaves[:k], index) + [root_from_leaf_hashes(leaves[k:])]
    return audit_path(leaves[k:], index - k) + [root_from_leaf_hashes(leaves[:k])]


def verify_inclusion(leaf: bytes, index: int, size: int, path: Sequence[bytes], root: bytes) -> bool:
    """Check an audit path (RFC 9162 2.1.3.2 verification algorithm)."""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            r = _node(p, r)
            while fn % 2 == 0 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = _node(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root
