"""Benchmark: build a 1,000,000-leaf MerkleTree and time proofs against it.

Run: PYTHONPATH=src .venv/bin/python bench/custody_proofs.py [--leaves N] [--samples N]
Prints a markdown table. No assertions: numbers are for the record, not for CI.
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import time
from collections.abc import Callable

from overt.custody.merkle import (
    MerkleAccumulator,
    MerkleTree,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)


def _timings_ms(samples: int, operation: Callable[[], object]) -> list[float]:
    timings = []
    for _ in range(samples):
        start = time.perf_counter()
        operation()
        timings.append((time.perf_counter() - start) * 1000)
    return timings


def _row(label: str, timings: list[float]) -> str:
    ordered = sorted(timings)
    p50 = statistics.median(ordered)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"| {label} | {len(ordered)} | {p50:.3f} | {p95:.3f} | {ordered[-1]:.3f} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--leaves", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=9162)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    n = args.leaves

    start = time.perf_counter()
    hashes = [leaf_hash(i.to_bytes(8, "big")) for i in range(n)]
    hash_s = time.perf_counter() - start

    start = time.perf_counter()
    tree = MerkleTree(hashes)
    bulk_s = time.perf_counter() - start

    start = time.perf_counter()
    appended = MerkleTree()
    for h in hashes:
        appended.append(h)
    append_s = time.perf_counter() - start

    start = time.perf_counter()
    accumulator = MerkleAccumulator()
    for h in hashes:
        accumulator.append(h)
    accumulator_s = time.perf_counter() - start
    assert accumulator.root() == tree.root() == appended.root()
    del appended

    def random_inclusion() -> None:
        size = rng.randint(1, n) if rng.random() < 0.5 else n
        index = rng.randrange(size)
        proof = tree.inclusion_proof(index, size)
        if not verify_inclusion(hashes[index], index, size, proof, tree.root(size)):
            raise AssertionError("inclusion proof failed to verify")

    def inclusion_only() -> None:
        tree.inclusion_proof(rng.randrange(n), n)

    def consistency_only() -> None:
        new = rng.randint(1, n)
        tree.consistency_proof(rng.randint(1, new), new)

    def random_consistency() -> None:
        new = rng.randint(1, n)
        old = rng.randint(1, new)
        proof = tree.consistency_proof(old, new)
        if not verify_consistency(old, new, tree.root(old), tree.root(new), proof):
            raise AssertionError("consistency proof failed to verify")

    def historical_root() -> None:
        tree.root(rng.randint(1, n))

    operations = {
        "inclusion proof (size = n)": inclusion_only,
        "consistency proof (random old <= new <= n)": consistency_only,
        "root at random historical size": historical_root,
        "inclusion: prove + 1 root + verify": random_inclusion,
        "consistency: prove + 2 roots + verify": random_consistency,
    }
    rows = [_row(label, _timings_ms(args.samples, op)) for label, op in operations.items()]
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(f"## MerkleTree with {n:,} leaves\n")
    print("| build step | seconds |")
    print("| --- | ---: |")
    print(f"| hash {n:,} leaf entries (leaf_hash) | {hash_s:.2f} |")
    print(f"| MerkleTree(leaf_hashes) bulk build | {bulk_s:.2f} |")
    print(f"| MerkleTree.append x {n:,} | {append_s:.2f} |")
    print(f"| MerkleAccumulator.append x {n:,} | {accumulator_s:.2f} |")
    print()
    print("| operation | samples | p50 ms | p95 ms | max ms |")
    print("| --- | ---: | ---: | ---: | ---: |")
    print("\n".join(rows))
    print()
    print(f"Tree hash storage: {tree.memory_bytes() / 2**20:.1f} MiB; ", end="")
    print(f"process peak RSS (includes the {n:,} leaf hashes list): {peak_rss_mb:.0f} MiB")


if __name__ == "__main__":
    main()
