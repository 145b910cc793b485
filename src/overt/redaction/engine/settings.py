"""Named redaction settings: what detection, encoding and the leak check trade between
coverage and speed (issue 15), each knob with a title, a description and bounds.

Two settings are named, and chosen by measurement (docs/benchmarks.md):

- **coverage** (the default): the whole picture at up to 1280 px plus one zoomed tile
  in four per sampled frame, so faces down to about 20 px at 720p are found. Coverage
  wins where the two pull apart.
- **fast**: the picture at 640 px on every third frame, no tiles (faces under about
  40 px at 720p are missed), and the leak check on every fourth frame of the copy
  instead of every other one; for a quick look, or footage with only large faces.

`named(NAME)` gives one; `RedactionSettings(**values)` refuses unknown keys and values
out of bounds, so a typo never passes silently. The instance's choice for projects is
the `redaction_setting` configuration key (overt.conf); `overt redact --setting` picks
one for a single file, and its other flags override single knobs.
"""

from __future__ import annotations

from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError

X264Preset = Literal[
    "ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow"
]
X264_PRESETS: tuple[str, ...] = get_args(X264Preset)
SettingName = Literal["coverage", "fast"]
NAMES: tuple[str, ...] = get_args(SettingName)


class UnknownSetting(ValueError):
    """No such named setting, an unknown knob, or a value out of bounds."""


class RedactionSettings(BaseModel):
    """One redaction setting: every knob of detection, encoding and the leak check."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    stride: int = Field(
        default=3,
        ge=1,
        le=30,
        title="Detection stride",
        description="Faces are sought on every Nth frame; tracks (with motion prediction "
        "and the camera's own motion) cover the frames between.",
    )
    detect_width: int = Field(
        default=1280,
        ge=128,
        le=3840,
        title="Detection width",
        description="The longer side of the picture the face detector sees, in pixels "
        "(sides rounded up to multiples of 32).",
    )
    tiles: tuple[int, int] | None = Field(
        default=(2, 2),
        title="Zoomed tiles",
        description="COLS x ROWS: each sampled frame also looks at one of these tiles of the "
        "full-resolution picture, enlarged twice, in turn (for faces under about 40 px). "
        "None: no tiles.",
    )
    threads: int = Field(
        default=0,
        ge=0,
        le=64,
        title="Detector threads",
        description="onnxruntime's threads per inference; 0 means one per CPU core.",
    )
    preset: X264Preset = Field(
        default="veryfast",
        title="x264 preset",
        description="libx264's speed/size trade-off for the redacted copy (same quality "
        "target, crf; a faster preset gives a larger file).",
    )
    crf: int = Field(
        default=23,
        ge=0,
        le=51,
        title="x264 quality",
        description="libx264's constant rate factor: lower is better quality, larger files.",
    )
    leak_stride: int = Field(
        default=2,
        ge=1,
        le=10,
        title="Leak-check stride",
        description="The leak check looks at every Nth frame of the rendered copy.",
    )

    def engine_tiles(self) -> tuple[int, int] | None:
        return None if self.tiles is None else (int(self.tiles[0]), int(self.tiles[1]))

    def describe(self) -> dict[str, Any]:
        """The knobs as a manifest records them."""
        return {
            **self.model_dump(),
            "tiles": list(self.tiles) if self.tiles is not None else None,
        }


COVERAGE = RedactionSettings()
FAST = RedactionSettings(stride=3, detect_width=640, tiles=None, leak_stride=4)
NAMED: dict[str, RedactionSettings] = {"coverage": COVERAGE, "fast": FAST}


def bounds(knob: str) -> tuple[int, int]:
    """A numeric knob's (lowest, highest) allowed value, as the model declares it (for the
    CLI's own range checks, so the two can never disagree)."""
    meta = RedactionSettings.model_fields[knob].metadata
    low = next(m.ge for m in meta if hasattr(m, "ge"))
    high = next(m.le for m in meta if hasattr(m, "le"))
    return int(low), int(high)


def named(name: str, **overrides: Any) -> RedactionSettings:
    """A named setting, with single knobs overridden (each checked)."""
    try:
        base = NAMED[name]
    except KeyError:
        raise UnknownSetting(
            f"unknown redaction setting {name!r}: use one of {', '.join(NAMES)}"
        ) from None
    return build({**base.model_dump(), **overrides})


def build(values: dict[str, Any]) -> RedactionSettings:
    """A setting from a mapping: unknown keys and values out of bounds are refused."""
    try:
        return RedactionSettings(**values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '?'}: {e['msg']}" for e in exc.errors()
        )
        raise UnknownSetting(f"invalid redaction setting: {problems}") from None
