"""Words as search sees them (overt.transcripts.words): the ASCII shortcut gives the very
tokens the Unicode path gives, and `find` agrees with a plain scan, on any input."""

from __future__ import annotations

import re
import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from overt.transcripts import words as wordlib


def unicode_tokens(text: str) -> list[str]:
    """The normalisation the index uses, spelt out with no shortcut."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(c for c in folded if not unicodedata.combining(c))
    return re.findall(r"[^\W_]+", stripped)


def scan(words: list[str], term: wordlib.Term) -> int:
    """The first i where the term's words are words[i:], the last as a prefix."""
    *whole, last = term.words
    for i in range(len(words) - len(whole)):
        if list(words[i : i + len(whole)]) == whole and words[i + len(whole)].startswith(last):
            return i
    return -1


@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=80))
def test_ascii_text_gives_the_same_tokens_as_the_unicode_path(text: str) -> None:
    assert wordlib.tokens(text) == unicode_tokens(text)


@given(st.text(max_size=40))
def test_any_text_gives_the_unicode_paths_tokens(text: str) -> None:
    assert wordlib.tokens(text) == unicode_tokens(text)


def test_known_tokens() -> None:
    assert wordlib.tokens("Kowalski's MP4121, Café_au lait") == [
        "kowalski",
        "s",
        "mp4121",
        "cafe",
        "au",
        "lait",
    ]


VOCABULARY = st.sampled_from(["a", "ab", "abc", "b", "ba", "drop", "dropped", "it", "weapon"])


@given(st.lists(VOCABULARY, max_size=30), st.lists(VOCABULARY, min_size=1, max_size=4))
def test_find_agrees_with_a_plain_scan(words: list[str], term_words: list[str]) -> None:
    term = wordlib.Term(tuple(term_words))
    assert wordlib.find(words, term) == scan(words, term)
