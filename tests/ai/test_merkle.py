"""The Merkle tree (RFC 6962) against the Certificate Transparency reference vectors."""

from __future__ import annotations

import hashlib

import pytest

from medreg.ai.merkle import (
    audit_path,
    leaf_data,
    leaf_hash,
    merkle_root,
    root_from_leaf_hashes,
    verify_inclusion,
)

# RFC 6962 test inputs as used by the certificate-transparency reference implementations
# (google/certificate-transparency-go merkle tests, "LeafInputs" and "RootsAtSize").
LEAVES = [bytes.fromhex(h) for h in ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                                     "606162636465666768696a6b6c6d6e6f"]]
ROOTS = {
    1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    2: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    3: "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    4: "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    5: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    6: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    7: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    8: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
}


def test_empty_tree_is_the_hash_of_nothing():
    assert merkle_root([]) == hashlib.sha256(b"").hexdigest()


@pytest.mark.parametrize("size", sorted(ROOTS))
def test_roots_equal_the_ct_reference_vectors(size):
    assert merkle_root(LEAVES[:size]) == ROOTS[size]


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 8])
def test_every_inclusion_proof_verifies_and_a_wrong_leaf_does_not(size):
    hashes = [leaf_hash(d) for d in LEAVES[:size]]
    root = root_from_leaf_hashes(hashes)
    for i in range(size):
        path = audit_path(hashes, i)
        assert verify_inclusion(hashes[i], i, size, path, root)
        assert not verify_inclusion(leaf_hash(b"forged"), i, size, path, root)


def test_salt_hides_a_binary_label():
    a = leaf_data("case-1", "1", {"site": "A"}, salt="s1")
    b = leaf_data("case-1", "1", {"site": "A"}, salt="s2")
    assert leaf_hash(a) != leaf_hash(b)
    assert leaf_data("c", "1", {}, "x") != leaf_data("c", "0", {}, "x")
