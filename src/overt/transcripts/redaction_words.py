"""Audio redaction by words: the transcript's words someone chooses become time ranges to
mute or bleep, each widened by a margin (OVERT_TRANSCRIPT_REDACTION_MARGIN_S) and
merged where they touch. The redaction app turns the ranges into its audio ranges."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from overt import errors
from overt.access.services import User
from overt.conf import get_settings
from overt.custody.services import Client

from .services import read

MAX_WORDS = 2000


@dataclass(frozen=True, slots=True)
class WordRange:
    start_s: float
    end_s: float
    words: str  # the words it silences, for the range's note


def ranges(
    words: Sequence[Sequence[Any]], chosen: Iterable[int], margin_s: float, duration_s: float
) -> list[WordRange]:
    """Merged ranges covering the chosen words (by index), each widened by `margin_s`
    and kept inside [0, duration_s]. Pure: no database."""
    picked = sorted(set(chosen))
    if not picked:
        raise errors.Invalid("choose at least one word", field="words")
    if len(picked) > MAX_WORDS:
        raise errors.Invalid(f"more than {MAX_WORDS} words at once", field="words")
    if picked[0] < 0 or picked[-1] >= len(words):
        raise errors.Invalid("a chosen word is not in the transcript", field="words")
    end_limit = duration_s if duration_s > 0 else float("inf")
    out: list[WordRange] = []
    for index in picked:
        word, start, end = str(words[index][0]), float(words[index][1]), float(words[index][2])
        lo, hi = max(0.0, start - margin_s), min(end_limit, max(end, start + 0.05) + margin_s)
        if out and lo <= out[-1].end_s:
            last = out[-1]
            out[-1] = WordRange(last.start_s, max(last.end_s, hi), f"{last.words} {word}")
        else:
            out.append(WordRange(lo, hi, word))
    return out


def word_ranges(
    user: User, original_id: int, chosen: Iterable[int], client: Client | None = None
) -> list[WordRange]:
    """The ranges for `chosen` words of the original's current transcript; reading the
    words needs what playing the footage needs (services.read)."""
    version = read(user, original_id, client)
    margin = get_settings().transcript_redaction_margin_s
    return ranges(version.words, chosen, margin, version.duration_s)
