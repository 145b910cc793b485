"""Words as search sees them (pure): one normalisation for indexing and for queries, so
SQLite FTS5 and PostgreSQL full-text search are given the very same tokens.

A token is a run of letters and digits, case-folded, accents removed ("Kowalski's" ->
"kowalski", "s"; "MP4121" -> "mp4121"; "Café" -> "cafe"). Punctuation, quotes and every
FTS operator character are separators, so no query can carry FTS syntax.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

_TOKEN = re.compile(r"[^\W_]+")
MAX_QUERY_TOKENS = 16


_ASCII_TOKEN = re.compile(r"[A-Za-z0-9]+")


def count(text: str) -> int:
    """len(tokens(text)), without the Unicode work for plain ASCII words."""
    if text.isascii():
        return len(_ASCII_TOKEN.findall(text))
    return len(tokens(text))


def tokens(text: str) -> list[str]:
    if text.isascii():  # the same tokens, without the Unicode work (most words said)
        return _ASCII_TOKEN.findall(text.lower())
    folded = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(c for c in folded if not unicodedata.combining(c))
    return _TOKEN.findall(stripped)


@dataclass(frozen=True, slots=True)
class Term:
    """One thing to find: a single word (matched as a word prefix) or a quoted phrase
    (its words in order, the last one also as a prefix)."""

    words: tuple[str, ...]

    @property
    def is_phrase(self) -> bool:
        return len(self.words) > 1


def parse_terms(query: str) -> list[Term]:
    """Words, and "quoted phrases", of a search box query; at most MAX_QUERY_TOKENS words.
    An unbalanced quote runs to the end; an empty phrase is dropped."""
    out: list[Term] = []
    count = 0
    for index, part in enumerate(query.split('"')):
        if index % 2:  # inside quotes
            words = tokens(part)[: MAX_QUERY_TOKENS - count]
            if words:
                out.append(Term(tuple(words)))
                count += len(words)
        else:
            for word in tokens(part)[: MAX_QUERY_TOKENS - count]:
                out.append(Term((word,)))
                count += 1
    return out


def find(words: Sequence[str], term: Term) -> int:
    """Index of the first of `words` (already tokens) where `term` starts, or -1."""
    *whole, last = term.words
    n = len(whole)
    if not n:  # one word: the first that starts with it (the common case, kept simple)
        return next((i for i, word in enumerate(words) if word.startswith(last)), -1)
    first = whole[0]
    for i in range(len(words) - n):
        if words[i] != first:
            continue
        if all(words[i + k] == whole[k] for k in range(1, n)) and words[i + n].startswith(last):
            return i
    return -1
