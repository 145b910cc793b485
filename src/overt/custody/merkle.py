"""RFC 9162 (Certificate Transparency v2) Merkle tree hashing, proofs and verification.
(Longer than 400 lines because it is one specification in one place: the hashing, the tree
builders and the proof checks share its helpers and are reviewed against RFC 9162 together.)

Hashing (RFC 9162 section 2.1.1), with SHA-256:

* empty tree: ``SHA-256("")``
* leaf: ``SHA-256(0x00 || entry)``
* interior node: ``SHA-256(0x01 || left || right)``; a tree of ``n > 1`` leaves splits at
  ``k``, the largest power of two smaller than ``n``.

Three ways to build trees are offered:

* module functions over a plain sequence of leaf hashes (O(n); reference and small trees);
* ``MerkleAccumulator``: O(log n) state that yields the current root while appending;
* ``MerkleTree``: keeps every complete-subtree hash in memory, so roots and proofs for any
  historical size cost O(log n) hashes (O(log^2 n) worst case) at ~64 bytes per leaf.

Proofs are lists of 32-byte hashes in RFC 9162 order (bottom-up). Verification follows
RFC 9162 sections 2.1.3.2 and 2.1.4.2 and never raises on malformed input: it returns False.
A root hash does not commit to its tree size (a proof can fit several sizes), so verify
against the (size, root) pair of a signed checkpoint, never a size from elsewhere.

Only the standard library is used, so this module can be vendored into a standalone verifier.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable, Sequence

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "MerkleAccumulator",
    "MerkleTree",
    "consistency_proof",
    "consistency_proof_ranges",
    "inclusion_proof",
    "inclusion_proof_ranges",
    "leaf_hash",
    "node_hash",
    "root_from_leaf_hashes",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"

Range = tuple[int, int]  # half-open leaf interval [start, end)


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def _split_point(n: int) -> int:
    """Largest power of two strictly smaller than ``n`` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def _is_hash(value: object) -> bool:
    return isinstance(value, bytes | bytearray) and len(value) == HASH_SIZE


def _check_leaf_hash(value: bytes) -> bytes:
    if not _is_hash(value):
        raise ValueError(f"leaf hash must be {HASH_SIZE} bytes")
    return bytes(value)


# --- proof layouts -------------------------------------------------------------------------
# Proof generation only needs "the root of leaves [start, end)" for a few ranges; computing the
# ranges separately lets any storage (a list, the cached levels below, a database) supply them.


