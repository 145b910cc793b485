#!/usr/bin/env python3
"""overt_verify_capture.py: check what a camera signed at the lens, offline, without overt.

Usage:
    python3 overt_verify_capture.py capture/capture.json [--originals DIR]

Needs Python 3.9 or later and the `cryptography` package, nothing else. It is one file of
some 460 lines (over the 400 lines overt's modules keep to) so that it can be copied into a
package beside overt_verify.py and read in full. The same rules
decide `capture_signature` when overt ingests a recording (overt.ingest.capture imports
this file), so the server's verdict and yours come from one text, which you can read here.

An overt camera agent writes, for every closed segment of a recording, a manifest
(`overt-capture-manifest/1`, JSON, signed as its exact bytes with the device's Ed25519
key). The rules:
 - signature: each manifest verifies under a key the force enrolled for that device, and
   that key was valid when the segment ended (with the device's clock offset, if known);
 - hash: the stored file is the one signed (SHA-256 and size);
 - chain: each manifest names the SHA-256 of the one before it (previous_manifest_sha256),
   across segments and across the device's recordings; segments run 0, 1, 2 ... with no
   repeat and no hole, end with a final (or interrupted) one, and their times only move
   forward; the device's recording numbers (device_sequence) run on without a gap.
Verdicts: broken (a signature, key, hash or link does not hold) beats gap (something is
missing) beats unsigned (a file has no manifest) beats verified. An interrupted
recording (ended by a crash or power cut) can be verified, and says "interrupted".

In an exhibit package, `capture/capture.json` lists each original with its manifest and
signature files (beside it in capture/), the device's keys with their validity, and what
the server knew of the device's other recordings. This checker recomputes the verdict from
those files (and, with --originals, each original's bytes) and compares it with the one
the server stated. Exit status 0 when they agree and every file is as listed, else 1.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
except ImportError:  # pragma: no cover - said plainly to the person running it
    sys.stderr.write("This checker needs the 'cryptography' package: pip install cryptography\n")
    sys.exit(1)

MANIFEST_FORMAT = "overt-capture-manifest/1"
PACKAGE_FORMAT = "overt-capture-evidence/1"
VERIFIED, UNSIGNED, GAP, BROKEN = "verified", "unsigned", "gap", "broken"
RANK = {VERIFIED: 0, UNSIGNED: 1, GAP: 2, BROKEN: 3}
INTERRUPTED = "interrupted: the recording was ended by a crash or power loss"
KEY_SLACK = timedelta(minutes=5)  # a device clock a little off its last offset
TIME_SLACK = timedelta(seconds=1)  # segments split at a keyframe may overlap by a frame


@dataclass(frozen=True)
class Key:
    """A signing key the force enrolled for the device, and when it was the device's."""

    key_id: str
    public_key: bytes  # raw 32-byte Ed25519
    valid_from: datetime
    valid_until: datetime | None = None


@dataclass(frozen=True)
class Segment:
    """One stored file of the recording and the manifest its upload named, if any."""

    sha256: str  # of the stored bytes
    size: int
    manifest: bytes | None = None  # the exact bytes received
    signature: bytes | None = None
    manifest_sha256: str = ""  # what the upload named, even if it never arrived
    label: str = ""


@dataclass(frozen=True)
class DeviceChain:
    """What the server holds of the device's other recordings (validly signed manifests):
    manifest SHA-256 -> (device_sequence, ended the recording), and the sequences taken."""

    manifests: Mapping[str, tuple[int, bool]] = field(default_factory=dict)
    other_sequences: Collection[int] = ()


@dataclass(frozen=True)
class Verdict:
    capture_signature: str
    problems: list[str]
    segments: list[tuple[str, list[str]]]  # per input segment: its own verdict and problems
    facts: dict[str, Any]  # from the manifests that hold: times, pre-event, GPS, triggers


def key_id_of(public_key: bytes) -> str:
    return hashlib.sha256(public_key).hexdigest()[:16]


def parse_time(value: object) -> datetime:
    """An RFC 3339 UTC time ending in Z (any number of fractional digits, kept to 6)."""
    if not isinstance(value, str) or not value.endswith("Z") or "T" not in value:
        raise ValueError(f"{value!r} is not an RFC 3339 UTC time ending in Z")
    whole, _, frac = value[:-1].partition(".")
    if frac and not frac.isdigit():
        raise ValueError(f"{value!r} is not an RFC 3339 UTC time ending in Z")
    text = whole + (f".{frac[:6]:0<6}" if frac else "") + "+00:00"
    try:
        return datetime.fromisoformat(text).astimezone(timezone.utc)  # noqa: UP017 (3.9)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not an RFC 3339 UTC time ending in Z") from exc


def _typed(body: Mapping[str, Any], name: str, kinds: tuple[type, ...]) -> Any:
    value = body.get(name)
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        raise ValueError(f"{name} is missing or of the wrong type")
    return value


