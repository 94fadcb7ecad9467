"""An append-only Merkle tree as in RFC 9162 (Certificate Transparency 2.0) section 2.1: pure
functions, no I/O.

* Hashes: SHA-256; a leaf is ``H(0x00 || data)``, an inner node ``H(0x01 || left || right)``;
  the root of the empty tree is ``H("")``. The prefixes keep a leaf from passing for a node.
* :class:`CompactTree`: the tree's state in O(log n) hashes (the roots of its complete
  subtrees, largest first), enough to append a leaf and compute the root; what the audit writer
  keeps between batches.
* Proofs: an *inclusion proof* shows that a leaf is at a position of the tree of a given size and
  root; a *consistency proof* that the tree of one size is a prefix of the tree of a larger one.
  :func:`inclusion_proof` and :func:`consistency_proof` make them from the leaf hashes;
  :func:`verify_inclusion` and :func:`verify_consistency` check them from the proof alone (the
  algorithms of RFC 9162 sections 2.1.3.2 and 2.1.4.2), which is all a verifier needs.

Tested against the reference vectors of github.com/transparency-dev/merkle
(tests/data/merkle/).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

#: Complete subtrees as ``(level, index, hash)``: the subtree of leaves
#: ``[index << level, (index + 1) << level)``.
Nodes = list[tuple[int, int, bytes]]
#: Returns the root of the leaves ``[lo, hi)`` of a tree (a proof's source of hashes).
RangeRoot = Callable[[int, int], bytes]
_sha256 = hashlib.sha256

#: Bytes in every hash.
HASH_SIZE = 32
#: The root of the empty tree.
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    """Return the hash of the leaf holding *data*."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the hash of the inner node over *left* and *right*."""
    return hashlib.sha256(b"\x01" + left + right).digest()


class CompactTree:
    """A tree's size and the roots of its complete subtrees, left (largest) to right."""

    __slots__ = ("hashes", "size")

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        if size < 0 or len(hashes) != size.bit_count():
            raise ValueError(f"a tree of {size} leaves has {size.bit_count()} subtree roots")
        self.size = size
        self.hashes = list(hashes)

    def append(self, leaf: bytes) -> None:
        """Add the leaf whose hash is *leaf*."""
        node, size = leaf, self.size
        while size & 1:  # each complete subtree of the same size merges with the new one
            node = node_hash(self.hashes.pop(), node)
            size >>= 1
        self.hashes.append(node)
        self.size += 1

    def extend(self, leaves: Sequence[bytes], *, keep_from: int | None = None) -> Nodes:
        """Add the leaves whose hashes are *leaves*, level by level (a third of the cost of
        appending them one by one, measured); return the complete subtrees this finished at
        level *keep_from* and above (none if None), as ``(level, index, hash)``."""
        finished: Nodes = []
        size = self.size
        level_nodes = list(leaves)
        self.size = size + len(level_nodes)
        edge = self.hashes
        kept: list[bytes] = []  # the new right edge, smallest subtree first
        level = 0
        while level_nodes:
            start = size >> level  # index of the first new node at this level
            if size >> level & 1:  # a complete subtree of this size waits for its sibling
                level_nodes.insert(0, edge.pop())
                start -= 1
            if keep_from is not None and level >= keep_from:
                first_new = size >> level
                finished.extend(
                    (level, start + i, node)
                    for i, node in enumerate(level_nodes)
                    if start + i >= first_new
                )
            if len(level_nodes) & 1:
                kept.append(level_nodes.pop())
            pairs = iter(level_nodes)
            level_nodes = [
                _sha256(b"\x01" + a + b).digest() for a, b in zip(pairs, pairs, strict=False)
            ]
            level += 1
        while size >> level:  # levels above the new nodes keep their subtrees
            if size >> level & 1:
                kept.append(edge.pop())
            level += 1
        kept.reverse()
        self.hashes = kept
        if len(kept) != self.size.bit_count():  # pragma: no cover - a logic error
            raise AssertionError("compact tree out of step")
        return finished

    def root(self) -> bytes:
        """Return the root hash of the tree as it is."""
        if not self.hashes:
            return EMPTY_ROOT
        node = self.hashes[-1]
        for left in reversed(self.hashes[:-1]):
            node = node_hash(left, node)
        return node

    def copy(self) -> CompactTree:
        return CompactTree(self.size, self.hashes)