def inclusion_proof_ranges(index: int, size: int) -> list[Range]:
    """Leaf ranges whose subtree roots form RFC 9162 PATH(index, D[0:size]), bottom-up."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is outside a tree of size {size}")
    ranges: list[Range] = []
    start, end = 0, size
    while end - start > 1:
        k = _split_point(end - start)
        if index < start + k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    ranges.reverse()
    return ranges


def consistency_proof_ranges(old_size: int, new_size: int) -> list[Range]:
    """Leaf ranges whose subtree roots form RFC 9162 PROOF(old_size, D[0:new_size]), bottom-up.

    Empty when ``old_size`` is 0 or equal to ``new_size``: there is nothing to prove.
    """
    if not 0 <= old_size <= new_size:
        raise ValueError(f"cannot prove consistency from size {old_size} to {new_size}")
    if old_size in (0, new_size):
        return []
    ranges: list[Range] = []
    start, end, m = 0, new_size, old_size
    # ``whole_old_tree`` is RFC 9162's flag b: true while the current subtree is a prefix of
    # the old tree's root, whose hash the verifier already has.
    whole_old_tree = True
    while m != end - start:
        k = _split_point(end - start)
        if m <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
            m -= k
            whole_old_tree = False
    if not whole_old_tree:
        ranges.append((start, end))
    ranges.reverse()
    return ranges


# --- module functions over a sequence of leaf hashes ---------------------------------------


def root_from_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """Merkle tree hash (MTH) of the given leaf hashes; ``EMPTY_ROOT`` when there are none."""
    accumulator = MerkleAccumulator()
    for h in hashes:
        accumulator.append(h)
    return accumulator.root()


def _sequence_range_root(leaf_hashes: Sequence[bytes]) -> Callable[[int, int], bytes]:
    return lambda start, end: root_from_leaf_hashes(leaf_hashes[start:end])


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int, size: int) -> list[bytes]:
    """Inclusion proof for leaf ``index`` in the tree of the first ``size`` leaf hashes."""
    if size > len(leaf_hashes):
        raise ValueError(f"tree size {size} exceeds the {len(leaf_hashes)} leaves given")
    range_root = _sequence_range_root(leaf_hashes)
    return [range_root(a, b) for a, b in inclusion_proof_ranges(index, size)]


def consistency_proof(leaf_hashes: Sequence[bytes], old: int, new: int) -> list[bytes]:
    """Consistency proof between the trees of the first ``old`` and first ``new`` leaves."""
    if new > len(leaf_hashes):
        raise ValueError(f"tree size {new} exceeds the {len(leaf_hashes)} leaves given")
    range_root = _sequence_range_root(leaf_hashes)
    return [range_root(a, b) for a, b in consistency_proof_ranges(old, new)]


# --- verification ----------------------------------------------------------------------------


def _proof_is_well_formed(proof: object) -> bool:
    return isinstance(proof, list | tuple) and all(_is_hash(h) for h in proof)


def _is_size(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """True iff ``proof`` shows the leaf hash at ``index`` in the tree of ``size`` with ``root``.

    RFC 9162 section 2.1.3.2; the whole proof must be consumed.
    """
    if not (_is_size(index) and _is_size(size) and index < size):
        return False
    if not (_is_hash(leaf_hash) and _is_hash(root) and _proof_is_well_formed(proof)):
        return False
    fn, sn = index, size - 1
    r = bytes(leaf_hash)
    for p in proof:
        if sn == 0:
            return False  # proof longer than the path to the root
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                # Right-edge node with no right sibling: climb until it is a right child.
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and hmac.compare_digest(r, root)


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """True iff ``proof`` shows the tree (``old_size``, ``old_root``) is a prefix of
    (``new_size``, ``new_root``).

    RFC 9162 section 2.1.4.2 for ``0 < old_size < new_size``. Edge cases, where nothing needs
    proving and the proof must be empty: ``old_size == new_size`` requires equal roots, and
    ``old_size == 0`` requires ``old_root`` to be the empty-tree hash (so ``(0, 0)`` requires
    both roots to be it). RFC 9162 defines proofs only for ``0 < old_size < new_size``.
    """
    if not (_is_size(old_size) and _is_size(new_size) and old_size <= new_size):
        return False
    if not (_is_hash(old_root) and _is_hash(new_root) and _proof_is_well_formed(proof)):
        return False
    if old_size == 0:
        # Checked before the equal-size case: (0, 0, X, X) must not accept any X.
        if len(proof) != 0 or not hmac.compare_digest(old_root, EMPTY_ROOT):
            return False
        return new_size > 0 or hmac.compare_digest(new_root, EMPTY_ROOT)
    if old_size == new_size:
        return len(proof) == 0 and hmac.compare_digest(old_root, new_root)
    if len(proof) == 0:
        return False

    path = [bytes(h) for h in proof]
    if old_size & (old_size - 1) == 0:
        path.insert(0, bytes(old_root))  # the old tree is itself a complete subtree
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False  # trailing hashes the algorithm cannot use
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and hmac.compare_digest(fr, old_root) and hmac.compare_digest(sr, new_root)


# --- incremental structures --------------------------------------------------------------------


class MerkleAccumulator:
    """Compact range over leaves [0, size): the roots of the maximal complete subtrees.

    Appending is O(log n) worst case (O(1) amortised); ``root()`` folds at most log2(n) peaks.
    Persist ``size`` and ``peaks`` to resume with ``from_peaks``.
    """

    __slots__ = ("_peaks", "_size")

    def __init__(self) -> None:
        self._size = 0
        self._peaks: list[bytes] = []  # left to right, strictly decreasing subtree sizes

    @classmethod
    def from_peaks(cls, size: int, peaks: Sequence[bytes]) -> MerkleAccumulator:
        if not _is_size(size) or len(peaks) != size.bit_count():
            raise ValueError("peaks must be one hash per 1 bit of size")
        accumulator = cls()
        accumulator._size = size
        accumulator._peaks = [_check_leaf_hash(p) for p in peaks]
        return accumulator

    @property
    def size(self) -> int:
        return self._size

    @property
    def peaks(self) -> tuple[bytes, ...]:
        return tuple(self._peaks)

    def append(self, leaf_hash: bytes) -> None:
        merged = _check_leaf_hash(leaf_hash)
        n = self._size
        # Each trailing 1 bit of the old size is a peak of equal height: merge with it.
        while n & 1:
            merged = node_hash(self._peaks.pop(), merged)
            n >>= 1
        self._peaks.append(merged)
        self._size += 1

    def root(self) -> bytes:
        if not self._peaks:
            return EMPTY_ROOT
        result = self._peaks[-1]
        for peak in reversed(self._peaks[:-1]):
            result = node_hash(peak, result)
        return result


class MerkleTree:
    """Append-only in-memory tree answering roots and proofs for every size up to its own.

    ``levels[k]`` packs, as consecutive 32-byte slots, the hash of every complete subtree of
    2**k leaves (level 0 is the leaf hashes). That is about 2 * 32 bytes per leaf. Any subtree
    that proofs need is either one slot, or sits on the right edge of a historical tree and is
    rebuilt from O(log n) slots.

    Not thread-safe for concurrent appends; serialise writers.
    """

    __slots__ = ("_levels",)

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        self._levels: list[bytearray] = [bytearray()]
        self.extend(leaf_hashes)

    def __len__(self) -> int:
        return len(self._levels[0]) // HASH_SIZE

    @property
    def size(self) -> int:
        return len(self)

    def memory_bytes(self) -> int:
        """Bytes of hash storage currently held (excluding allocator slack)."""
        return sum(len(level) for level in self._levels)

    def append(self, leaf_hash: bytes) -> int:
        """Append one leaf hash; return its index."""
        self._levels[0] += _check_leaf_hash(leaf_hash)
        self._complete_subtrees()
        return len(self) - 1

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        level0 = self._levels[0]
        for h in leaf_hashes:
            level0 += _check_leaf_hash(h)
        self._complete_subtrees()

    def _complete_subtrees(self) -> None:
        # Hash every pair at level k whose parent is not yet at level k+1. A level that gained
        # nothing cannot complete anything above it, so appends are O(1) amortised.
        k = 0
        while True:
            below = self._levels[k]
            pairs = len(below) // (2 * HASH_SIZE)
            if pairs == 0:
                return
            if k + 1 == len(self._levels):
                self._levels.append(bytearray())
            above = self._levels[k + 1]
            done = len(above) // HASH_SIZE
            if done == pairs:
                return
            for i in range(done, pairs):
                offset = 2 * HASH_SIZE * i
                above += hashlib.sha256(
                    _NODE_PREFIX + below[offset : offset + 2 * HASH_SIZE]
                ).digest()
            k += 1

    def leaf_hash(self, index: int) -> bytes:
        if not 0 <= index < len(self):
            raise IndexError(f"leaf index {index} is outside a tree of size {len(self)}")
        return self._slot(0, index)

    def _slot(self, level: int, index: int) -> bytes:
        offset = index * HASH_SIZE
        return bytes(self._levels[level][offset : offset + HASH_SIZE])

    def _range_root(self, start: int, end: int) -> bytes:
        """MTH of leaves [start, end); O(1) for an aligned complete subtree."""
        n = end - start
        if n & (n - 1) == 0 and start % n == 0:
            level = n.bit_length() - 1
            return self._slot(level, start >> level)
        k = _split_point(n)
        return node_hash(self._range_root(start, start + k), self._range_root(start + k, end))

    def _check_size(self, size: int) -> None:
        if not 0 <= size <= len(self):
            raise ValueError(f"tree size {size} is outside 0..{len(self)}")

    def root(self, size: int | None = None) -> bytes:
        """Root of the tree of the first ``size`` leaves (default: all)."""
        size = len(self) if size is None else size
        self._check_size(size)
        return self._range_root(0, size) if size else EMPTY_ROOT

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        size = len(self) if size is None else size
        self._check_size(size)
        return [self._range_root(a, b) for a, b in inclusion_proof_ranges(index, size)]

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        new_size = len(self) if new_size is None else new_size
        self._check_size(new_size)
        return [self._range_root(a, b) for a, b in consistency_proof_ranges(old_size, new_size)]
