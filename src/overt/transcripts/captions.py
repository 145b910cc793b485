"""WebVTT captions from timed words (pure: no Django, no model).

Cues follow broadcast subtitling habits: at most two lines of about 42 characters, at
most 6 seconds, broken at sentence ends and at pauses, so they can be read in time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

MAX_CHARS = 84  # two lines of 42
MAX_CUE_S = 6.0
PAUSE_S = 1.0
LINE = 42


class TimedWord(Protocol):
    @property
    def word(self) -> str: ...
    @property
    def start(self) -> float: ...
    @property
    def end(self) -> float: ...


@dataclass(frozen=True, slots=True)
class Cue:
    start: float
    end: float
    text: str
    first_word: int  # index into the words, so a panel can map a cue back to its words


def cues(words: Sequence[TimedWord]) -> list[Cue]:
    out: list[Cue] = []
    begin = 0
    for i, word in enumerate(words):
        text_so_far = " ".join(w.word for w in words[begin : i + 1])
        last = i == len(words) - 1
        nxt = None if last else words[i + 1]
        breaks = (
            last
            or word.word.endswith((".", "?", "!"))
            or (nxt is not None and nxt.start - word.end >= PAUSE_S)
            or (nxt is not None and nxt.end - words[begin].start > MAX_CUE_S)
            or (nxt is not None and len(text_so_far) + 1 + len(nxt.word) > MAX_CHARS)
        )
        if breaks:
            out.append(
                Cue(
                    words[begin].start,
                    max(word.end, words[begin].start + 0.3),
                    _wrap(text_so_far),
                    begin,
                )
            )
            begin = i + 1
    return out


def _wrap(text: str) -> str:
    if len(text) <= LINE:
        return text
    middle = len(text) // 2
    spaces = [i for i, c in enumerate(text) if c == " "]
    if not spaces:
        return text
    split = min(spaces, key=lambda i: abs(i - middle))
    return text[:split] + "\n" + text[split + 1 :]


def timestamp(seconds: float) -> str:
    millis = max(0, round(seconds * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, ms = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{ms:03d}"


def _one_line(text: str) -> str:
    # A NOTE ends at a blank line: every line break (CR, LF, U+2028 ...) becomes a space.
    return " ".join(text.splitlines())


def _escape(text: str) -> str:
    # WebVTT cue text: & and < start markup; "-->" inside a cue would end its timing line.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def webvtt(words: Sequence[TimedWord], note: str = "") -> str:
    lines = ["WEBVTT", ""]
    if note:
        # No "-->" in a NOTE (it would end the block): "--->" folded once still had one.
        lines += ["NOTE " + re.sub(r"-{2,}>", "->", _one_line(note)), ""]
    for number, cue in enumerate(_ordered(cues(words)), start=1):
        lines += [
            str(number),
            f"{timestamp(cue.start)} --> {timestamp(cue.end)}",
            _escape(cue.text),
            "",
        ]
    return "\n".join(lines)


def _ordered(items: Iterable[Cue]) -> list[Cue]:
    """Cues in time order, none ending after the next starts (players show one at a time)."""
    ordered = sorted(items, key=lambda c: c.start)
    fixed = []
    for i, cue in enumerate(ordered):
        end = cue.end
        if i + 1 < len(ordered):
            end = min(end, ordered[i + 1].start)
        fixed.append(Cue(cue.start, max(end, cue.start + 0.001), cue.text, cue.first_word))
    return fixed
