"""Speech to text, offline: decode a file's sound, skip silence (VAD), transcribe words.

Memory stays bounded whatever the length: the sound is decoded as a stream, resampled to
16 kHz mono, and transcribed in windows of about five minutes, each cut at the quietest
moment near its end so a word is not split. A 3-hour recording holds one window at a time.

Each outcome has a status a person can act on (see STATUSES); only a model that cannot
be loaded raises (ModelFileError), since nothing can be transcribed without it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path
from typing import Any

import av
import numpy as np

from .asr_models import MODELS, ModelSpec, model_directory, vad_path

RATE = 16_000
WINDOW_S = 300.0  # transcribed at a time
SEARCH_S = 20.0  # the cut is the quietest 0.2 s in the window's last SEARCH_S seconds
QUIET_S = 0.2
LOW_CONFIDENCE = 0.55  # mean word probability below this: not (clear) English speech

STATUSES = {
    "ok": "transcribed",
    "no-speech": "no speech found (silence or noise only)",
    "no-audio": "the file has no sound track",
    "unreadable-audio": "the sound track cannot be decoded",
    "low-confidence": "speech the model could not follow (another language, or too noisy)",
    "other-language": "speech in a language other than English",
}


@dataclass(frozen=True, slots=True)
class Word:
    word: str
    start: float
    end: float
    probability: float


@dataclass(frozen=True, slots=True)
class Segment:
    start: float
    end: float
    text: str


@dataclass(slots=True)
class Transcription:
    status: str
    language: str
    duration: float
    words: list[Word] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)
    language_probability: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.segments if s.text)

    @property
    def message(self) -> str:
        return STATUSES[self.status]

    def contract(self) -> dict[str, Any]:
        """The `overt transcribe --json` shape: exactly these keys (a published contract)."""
        return {
            "language": self.language,
            "duration": round(self.duration, 3),
            "text": self.text,
            "words": [
                {
                    "word": w.word,
                    "start": round(w.start, 3),
                    "end": round(w.end, 3),
                    "probability": round(w.probability, 4),
                }
                for w in self.words
            ],
        }


@dataclass(frozen=True, slots=True)
class Engine:
    """Which model on which device, and the loaded model."""

    spec: ModelSpec
    device: str
    threads: int
    model: Any  # faster_whisper.WhisperModel

    def provenance(self) -> dict[str, Any]:
        return {
            "model": self.spec.name,
            "model_description": self.spec.description,
            "model_packages": list(self.spec.packages),
            "model_sha256": self.spec.fingerprint,
            "device": self.device,
            "faster_whisper": version("faster-whisper"),
            "ctranslate2": version("ctranslate2"),
            "av": version("av"),
            "vad": "silero_vad_v6.onnx",
        }


def pick_device(setting: str) -> str:
    if setting != "auto":
        return setting
    import ctranslate2  # type: ignore[import-untyped]

    return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"


def load_engine(name: str, *, device: str, threads: int, work_dir: Path) -> Engine:
    """The model `name` (see MODELS), every file hash-checked; loaded once per process."""
    spec = MODELS[name]
    directory = model_directory(spec, work_dir)  # raises ModelFileError naming a file
    vad_path()
    chosen = pick_device(device)
    return Engine(spec, chosen, threads, _load(str(directory), chosen, threads))


@lru_cache(maxsize=2)
def _load(directory: str, device: str, threads: int) -> Any:
    os.environ["HF_HUB_OFFLINE"] = "1"
    from faster_whisper import WhisperModel  # type: ignore[import-untyped]

    compute = "float16" if device == "cuda" else "int8"
    return WhisperModel(
        directory, device=device, compute_type=compute, cpu_threads=threads, local_files_only=True
    )


class _NoAudio(Exception):
    pass


def transcribe_file(
    engine: Engine, path: Path, progress: Callable[[float], None] | None = None
) -> Transcription:
    """Transcribe the first sound track of `path`. Never raises for what is in the file."""
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError) as exc:
        return Transcription("unreadable-audio", "", 0.0, problems=[_short(exc)])
    with container:
        if not container.streams.audio:
            return Transcription("no-audio", "", _container_seconds(container))
        total = _container_seconds(container)
        problems: list[str] = []
        result = Transcription("ok", "en" if engine.spec.english_only else "", 0.0)
        decoded = 0
        for offset, samples in _windows(container, problems):
            decoded += len(samples)
            _transcribe_window(engine, samples, offset, result)
            if progress is not None and total > 0:
                progress(min(1.0, decoded / RATE / total))
    result.duration = decoded / RATE
    result.problems = problems
    result.status = _status(result, engine.spec, decoded)
    return result


def transcribe_samples(engine: Engine, samples: np.ndarray) -> Transcription:
    """Transcribe 16 kHz mono float32 samples (the benchmark's plain path shares this)."""
    result = Transcription("ok", "en" if engine.spec.english_only else "", len(samples) / RATE)
    _transcribe_window(engine, samples, 0.0, result)
    result.status = _status(result, engine.spec, len(samples))
    return result


def _transcribe_window(
    engine: Engine, samples: np.ndarray, offset: float, into: Transcription
) -> None:
    language = into.language or None
    segments, info = engine.model.transcribe(
        samples,
        language=language,
        vad_filter=True,
        word_timestamps=True,
        beam_size=1,
        condition_on_previous_text=False,  # a hallucination cannot feed the next window
    )
    for segment in segments:
        text = segment.text.strip()
        if not text:
            continue
        into.segments.append(Segment(offset + segment.start, offset + segment.end, text))
        for w in segment.words or []:
            word = w.word.strip()
            if word:
                into.words.append(Word(word, offset + w.start, offset + w.end, w.probability))
    if not into.language and into.segments:  # the first window with speech decides
        into.language = info.language
        into.language_probability = float(info.language_probability)
    elif engine.spec.english_only:
        into.language_probability = 1.0


def _status(result: Transcription, spec: ModelSpec, decoded: int) -> str:
    if decoded == 0:
        return "unreadable-audio"
    if not result.words:
        return "no-speech"
    if result.language and result.language != "en":
        return "other-language"
    mean = sum(w.probability for w in result.words) / len(result.words)
    if mean < LOW_CONFIDENCE:
        return "low-confidence"
    return "ok"


def _windows(container: Any, problems: list[str]) -> Iterator[tuple[float, np.ndarray]]:
    """(offset s, samples) windows of about WINDOW_S, each cut at a quiet moment."""
    window = int(WINDOW_S * RATE)
    search = int(SEARCH_S * RATE)
    pending: list[np.ndarray] = []
    held = 0
    emitted = 0
    for chunk in _decode(container, problems):
        pending.append(chunk)
        held += len(chunk)
        if held < window + search:
            continue
        buffer = np.concatenate(pending)
        cut = _quiet_cut(buffer, window - search, window)
        yield emitted / RATE, buffer[:cut]
        emitted += cut
        pending, held = [buffer[cut:]], len(buffer) - cut
    if held:
        yield emitted / RATE, np.concatenate(pending)


def _quiet_cut(buffer: np.ndarray, low: int, high: int) -> int:
    step = int(QUIET_S * RATE)
    region = buffer[low:high]
    usable = len(region) // step * step
    if usable == 0:
        return high
    energy = np.square(region[:usable].reshape(-1, step)).mean(axis=1)
    return low + int(np.argmin(energy)) * step + step // 2


def _decode(container: Any, problems: list[str]) -> Iterator[np.ndarray]:
    stream = container.streams.audio[0]
    resampler = av.AudioResampler(format="flt", layout="mono", rate=RATE)
    bad = 0
    try:
        for packet in container.demux(stream):
            try:
                frames = packet.decode()
            except av.error.FFmpegError as exc:  # a damaged packet: skip it, keep going
                bad += 1
                if bad == 1:
                    problems.append(f"damaged audio skipped: {_short(exc)}")
                continue
            for frame in frames:
                for out in resampler.resample(frame):
                    yield out.to_ndarray().reshape(-1).astype(np.float32, copy=False)
        for out in resampler.resample(None):
            yield out.to_ndarray().reshape(-1).astype(np.float32, copy=False)
    except av.error.FFmpegError as exc:  # the container itself breaks off (truncated)
        problems.append(f"audio ends early: {_short(exc)}")
    if bad > 1:
        problems.append(f"{bad} damaged audio packets skipped in all")


def _container_seconds(container: Any) -> float:
    if container.duration:
        return float(container.duration / av.time_base)
    return 0.0


def _short(exc: BaseException) -> str:
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__


def configured_engine(model: str | None = None) -> Engine:
    """The engine the settings choose (OVERT_TRANSCRIPT_MODEL, _THREADS, _DEVICE)."""
    from overt.conf import get_settings

    settings = get_settings()
    return load_engine(
        model or settings.transcript_model,
        device=settings.transcript_device,
        threads=settings.transcript_threads,
        work_dir=settings.home_dir / "models",
    )
