"""RFC 9162 Merkle tree: published vectors, an independent implementation, and attacks."""

from __future__ import annotations

import hashlib
import random

import pymerkle
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from overt.custody.merkle import (
    EMPTY_ROOT,
    MerkleAccumulator,
    MerkleTree,
    consistency_proof,
    consistency_proof_ranges,
    inclusion_proof,
    inclusion_proof_ranges,
    leaf_hash,
    node_hash,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)

h = bytes.fromhex

# --- Published vectors ------------------------------------------------------------------------
# Source: github.com/transparency-dev/merkle, proof/verify_test.go (the same data as
# google/certificate-transparency-go merkle/log_verifier_test.go and the C++ RFC 6962 tests):
# the eight RFC 6962 test leaves, the roots of their prefixes, and known proofs.
# Proof vectors there use 1-based leaf numbers; LEAF_NUMBER - 1 gives our 0-based index.

RFC6962_LEAVES = [
    h(x)
    for x in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]

RFC6962_ROOTS = [  # root of the first n leaves, n = 1..8
    h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
    h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
    h("aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77"),
    h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
    h("4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4"),
    h("76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef"),
    h("ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c"),
    h("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"),
]

EMPTY_TREE_HASH = h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")

# (1-based leaf number, tree size, proof)
INCLUSION_VECTORS = [
    (1, 1, []),
    (
        1,
        8,
        [
            h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        6,
        8,
        [
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
    (3, 3, [h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")]),
    (
        2,
        5,
        [
            h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
]

# (old size, new size, proof)
CONSISTENCY_VECTORS = [
    (1, 1, []),
    (
        1,
        8,
        [
            h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        6,
        8,
        [
            h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
    (
        2,
        5,
        [
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
    (
        6,
        7,
        [
            h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            h("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
]

RFC6962_LEAF_HASHES = [leaf_hash(data) for data in RFC6962_LEAVES]
SOME_HASH = h("abacaba000000000000000000000000000000000000000000060061e00123456")


def rfc_root(size: int) -> bytes:
    return RFC6962_ROOTS[size - 1]


def test_empty_tree_hash() -> None:
    assert EMPTY_ROOT == EMPTY_TREE_HASH
    assert root_from_leaf_hashes([]) == EMPTY_TREE_HASH
    assert MerkleTree().root() == EMPTY_TREE_HASH
    assert MerkleAccumulator().root() == EMPTY_TREE_HASH


def test_hash_domain_separation() -> None:
    assert leaf_hash(b"") == hashlib.sha256(b"\x00").digest()
    left, right = b"L" * 32, b"R" * 32
    assert node_hash(left, right) == hashlib.sha256(b"\x01" + left + right).digest()


@pytest.mark.parametrize("size", range(1, 9))
def test_published_roots(size: int) -> None:
    hashes = RFC6962_LEAF_HASHES[:size]
    assert root_from_leaf_hashes(hashes) == rfc_root(size)
    assert MerkleTree(RFC6962_LEAF_HASHES).root(size) == rfc_root(size)
    accumulator = MerkleAccumulator()
    for leaf in hashes:
        accumulator.append(leaf)
    assert accumulator.root() == rfc_root(size)


@pytest.mark.parametrize(("number", "size", "proof"), INCLUSION_VECTORS)
def test_published_inclusion_proofs(number: int, size: int, proof: list[bytes]) -> None:
    index = number - 1
    assert inclusion_proof(RFC6962_LEAF_HASHES, index, size) == proof
    assert MerkleTree(RFC6962_LEAF_HASHES).inclusion_proof(index, size) == proof
    assert verify_inclusion(RFC6962_LEAF_HASHES[index], index, size, proof, rfc_root(size))


@pytest.mark.parametrize(("old", "new", "proof"), CONSISTENCY_VECTORS)
def test_published_consistency_proofs(old: int, new: int, proof: list[bytes]) -> None:
    assert consistency_proof(RFC6962_LEAF_HASHES, old, new) == proof
    assert MerkleTree(RFC6962_LEAF_HASHES).consistency_proof(old, new) == proof
    assert verify_consistency(old, new, rfc_root(old), rfc_root(new), proof)


# --- Negative: inclusion ----------------------------------------------------------------------


def _flip(proof: list[bytes], i: int) -> list[bytes]:
    tampered = list(proof)
    tampered[i] = bytes([tampered[i][0] ^ 8]) + tampered[i][1:]
    return tampered


def inclusion_attacks(index: int, size: int, proof: list[bytes], root: bytes, leaf: bytes):
    yield "index - 1", (leaf, index - 1, size, proof, root)
    yield "index + 1", (leaf, index + 1, size, proof, root)
    yield "index ^ 2", (leaf, index ^ 2, size, proof, root)
    yield "size * 2", (leaf, index, size * 2, proof, root)
    yield "size // 2", (leaf, index, size // 2, proof, root)
    yield "wrong leaf", (SOME_HASH, index, size, proof, root)
    yield "short leaf", (b"WrongLeaf", index, size, proof, root)
    yield "empty root", (leaf, index, size, proof, EMPTY_TREE_HASH)
    yield "random root", (leaf, index, size, proof, SOME_HASH)
    yield "trailing empty", (leaf, index, size, [*proof, b""], root)
    yield "trailing root", (leaf, index, size, [*proof, root], root)
    yield "preceding empty", (leaf, index, size, [b"", *proof], root)
    yield "preceding root", (leaf, index, size, [root, *proof], root)
    for i in range(len(proof)):
        yield f"flipped proof[{i}]", (leaf, index, size, _flip(proof, i), root)
    if proof:
        yield "truncated", (leaf, index, size, proof[:-1], root)
    if len(proof) > 1:
        yield "inserted", (leaf, index, size, [proof[0], SOME_HASH, *proof[1:]], root)


@pytest.mark.parametrize(("number", "size", "proof"), INCLUSION_VECTORS[1:])
def test_inclusion_rejects_tampering(number: int, size: int, proof: list[bytes]) -> None:
    index, root = number - 1, rfc_root(size)
    accepted = [
        desc
        for desc, args in inclusion_attacks(index, size, proof, root, RFC6962_LEAF_HASHES[index])
        if verify_inclusion(*args)
    ]
    assert accepted == []


@pytest.mark.parametrize(("index", "size"), [(0, 0), (0, 1), (1, 0), (2, 1), (-1, 1)])
def test_inclusion_rejects_impossible_positions(index: int, size: int) -> None:
    assert not verify_inclusion(SOME_HASH, index, size, [], b"")
    assert not verify_inclusion(b"", index, size, [], EMPTY_TREE_HASH)
    assert not verify_inclusion(SOME_HASH, index, size, [], EMPTY_TREE_HASH)


def test_single_leaf_inclusion() -> None:
    leaf = leaf_hash(b"data")
    assert verify_inclusion(leaf, 0, 1, [], leaf)
    assert not verify_inclusion(leaf, 0, 1, [], b"")
    assert not verify_inclusion(b"", 0, 1, [], leaf)
    assert not verify_inclusion(leaf, 0, 1, [leaf], leaf)


def test_inclusion_rejects_non_hash_inputs() -> None:
    proof = inclusion_proof(RFC6962_LEAF_HASHES, 5, 8)
    leaf, root = RFC6962_LEAF_HASHES[5], rfc_root(8)
    assert not verify_inclusion(leaf, 5, 8, [*proof[:-1], proof[-1].hex()], root)  # type: ignore[list-item]
    assert not verify_inclusion(leaf, True, 8, proof, root)
    assert not verify_inclusion(leaf, 5, 8, "not a list", root)  # type: ignore[arg-type]


def test_root_alone_does_not_commit_to_size() -> None:
    # Known property of RFC 9162 proofs, not a bug: the proof for leaf 2 of 5 has the same
    # shape in a tree of 6, so the pair (size, root) must come from a signed checkpoint.
    proof = INCLUSION_VECTORS[4][2]
    assert verify_inclusion(RFC6962_LEAF_HASHES[1], 1, 6, proof, rfc_root(5))


# --- Negative: consistency --------------------------------------------------------------------

ROOT1 = b"don't care 1".ljust(32, b".")
ROOT2 = b"don't care 2".ljust(32, b".")


@pytest.mark.parametrize(
    ("old", "new", "old_root", "new_root", "proof", "valid"),
    [
        # Equal sizes: nothing to prove, so roots must match and the proof be empty.
        (0, 0, EMPTY_TREE_HASH, EMPTY_TREE_HASH, [], True),
        (1, 1, ROOT2, ROOT2, [], True),
        (0, 0, ROOT1, ROOT2, [], False),
        (1, 1, ROOT1, ROOT2, [], False),
        (0, 0, EMPTY_TREE_HASH, ROOT2, [], False),
        (1, 1, EMPTY_TREE_HASH, EMPTY_TREE_HASH, [EMPTY_TREE_HASH], False),
        (0, 0, EMPTY_TREE_HASH, EMPTY_TREE_HASH, [EMPTY_TREE_HASH], False),
        # Issue 11 item 16: two equal non-empty roots do not make an empty tree.
        (0, 0, ROOT1, ROOT1, [], False),
        (0, 0, SOME_HASH, SOME_HASH, [], False),
        # The empty tree is a prefix of every tree, but only with the empty-tree hash.
        (0, 1, EMPTY_TREE_HASH, ROOT2, [], True),
        (0, 1, ROOT1, ROOT2, [], False),
        (0, 1, EMPTY_TREE_HASH, EMPTY_TREE_HASH, [EMPTY_TREE_HASH], False),
        # Time travel.
        (1, 0, ROOT1, ROOT2, [], False),
        (2, 1, ROOT1, ROOT2, [], False),
        (8, 6, rfc_root(8), rfc_root(6), CONSISTENCY_VECTORS[2][2], False),
        # Growth needs a proof.
        (1, 2, ROOT1, ROOT2, [], False),
        (-1, 2, ROOT1, ROOT2, [], False),
    ],
)
def test_consistency_edge_cases(
    old: int, new: int, old_root: bytes, new_root: bytes, proof: list[bytes], valid: bool
) -> None:
    assert verify_consistency(old, new, old_root, new_root, proof) is valid


@pytest.mark.parametrize("size", range(1, 9))
def test_consistency_from_the_empty_tree_and_to_itself_derived_from_rfc6962_roots(size: int) -> None:
    # Derived from the published RFC 6962 roots above: the empty tree is a prefix of every
    # tree (empty proof), each tree is consistent with itself, and nothing else passes.
    root = rfc_root(size)
    assert verify_consistency(0, size, EMPTY_TREE_HASH, root, [])
    assert verify_consistency(size, size, root, root, [])
    assert not verify_consistency(0, size, root, root, [])
    assert not verify_consistency(0, size, EMPTY_TREE_HASH, root, [root])
    assert not verify_consistency(size, size, root, root, [root])
    assert not verify_consistency(0, 0, root, root, [])
    if size > 1:
        assert not verify_consistency(size - 1, size, rfc_root(size - 1), root, [])


def consistency_attacks(old: int, new: int, root1: bytes, root2: bytes, proof: list[bytes]):
    yield "old - 1", (old - 1, new, root1, root2, proof)
    yield "old + 1", (old + 1, new, root1, root2, proof)
    yield "old ^ 2", (old ^ 2, new, root1, root2, proof)
    yield "new * 2", (old, new * 2, root1, root2, proof)
    yield "new // 2", (old, new // 2, root1, root2, proof)
    yield "wrong root1", (old, new, SOME_HASH, root2, proof)
    yield "wrong root2", (old, new, root1, SOME_HASH, proof)
    yield "short root", (old, new, b"WrongRoot", root2, proof)
    yield "swapped roots", (old, new, root2, root1, proof)
    yield "empty proof", (old, new, root1, root2, [])
    yield "trailing empty", (old, new, root1, root2, [*proof, b""])
    yield "trailing root1", (old, new, root1, root2, [*proof, root1])
    yield "trailing root2", (old, new, root1, root2, [*proof, root2])
    yield "trailing proof[-1]", (old, new, root1, root2, [*proof, proof[-1]])
    yield "preceding empty", (old, new, root1, root2, [b"", *proof])
    yield "preceding root1", (old, new, root1, root2, [root1, *proof])
    yield "preceding root2", (old, new, root1, root2, [root2, *proof])
    yield "preceding proof[0]", (old, new, root1, root2, [proof[0], *proof])
    yield "truncated", (old, new, root1, root2, proof[:-1])
    yield "first dropped", (old, new, root1, root2, proof[1:])
    for i in range(len(proof)):
        yield f"flipped proof[{i}]", (old, new, root1, root2, _flip(proof, i))


@pytest.mark.parametrize(("old", "new", "proof"), CONSISTENCY_VECTORS[1:])
def test_consistency_rejects_tampering(old: int, new: int, proof: list[bytes]) -> None:
    root1, root2 = rfc_root(old), rfc_root(new)
    accepted = [
        desc
        for desc, args in consistency_attacks(old, new, root1, root2, proof)
        if verify_consistency(*args)
    ]
    assert accepted == []


def test_consistency_with_extra_trailing_hash_fails_for_every_pair() -> None:
    tree = MerkleTree(leaf_hash(bytes([i])) for i in range(33))
    for new in range(2, 34):
        for old in range(1, new):
            proof = tree.consistency_proof(old, new)
            args = (old, new, tree.root(old), tree.root(new))
            assert verify_consistency(*args, proof)
            assert not verify_consistency(*args, [*proof, SOME_HASH])
            assert not verify_consistency(*args, proof[:-1])


# --- Generation: argument checks --------------------------------------------------------------


def test_generation_rejects_bad_arguments() -> None:
    tree = MerkleTree(RFC6962_LEAF_HASHES)
    with pytest.raises(ValueError):
        tree.inclusion_proof(8, 8)
    with pytest.raises(ValueError):
        tree.inclusion_proof(0, 9)
    with pytest.raises(ValueError):
        tree.inclusion_proof(-1, 8)
    with pytest.raises(ValueError):
        tree.consistency_proof(5, 4)
    with pytest.raises(ValueError):
        tree.consistency_proof(1, 9)
    with pytest.raises(ValueError):
        tree.root(9)
    with pytest.raises(ValueError):
        inclusion_proof(RFC6962_LEAF_HASHES, 0, 9)
    with pytest.raises(ValueError):
        consistency_proof(RFC6962_LEAF_HASHES, 0, 9)
    with pytest.raises(ValueError):
        tree.append(b"short")
    with pytest.raises(IndexError):
        tree.leaf_hash(8)
    assert consistency_proof_ranges(0, 5) == []
    assert consistency_proof_ranges(5, 5) == []
    assert inclusion_proof_ranges(0, 1) == []


# --- Implementations agree ------------------------------------------------------------------


def test_all_structures_agree_exhaustively_up_to_64() -> None:
    hashes = [leaf_hash(i.to_bytes(2, "big")) for i in range(64)]
    tree = MerkleTree()
    accumulator = MerkleAccumulator()
    for n in range(1, 65):
        assert tree.append(hashes[n - 1]) == n - 1
        accumulator.append(hashes[n - 1])
        root = root_from_leaf_hashes(hashes[:n])
        assert tree.root() == accumulator.root() == root
        for i in range(n):
            proof = tree.inclusion_proof(i, n)
            assert proof == inclusion_proof(hashes, i, n)
            assert verify_inclusion(hashes[i], i, n, proof, root)
        for old in range(n + 1):
            proof = tree.consistency_proof(old, n)
            assert proof == consistency_proof(hashes, old, n)
            assert verify_consistency(old, n, tree.root(old), root, proof)


def test_tree_answers_for_historical_sizes_after_growth() -> None:
    hashes = [leaf_hash(i.to_bytes(4, "big")) for i in range(1000)]
    tree = MerkleTree(hashes)
    assert len(tree) == tree.size == 1000
    rng = random.Random(9162)
    for _ in range(200):
        size = rng.randint(1, 1000)
        index = rng.randrange(size)
        old = rng.randint(0, size)
        assert tree.root(size) == root_from_leaf_hashes(hashes[:size])
        assert tree.inclusion_proof(index, size) == inclusion_proof(hashes, index, size)
        assert tree.consistency_proof(old, size) == consistency_proof(hashes, old, size)
    # Storage is the leaves plus one slot per complete subtree: < 2 slots per leaf.
    assert tree.memory_bytes() < 2 * 32 * 1000


def test_extend_matches_repeated_append() -> None:
    hashes = [leaf_hash(bytes([i])) for i in range(77)]
    one_by_one = MerkleTree()
    for leaf in hashes:
        one_by_one.append(leaf)
    in_batches = MerkleTree(hashes[:10])
    in_batches.extend(hashes[10:50])
    in_batches.extend(hashes[50:])
    assert in_batches._levels == one_by_one._levels


def test_accumulator_resumes_from_peaks() -> None:
    hashes = [leaf_hash(bytes([i])) for i in range(100)]
    first = MerkleAccumulator()
    for leaf in hashes[:37]:
        first.append(leaf)
    resumed = MerkleAccumulator.from_peaks(first.size, first.peaks)
    for leaf in hashes[37:]:
        resumed.append(leaf)
    assert resumed.root() == root_from_leaf_hashes(hashes)
    assert len(first.peaks) == bin(37).count("1")
    with pytest.raises(ValueError):
        MerkleAccumulator.from_peaks(37, first.peaks[:-1])


# --- Cross-check against pymerkle 7 (independent implementation) -------------------------------
# pymerkle uses RFC 9162 hashing (0x00/0x01 prefixes) and 1-based leaf indices. Its inclusion
# path is [leaf hash, *RFC 9162 path]. Its consistency path uses a different decomposition
# than RFC 9162, so consistency proofs are cross-checked via roots, not hash for hash.


def _pymerkle_tree(entries: list[bytes]) -> pymerkle.InmemoryTree:
    tree = pymerkle.InmemoryTree(algorithm="sha256")
    for entry in entries:
        tree.append_entry(entry)
    return tree


@settings(max_examples=60, deadline=None)
@given(
    entries=st.lists(st.binary(max_size=40), min_size=1, max_size=300),
    data=st.data(),
)
def test_matches_pymerkle(entries: list[bytes], data: st.DataObject) -> None:
    theirs = _pymerkle_tree(entries)
    ours = MerkleTree(leaf_hash(e) for e in entries)
    n = len(entries)
    assert ours.root() == theirs.get_root()

    size = data.draw(st.integers(1, n), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    old = data.draw(st.integers(1, size), label="old")
    root, old_root = ours.root(size), ours.root(old)
    assert root == theirs.get_root(size)
    assert old_root == theirs.get_root(old)

    # Inclusion: identical hashes; each verifier accepts the other's proof.
    their_proof = theirs.prove_inclusion(index + 1, size)
    our_proof = ours.inclusion_proof(index, size)
    leaf = ours.leaf_hash(index)
    assert their_proof.path == [leaf, *our_proof]
    assert verify_inclusion(leaf, index, size, their_proof.path[1:], root)
    their_proof.path = [leaf, *our_proof]
    pymerkle.verify_inclusion(leaf, root, their_proof, index=index + 1, size=size)

    # Consistency: pymerkle's proof verifies against our roots, ours against theirs.
    their_consistency = theirs.prove_consistency(old, size)
    pymerkle.verify_consistency(old_root, root, their_consistency, old, size)
    our_consistency = ours.consistency_proof(old, size)
    assert verify_consistency(
        old, size, theirs.get_root(old), theirs.get_root(size), our_consistency
    )
    if old < size:
        assert not verify_consistency(old, size, theirs.get_root(old), SOME_HASH, our_consistency)
