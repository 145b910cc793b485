"""The weekly review sample, as a pure function anyone can replay from the logged seed.

Weighted sampling without replacement (Efraimidis and Spirakis): each candidate gets the
key u ** (1 / weight), where u is its uniform number in (0, 1), and the k largest keys are
drawn. u is derived from the seed and the recording's id alone,

    u = (int(sha256(f"{seed}:{recording_id}").hexdigest()[:13], 16) + 0.5) / 16**13

so the draw depends on nothing but the seed, the ids and the weights (all logged), and is
reproducible in any language: the sample cannot be re-rolled quietly.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

SCALE = 16**13


def uniform(seed: str, recording_id: int) -> float:
    digest = hashlib.sha256(f"{seed}:{recording_id}".encode()).hexdigest()
    return (int(digest[:13], 16) + 0.5) / SCALE


def sample(candidates: Iterable[tuple[int, float]], k: int, seed: str) -> list[int]:
    """The ids of k candidates (id, weight > 0), most likely the heaviest, in draw order."""
    keyed = []
    for rec_id, weight in candidates:
        if weight <= 0:
            raise ValueError(f"recording {rec_id}: weight {weight} is not positive")
        keyed.append((uniform(seed, rec_id) ** (1.0 / weight), rec_id))
    keyed.sort(key=lambda pair: (-pair[0], pair[1]))
    return [rec_id for _, rec_id in keyed[: max(k, 0)]]


REASONS = ("use-of-force", "complaint", "late-activation", "flagged-keyword")


def weight(reasons: Iterable[str], priority: float) -> float:
    """1, plus `priority` for each distinct reason the recording deserves a closer look."""
    return 1.0 + priority * len(set(reasons) & set(REASONS))