def parse_manifest(data: bytes) -> dict[str, Any]:
    """The manifest's fields, checked for type; ValueError says what is wrong."""
    try:
        body = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ValueError(f"not UTF-8 JSON ({type(exc).__name__})") from exc
    if not isinstance(body, dict) or body.get("format") != MANIFEST_FORMAT:
        raise ValueError(f"not an {MANIFEST_FORMAT} object")
    for name in ("device_serial", "key_id", "recording_id", "sha256", "agent_version"):
        _typed(body, name, (str,))
    for name in ("segment", "device_sequence", "size"):
        if not 0 <= _typed(body, name, (int,)) < 2**63:
            raise ValueError(f"{name} is negative or too large")
    for name in ("final", "interrupted", "audio_in_buffer"):
        _typed(body, name, (bool,))
    _number(body, "pre_event_seconds")
    _typed(body, "triggers", (list,))
    _typed(body, "gps", (list,))
    for name in ("previous_manifest_sha256", "clock_offset_s"):
        if name not in body:
            raise ValueError(f"{name} is missing (it may be null, not absent)")
    previous = body["previous_manifest_sha256"]
    if previous is not None and not isinstance(previous, str):
        raise ValueError("previous_manifest_sha256 is neither a string nor null")
    if body["clock_offset_s"] is not None:
        _number(body, "clock_offset_s")
    body["_started"] = parse_time(body.get("started_at"))
    body["_ended"] = parse_time(body.get("ended_at"))
    return body


def _number(body: dict[str, Any], name: str) -> None:
    """A finite number within a day's seconds either way (kept as a float)."""
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} is missing or not a number")
    try:
        number = float(value)
    except OverflowError as exc:
        raise ValueError(f"{name} is out of range") from exc
    if not -86400 <= number <= 86400:  # also refuses NaN and infinities
        raise ValueError(f"{name} is out of range")
    body[name] = number


def signature_problem(
    body: Mapping[str, Any], data: bytes, signature: bytes | None, keys: Sequence[Key]
) -> str | None:
    """Why the signature does not hold, or None when it does (by a key valid then)."""
    key = next((k for k in keys if k.key_id == body["key_id"]), None)
    if key is None:
        return f"signed by key {body['key_id']}, which is not a key enrolled for this device"
    try:
        Ed25519PublicKey.from_public_bytes(key.public_key).verify(signature or b"", data)
    except (InvalidSignature, ValueError):
        return f"the signature does not verify under key {key.key_id}"
    # Timestamps, not datetimes: a manifest's time may sit at the calendar's edge.
    slack = KEY_SLACK.total_seconds()
    signed_at = body["_ended"].timestamp() - (body.get("clock_offset_s") or 0)
    late = key.valid_until is not None and signed_at > key.valid_until.timestamp() + slack
    if signed_at < key.valid_from.timestamp() - slack or late:
        until = key.valid_until.isoformat() if key.valid_until else "now"
        return (
            f"signed by key {key.key_id} at {body['ended_at']} (device clock), outside its "
            f"validity ({key.valid_from.isoformat()} to {until})"
        )
    return None


def verify_recording(
    serial: str, keys: Sequence[Key], segments: Sequence[Segment], chain: DeviceChain | None = None
) -> Verdict:
    """The capture signature of one recording's segments (any order)."""
    chain = chain or DeviceChain()
    found: list[tuple[str, int | None, str]] = []  # verdict, segment index or None, text

    def flag(verdict: str, index: int | None, text: str) -> None:
        found.append((verdict, index, text))

    parsed: dict[int, dict[str, Any]] = {}
    for i, seg in enumerate(segments):
        name = seg.label or seg.sha256[:12]
        if seg.manifest is None:
            named = f" (its upload named manifest {seg.manifest_sha256}, never received)"
            flag(
                UNSIGNED,
                i,
                f"file {name} has no capture manifest" + (named if seg.manifest_sha256 else ""),
            )
            continue
        try:
            body = parse_manifest(seg.manifest)
        except ValueError as exc:
            flag(BROKEN, i, f"file {name}: its manifest is unreadable: {exc}")
            continue
        name = f"segment {body['segment']}"
        if body["device_serial"] != serial:
            flag(BROKEN, i, f"{name} names device {body['device_serial']!r}, not {serial!r}")
        why = signature_problem(body, seg.manifest, seg.signature, keys)
        if why:
            flag(BROKEN, i, f"{name}: {why}")
        sealed = body.get("encryption") if isinstance(body.get("encryption"), dict) else None
        if sealed and seg.sha256 == sealed.get("sealed_sha256"):  # intact, but not opened
            flag(BROKEN, i, f"{name}: stored as sealed on the device; this server could not "
                 f"open it (key {sealed.get('server_key_id')!r} is not its key?)")  # fmt: skip
        elif body["sha256"] != seg.sha256 or body["size"] != seg.size:
            flag(
                BROKEN,
                i,
                f"{name}: the stored file (SHA-256 {seg.sha256}) is not the one "
                f"signed ({body['sha256']}): altered after capture"
                + (" (sealed at rest: it did not decrypt; kept as received)" if sealed else ""),
            )
        if body["_ended"] < body["_started"]:
            flag(BROKEN, i, f"{name} ends before it starts")
        body["_sha"] = hashlib.sha256(seg.manifest).hexdigest()
        parsed[i] = body
    _check_recording(parsed, chain, flag)
    return _combine(segments, parsed, found)