def root(leaves: Sequence[bytes]) -> bytes:
    """Return the root of the tree of the leaf hashes *leaves*."""
    tree = CompactTree()
    tree.extend(leaves)
    return tree.root()


def _split(n: int) -> int:
    """Return the largest power of two smaller than *n* (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def _slices(leaves: Sequence[bytes]) -> RangeRoot:
    return lambda lo, hi: root(leaves[lo:hi])


def inclusion_proof(index: int, leaves: Sequence[bytes]) -> list[bytes]:
    """Return the proof that leaf *index* (from 0) is in the tree of *leaves*."""
    return inclusion_path(index, len(leaves), _slices(leaves))


def consistency_proof(size1: int, leaves: Sequence[bytes]) -> list[bytes]:
    """Return the proof that the tree of the first *size1* of *leaves* is a prefix of theirs."""
    return consistency_path(size1, len(leaves), _slices(leaves))


def inclusion_path(index: int, size: int, range_root: RangeRoot) -> list[bytes]:
    """Return the proof that leaf *index* is in the tree of *size* leaves, taking the roots of
    its subtrees from *range_root* (only ever asked for ranges that are subtrees of the tree)."""
    if not 0 <= index < size:
        raise ValueError(f"no leaf {index} in a tree of {size}")
    proof: list[bytes] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = _split(hi - lo)
        if index - lo < k:
            proof.append(range_root(lo + k, hi))
            hi = lo + k
        else:
            proof.append(range_root(lo, lo + k))
            lo += k
    proof.reverse()  # from the leaf up
    return proof


def consistency_path(size1: int, size2: int, range_root: RangeRoot) -> list[bytes]:
    """Return the proof that the tree of *size1* leaves is a prefix of that of *size2*, taking
    subtree roots from *range_root* (see :func:`inclusion_path`)."""
    if not 0 <= size1 <= size2:
        raise ValueError(f"no tree of {size1} leaves in one of {size2}")
    if size1 in (0, size2):
        return []
    proof: list[bytes] = []
    lo, hi, m, whole = 0, size2, size1, True
    while m != hi - lo:
        k = _split(hi - lo)
        if m <= k:
            proof.append(range_root(lo + k, hi))
            hi = lo + k
        else:
            proof.append(range_root(lo, lo + k))
            lo, m, whole = lo + k, m - k, False
    if not whole:
        proof.append(range_root(lo, hi))
    proof.reverse()
    return proof


def subtree_root(lo: int, hi: int, complete: Callable[[int, int], bytes]) -> bytes:
    """Return the root of leaves ``[lo, hi)`` of a tree, from *complete(level, index)*, the
    roots of its complete subtrees (*lo* is a multiple of the largest power of two below
    ``hi - lo``, as in every range a proof asks for)."""
    n = hi - lo
    if n <= 0:
        raise ValueError(f"empty range [{lo}, {hi})")
    if n & (n - 1) == 0 and lo % n == 0:
        level = n.bit_length() - 1
        return complete(level, lo >> level)
    k = _split(n)
    return node_hash(subtree_root(lo, lo + k, complete), subtree_root(lo + k, hi, complete))


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], expected_root: bytes
) -> bool:
    """Return True if *proof* shows the leaf hash *leaf* at *index* of the tree of *size*
    leaves whose root is *expected_root*."""
    if not 0 <= index < size or not _hashes(proof, leaf, expected_root):
        return False
    fn, sn, node = index, size - 1, leaf
    for sibling in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            node = node_hash(sibling, node)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            node = node_hash(node, sibling)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and node == expected_root


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> bool:
    """Return True if *proof* shows the tree of *size1* leaves and root *root1* to be a prefix
    of the tree of *size2* leaves and root *root2*."""
    if not 0 <= size1 <= size2 or not _hashes(proof):
        return False
    if size1 == size2:
        return not proof and root1 == root2
    if size1 == 0:
        return not proof  # the empty tree is a prefix of every tree
    if not proof:
        return False
    path = list(proof)
    if size1 & (size1 - 1) == 0:  # a complete tree: its root is the first node of the path
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    first = second = path[0]
    for node in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            first, second = node_hash(node, first), node_hash(node, second)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            second = node_hash(second, node)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and first == root1 and second == root2


def _hashes(proof: Sequence[bytes], *more: bytes) -> bool:
    return all(len(h) == HASH_SIZE for h in (*proof, *more))
