"""audit/merkle.py against the RFC 6962 reference vectors (tests/data/merkle/), a naive
recursive definition for every tree up to 64 leaves, and proofs tampered with every way the
reference implementation's own tests tamper with them."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from audit.merkle import (
    EMPTY_ROOT,
    CompactTree,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
    verify_consistency,
    verify_inclusion,
)

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parents[1] / "data" / "merkle" / "rfc6962.json").read_text()
)
LEAVES = [leaf_hash(bytes.fromhex(x)) for x in VECTORS["leaves"]]
ROOTS = [bytes.fromhex(x) for x in VECTORS["roots"]]
SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")


def hexes(values: list[str]) -> list[bytes]:
    return [bytes.fromhex(v) for v in values]


def mth(leaves: list[bytes]) -> bytes:
    """RFC 9162's definition, recursively."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


def test_hashes_and_roots_match_the_reference() -> None:
    assert hexes(VECTORS["nodes"][0]) == LEAVES
    assert ROOTS[0] == EMPTY_ROOT
    tree = CompactTree()
    for n in range(9):
        assert root(LEAVES[:n]) == ROOTS[n]
        assert tree.root() == ROOTS[n]
        if n < 8:
            tree.append(LEAVES[n])
    assert tree.size == 8
    assert tree.hashes == hexes(VECTORS["nodes"][3])


@pytest.mark.parametrize("case", VECTORS["inclusion"], ids=lambda c: f"{c['leaf']}-{c['size']}")
def test_inclusion_proofs_match_the_reference(case: dict[str, Any]) -> None:
    index, size, proof = case["leaf"] - 1, case["size"], hexes(case["proof"])
    assert inclusion_proof(index, LEAVES[:size]) == proof
    assert verify_inclusion(index, size, LEAVES[index], proof, ROOTS[size])
    for probe in tampered_inclusion(index, size, proof):
        assert not verify_inclusion(*probe, ROOTS[size]), probe[:2]
    assert not verify_inclusion(index, size, LEAVES[index], proof, EMPTY_ROOT)
    assert not verify_inclusion(index, size, LEAVES[index], proof, SOME_HASH)