def _check_recording(
    parsed: Mapping[int, dict[str, Any]],
    chain: DeviceChain,
    flag: Callable[[str, int | None, str], None],
) -> None:
    if not parsed:
        return
    by_number: dict[int, int] = {}
    for i, body in sorted(parsed.items(), key=lambda kv: kv[1]["segment"]):
        if body["segment"] in by_number:
            flag(BROKEN, i, f"segment {body['segment']} appears more than once")
        else:
            by_number[body["segment"]] = i
    for what in ("recording_id", "device_sequence"):
        if len({b[what] for b in parsed.values()}) > 1:
            flag(BROKEN, None, f"the segments disagree on their {what}")
    last = max(by_number)
    previous_number = -1
    for number in sorted(by_number):  # the holes between the numbers present
        if number == previous_number + 2:
            flag(GAP, None, f"segment {number - 1} is missing")
        elif number > previous_number + 2:
            flag(GAP, None, f"segments {previous_number + 1} to {number - 1} are missing")
        previous_number = number
    ends = [
        n
        for n, i in by_number.items()
        if parsed[by_number[n]]["final"] or parsed[by_number[n]]["interrupted"]
    ]
    if not ends:
        flag(GAP, None, f"no final segment: segments after {last} have not arrived")
    for n in ends:
        if n != last:
            flag(
                BROKEN,
                by_number[n],
                f"segment {n} ends the recording, but segment {last} follows it",
            )
    if any(parsed[by_number[n]]["interrupted"] for n in ends):
        flag(VERIFIED, None, INTERRUPTED)
    for n in sorted(by_number)[1:]:
        body, before = parsed[by_number[n]], parsed.get(by_number.get(n - 1, -1))
        if before is None:
            continue
        if body["previous_manifest_sha256"] != before["_sha"]:
            flag(
                BROKEN,
                by_number[n],
                f"segment {n} does not follow segment {n - 1}: the "
                "chain of manifests is broken (reordered, replaced or altered)",
            )
        if (
            body["_started"] < before["_started"]
            or body["_ended"] < before["_ended"]
            or body["_started"].timestamp() + TIME_SLACK.total_seconds()
            < before["_ended"].timestamp()
        ):
            flag(BROKEN, by_number[n], f"segment {n}'s times go back before segment {n - 1}'s")
    if 0 in by_number:
        _check_link(parsed[by_number[0]], by_number[0], chain, flag)


def _check_link(
    first: Mapping[str, Any],
    index: int,
    chain: DeviceChain,
    flag: Callable[[str, int | None, str], None],
) -> None:
    """Segment 0 against the device's recording before it (device_sequence - 1)."""
    sequence, previous = first["device_sequence"], first["previous_manifest_sha256"]
    if sequence in chain.other_sequences:
        flag(BROKEN, index, f"device_sequence {sequence} is used by another recording too")
    if sequence < 1:
        flag(BROKEN, index, "device_sequence must start at 1")
    elif sequence == 1:
        if previous is not None:
            flag(BROKEN, index, "the device's first recording names a manifest before it")
    elif previous is None:
        flag(BROKEN, index, f"recording {sequence} of the device names no manifest before it")
    elif previous not in chain.manifests:
        flag(
            GAP,
            None,
            f"the device's recording {sequence - 1} before this one has not been "
            f"received (manifest {previous})",
        )
    else:
        number, ended = chain.manifests[previous]
        if number != sequence - 1 or not ended:
            flag(
                BROKEN,
                index,
                f"segment 0 links to a manifest of recording {number}, not "
                f"the end of recording {sequence - 1}",
            )


def _combine(
    segments: Sequence[Segment],
    parsed: Mapping[int, dict[str, Any]],
    found: Sequence[tuple[str, int | None, str]],
) -> Verdict:
    def worst(items: Sequence[tuple[str, int | None, str]]) -> str:
        return max((v for v, _, _ in items), key=RANK.__getitem__, default=VERIFIED)

    per = []
    for i in range(len(segments)):
        own = [f for f in found if f[1] == i]
        per.append((worst(own), [t for _, _, t in own]))
    problems = list(dict.fromkeys(t for _, _, t in found))
    return Verdict(worst(found) if segments else UNSIGNED, problems, per, _facts(parsed, found))


