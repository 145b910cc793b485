"""WCAG 2.2 AA contrast of the review pages' colours, read from overt.css: 4.5:1 for text,
3:1 for the focus ring and other parts of controls."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import overt.review

CSS = (Path(overt.review.__file__).parent / "static" / "review" / "overt.css").read_text()
VARIABLES = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6})", CSS))


def colour(value: str) -> str:
    return VARIABLES[value[2:]] if value.startswith("--") else value


def luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def ratio(a: str, b: str) -> float:
    la, lb = sorted((luminance(colour(a)), luminance(colour(b))), reverse=True)
    return (la + 0.05) / (lb + 0.05)


TEXT = [  # (foreground, background, where)
    ("--ink", "--paper", "body text"),
    ("--ink", "--canvas", "text on the page background"),
    ("--ink-muted", "--paper", "secondary text"),
    ("--ink-muted", "--canvas", "secondary text on the page"),
    ("--ink-muted", "#e9edf1", "table headings"),
    ("--accent", "--paper", "links"),
    ("--accent-ink", "--accent", "primary buttons, chosen facets"),
    ("--accent", "#e8effa", "queued and running flags, facet hover"),
    ("--bad", "--bad-bg", "failure flags, low confidence"),
    ("--good", "--good-bg", "success flags, high confidence"),
    ("--warn", "--warn-bg", "warnings, medium confidence"),
    ("--good", "--paper", "clips made in the library"),
    ("--ink", "#fff4dc", "the row of the highlighted GPS track"),
    ("#ffffff", "#12263f", "header"),
    ("#c9d6e6", "#12263f", "header note"),
    ("#e6ebf1", "#0f1720", "player controls and captions"),
    ("#c9d6e6", "#0f1720", "player frame readout"),
    ("#ffe08a", "#0f1720", "wall-clock readout, camera clock note"),
    ("#ffffff", "#24303f", "player buttons"),
    ("#ffffff", "#33415c", "clip bars on the timeline"),
]
PARTS = [  # non-text: 3:1 against what they sit on
    ("--focus", "#0f1720", "focus ring on the player"),
    ("--ink", "--paper", "focus ring's inner edge on white"),
    ("#8a95a3", "--paper", "input borders"),
    ("#a4161a", "--paper", "timeline playhead"),
    ("#1d4f91", "#eef1f4", "GPS track on the map"),
]


@pytest.mark.parametrize(("fg", "bg", "where"), TEXT)
def test_text_contrast_is_at_least_4_5(fg: str, bg: str, where: str) -> None:
    assert ratio(fg, bg) >= 4.5, f"{where}: {ratio(fg, bg):.2f}:1"


@pytest.mark.parametrize(("fg", "bg", "where"), PARTS)
def test_control_contrast_is_at_least_3(fg: str, bg: str, where: str) -> None:
    assert ratio(fg, bg) >= 3.0, f"{where}: {ratio(fg, bg):.2f}:1"


def test_focus_ring_has_a_dark_edge_for_light_backgrounds() -> None:
    assert re.search(
        r":focus-visible \{[^}]*outline: 3px solid var\(--focus\)[^}]*box-shadow: 0 0 0 2px var\(--ink\)",
        CSS,
    )