def tampered_inclusion(
    index: int, size: int, proof: list[bytes]
) -> list[tuple[int, int, bytes, list[bytes]]]:
    leaf = LEAVES[index]
    probes = [
        (index - 1, size, leaf, proof),
        (index + 1, size, leaf, proof),
        (index ^ 2, size, leaf, proof),
        (index, size * 2, leaf, proof),
        (index, size // 2, leaf, proof),
        (index, size, b"WrongLeaf", proof),
        (index, size, leaf, [*proof, b""]),
        (index, size, leaf, [*proof, ROOTS[size]]),
        (index, size, leaf, [b"", *proof]),
        (index, size, leaf, [ROOTS[size], *proof]),
    ]
    for i in range(len(proof)):
        flipped = list(proof)
        flipped[i] = bytes([flipped[i][0] ^ 8]) + flipped[i][1:]
        probes.append((index, size, leaf, flipped))
    if proof:
        probes.append((index, size, leaf, proof[:-1]))
    if len(proof) > 1:
        probes.append((index, size, leaf, [proof[0], SOME_HASH, *proof[1:]]))
    return probes


@pytest.mark.parametrize("case", VECTORS["consistency"], ids=lambda c: f"{c['size1']}-{c['size2']}")
def test_consistency_proofs_match_the_reference(case: dict[str, Any]) -> None:
    size1, size2, proof = case["size1"], case["size2"], hexes(case["proof"])
    assert consistency_proof(size1, LEAVES[:size2]) == proof
    root1, root2 = ROOTS[size1], ROOTS[size2]
    assert verify_consistency(size1, size2, proof, root1, root2)
    if not proof:
        return
    probes = [
        (size1 - 1, size2, proof, root1, root2),
        (size1 + 1, size2, proof, root1, root2),
        (size1 ^ 2, size2, proof, root1, root2),
        (size1, size2 * 2, proof, root1, root2),
        (size1, size2 // 2, proof, root1, root2),
        (size1, size2, proof, b"WrongRoot", root2),
        (size1, size2, proof, root1, b"WrongRoot"),
        (size1, size2, proof, root2, root1),
        (size1, size2, [], root1, root2),
        (size1, size2, [*proof, b""], root1, root2),
        (size1, size2, [*proof, root1], root1, root2),
        (size1, size2, [*proof, root2], root1, root2),
        (size1, size2, [b"", *proof], root1, root2),
        (size1, size2, [root1, *proof], root1, root2),
        (size1, size2, [root2, *proof], root1, root2),
        (size1, size2, [proof[0], *proof], root1, root2),
        (size1, size2, proof[:-1], root1, root2),
    ]
    for i in range(len(proof)):
        flipped = list(proof)
        flipped[i] = bytes([flipped[i][0] ^ 16]) + flipped[i][1:]
        probes.append((size1, size2, flipped, root1, root2))
    for probe in probes:
        assert not verify_consistency(*probe), probe[:2]


def test_every_proof_of_every_small_tree_verifies_and_roots_agree() -> None:
    leaves = [leaf_hash(n.to_bytes(2, "big")) for n in range(64)]
    tree = CompactTree()
    roots = [EMPTY_ROOT]
    for n, leaf in enumerate(leaves, 1):
        tree.append(leaf)
        assert tree.root() == mth(leaves[:n])
        roots.append(tree.root())
    for size in range(1, 65):
        for index in range(size):
            proof = inclusion_proof(index, leaves[:size])
            assert verify_inclusion(index, size, leaves[index], proof, roots[size])
            assert not verify_inclusion(index, size, leaves[index - 1], proof, roots[size])
        for size1 in range(size + 1):
            proof = consistency_proof(size1, leaves[:size])
            assert verify_consistency(size1, size, proof, roots[size1], roots[size])
            if 0 < size1 < size:
                assert not verify_consistency(size1, size, proof, roots[size1 - 1], roots[size])


def test_the_special_cases() -> None:
    one = leaf_hash(b"data")
    assert verify_inclusion(0, 1, one, [], one)
    assert not verify_inclusion(0, 1, b"", [], one)  # a hash of the wrong size
    assert not verify_inclusion(0, 0, one, [], one)  # no leaf in the empty tree
    assert not verify_inclusion(1, 1, one, [], one)
    assert verify_consistency(0, 0, [], EMPTY_ROOT, EMPTY_ROOT)
    assert verify_consistency(0, 5, [], EMPTY_ROOT, ROOTS[5])
    assert verify_consistency(1, 1, [], ROOTS[1], ROOTS[1])
    assert not verify_consistency(1, 1, [], ROOTS[1], ROOTS[2])
    assert not verify_consistency(2, 1, [], ROOTS[2], ROOTS[1])  # time does not run back
    assert not verify_consistency(1, 2, [], ROOTS[1], ROOTS[2])  # a proof is needed
    assert not verify_consistency(1, 1, [EMPTY_ROOT], ROOTS[1], ROOTS[1])
    with pytest.raises(ValueError, match="subtree roots"):
        CompactTree(3, [EMPTY_ROOT])
    with pytest.raises(ValueError, match="no leaf 8"):
        inclusion_proof(8, LEAVES)


def test_a_large_tree_is_appended_in_logarithmic_state() -> None:
    leaves = [leaf_hash(n.to_bytes(4, "big")) for n in range(100_003)]
    tree = CompactTree()
    tree.extend(leaves[:50_000])
    saved = CompactTree(tree.size, tree.hashes)  # what the writer keeps between batches
    saved.extend(leaves[50_000:])
    assert len(saved.hashes) == (100_003).bit_count()
    assert saved.root() == mth(leaves)
    index = 77_777
    proof = inclusion_proof(index, leaves)
    assert len(proof) == 17
    assert verify_inclusion(index, len(leaves), leaves[index], proof, saved.root())
    old = consistency_proof(50_000, leaves)
    assert verify_consistency(50_000, len(leaves), old, tree.root(), saved.root())