def _facts(
    parsed: Mapping[int, dict[str, Any]], found: Sequence[tuple[str, int | None, str]]
) -> dict[str, Any]:
    """What the holding manifests say of the recording (broken ones are not believed)."""
    broken = {i for v, i, _ in found if v == BROKEN}
    good = sorted((b for i, b in parsed.items() if i not in broken), key=lambda b: b["segment"])
    if not good:
        return {}
    first, last = good[0], good[-1]
    gps = [p for b in good for p in b["gps"] if isinstance(p, dict)]
    return {
        "recording_id": first["recording_id"],
        "device_sequence": first["device_sequence"],
        "started_at": first["_started"] if first["segment"] == 0 else None,
        "ended_at": last["_ended"] if last["final"] or last["interrupted"] else None,
        "pre_event_seconds": float(first["pre_event_seconds"]) if first["segment"] == 0 else None,
        "clock_offset_s": last.get("clock_offset_s"),
        "gps": gps,
        "triggers": [t for b in good for t in b["triggers"] if isinstance(t, dict)],
        "interrupted": any(b["interrupted"] for b in good),
    }


# --- offline check of an exhibit package's capture/ folder -------------------------------


def _sha256_file(path: str) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _read(folder: str, name: object) -> bytes | None:
    if not isinstance(name, str) or not name or os.sep in name or name.startswith("."):
        return None
    try:
        with open(os.path.join(folder, name), "rb") as fh:
            return fh.read()
    except OSError:
        return None


def check_capture(
    path: str, originals_dir: str | None, ok: Callable[[str], None], fail: Callable[[str], None]
) -> None:
    """Recompute the verdict of capture.json at `path`, reporting through ok/fail."""
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
        if not isinstance(data, dict) or data.get("format") != PACKAGE_FORMAT:
            raise ValueError(f"not an {PACKAGE_FORMAT} file")
        keys = [
            Key(
                k["key_id"],
                bytes.fromhex(k["public_key"]),
                parse_time(k["valid_from"]),
                parse_time(k["valid_until"]) if k.get("valid_until") else None,
            )
            for k in data["keys"]
        ]
        chain = DeviceChain(
            {
                m["sha256"]: (m["device_sequence"], m["ended"])
                for m in data["device_chain"]["manifests"]
            },
            set(data["device_chain"]["other_sequences"]),
        )
        listed = data["originals"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        fail(f"capture evidence {path}: cannot be read ({exc})")
        return
    folder = os.path.dirname(os.path.abspath(path))
    segments = []
    for item in listed:
        manifest, signature = (
            _read(folder, item.get("manifest")),
            _read(folder, item.get("signature")),
        )
        if item.get("manifest") and manifest is None:
            fail(f"capture: {item.get('manifest')} is listed but missing from the package")
        if manifest is not None and hashlib.sha256(manifest).hexdigest() != item.get(
            "manifest_sha256"
        ):
            fail(f"capture: {item.get('manifest')} does not hash to its listed SHA-256")
        sha, size = str(item.get("sha256")), int(item.get("size", -1))
        if originals_dir and item.get("path"):
            try:
                got = _sha256_file(os.path.join(originals_dir, os.path.basename(item["path"])))
            except OSError as exc:
                fail(f"capture: original {item['path']} cannot be read ({exc.strerror})")
            else:
                if got != (sha, size):
                    fail(f"capture: original {item['path']} is not the listed file")
                sha, size = got
        segments.append(
            Segment(
                sha,
                size,
                manifest,
                signature,
                str(item.get("manifest_sha256") or ""),
                str(item.get("filename")),
            )
        )
    verdict = verify_recording(str(data.get("device_serial")), keys, segments, chain)
    for problem in verdict.problems:
        print(f"NOTE  capture: {problem}")
    stated = data.get("capture_signature")
    if verdict.capture_signature != stated:
        fail(
            f"capture signature: recomputed {verdict.capture_signature!r}, the server stated "
            f"{stated!r}"
        )
    else:
        ok(
            f"capture signature of recording {data.get('recording')} recomputed from "
            f"{len(segments)} file(s) and their signed manifests: {stated}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check capture signatures offline.")
    parser.add_argument("capture", help="the capture/capture.json file of an exhibit package")
    parser.add_argument("--originals", help="the folder of the original files, to hash them")
    args = parser.parse_args(argv)
    failures: list[str] = []

    def fail(message: str) -> None:
        failures.append(message)
        print(f"FAIL  {message}")

    check_capture(args.capture, args.originals, lambda m: print(f"PASS  {m}"), fail)
    print("VERDICT: " + ("FAIL" if failures else "PASS"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
