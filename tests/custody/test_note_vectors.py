"""The published signed-note vectors (Go's sumdb/note, C2SP signed-note), and the notes the
C2SP specs refuse, against both of overt's readers: the library (overt.custody.note and
.checkpoint) and the standalone verifier that travels with every report (overt_verify.py).

The vector data is in data/sumdb_note_vectors.json, which names its sources.
"""

from __future__ import annotations

import base64
import importlib.util
import json
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

from overt.custody import checkpoint as tlog
from overt.custody import note

VECTORS = json.loads((Path(__file__).parent / "data" / "sumdb_note_vectors.json").read_text())
TEXT, PETER_SIG, ENOCH_SIG = VECTORS["text"], VECTORS["peter_sig"], VECTORS["enoch_sig"]
VERIFIER_PATH = Path(__file__).parents[2] / "tools" / "overt_verify.py"


@pytest.fixture(scope="module")
def standalone() -> ModuleType:
    spec = importlib.util.spec_from_file_location("overt_verify_under_test", VERIFIER_PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _library_opens(signed: str, vkey: str) -> str:
    return note.open_note(signed, [vkey])[0]


def _standalone_opener(module: ModuleType) -> Callable[[str, str], str]:
    def opens(signed: str, vkey: str) -> str:
        return module.open_signed_note(signed, *module.parse_verifier_key(vkey))

    return opens


def _openers(module: ModuleType) -> list[tuple[Callable[[str, str], str], type[Exception]]]:
    return [(_library_opens, note.NoteError), (_standalone_opener(module), module.Failure)]


def _splice_abcd(line: str) -> str:
    """The Go test's corruption: "ABCD" inserted at byte 60 of a signature line."""
    raw = line.encode("utf-8")
    return (raw[:60] + b"ABCD" + raw[60:]).decode("utf-8")


def _sign_raw(text: str, name: str = "PeterNeumann") -> str:
    """Sign any text, even one the signer refuses, to see what a reader does with it."""
    _, private_key = note.parse_signer_key(VECTORS["peter_skey"])
    key_id = bytes.fromhex(VECTORS["peter_vkey"].split("+")[1])
    signature = base64.b64encode(key_id + private_key.sign(text.encode("utf-8"))).decode()
    return f"{text}\n— {name} {signature}\n"


def test_published_notes_open_with_both_readers(standalone: ModuleType) -> None:
    for opens, _ in _openers(standalone):
        assert opens(TEXT + "\n" + PETER_SIG + ENOCH_SIG, VECTORS["peter_vkey"]) == TEXT
        assert opens(TEXT + "\n" + ENOCH_SIG + PETER_SIG, VECTORS["peter_vkey"]) == TEXT
        assert opens(TEXT + "\n" + PETER_SIG, VECTORS["peter_vkey"]) == TEXT
        example = VECTORS["c2sp_example"]
        assert opens(example["note"], example["vkey"]) == "This is an example message.\n"
    _, private_key = note.parse_signer_key(VECTORS["peter_skey"])
    assert note.sign_note(TEXT, "PeterNeumann", private_key) == TEXT + "\n" + PETER_SIG


@pytest.mark.parametrize(
    "signed",
    [
        TEXT,
        TEXT + "\n",
        TEXT + "\n" + PETER_SIG[:-1],
        "\x01" + TEXT + "\n" + PETER_SIG,
        TEXT + "\n" + "— Bad Name " + PETER_SIG.split(" ", 2)[2],
        TEXT + "\n" + PETER_SIG + "Unexpected line.\n",
        TEXT + "\n" + PETER_SIG * 101,  # more than 100 signatures
        TEXT + "\n" + _splice_abcd(PETER_SIG),  # a bad signature by the known key
        TEXT + "\n" + ENOCH_SIG,  # no signature by the known key
    ],
    ids=[
        "no-signatures",
        "blank-line-only",
        "no-final-newline",
        "control-character",
        "space-in-key-name",
        "unexpected-line",
        "101-signatures",
        "invalid-signature",
        "unknown-signer-only",
    ],
)
def test_published_bad_notes_are_refused_by_both_readers(
    standalone: ModuleType, signed: str
) -> None:
    for opens, error in _openers(standalone):
        with pytest.raises(error):
            opens(signed, VECTORS["peter_vkey"])


def test_a_hundred_signatures_are_still_accepted(standalone: ModuleType) -> None:
    for opens, _ in _openers(standalone):
        assert opens(TEXT + "\n" + PETER_SIG * 100, VECTORS["peter_vkey"]) == TEXT


def test_invalid_utf8_is_refused_by_the_library() -> None:
    signed = ("\xff" + TEXT + "\n" + PETER_SIG).encode("utf-8").replace(b"\xc3\xbf", b"\xff")
    with pytest.raises(note.NoteError):
        note.open_note(signed, [VECTORS["peter_vkey"]])


def _manglings(key: str) -> list[str]:
    """Go's TestNewVerifier manglings: every proper substring, and every byte plus one."""
    raw = key.encode("utf-8")
    out = {raw[i:j] for i in range(len(raw) + 1) for j in range(i + 1, len(raw) + 1)}
    out.discard(raw)
    for i in range(len(raw)):
        out.add(raw[:i] + bytes([(raw[i] + 1) % 256]) + raw[i + 1 :])
    return sorted(m.decode("utf-8", "replace") for m in out)


def test_mangled_and_published_bad_verifier_keys_are_refused(standalone: ModuleType) -> None:
    good = VECTORS["peter_vkey"]
    upper = good.replace("c74f20a3", "C74F20A3")  # C2SP: key IDs are lowercase hex
    for bad in [*_manglings(good), *VECTORS["bad_vkeys"], upper]:
        with pytest.raises(note.NoteError):
            note.parse_verifier_key(bad)
        with pytest.raises(standalone.Failure):
            standalone.parse_verifier_key(bad)


def _checkpoint_text(origin: str, size: str) -> str:
    return f"{origin}\n{size}\n{base64.b64encode(bytes(32)).decode()}\n"


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        (_checkpoint_text("example.com/log", "18446744073709551615"), True),  # 2^64 - 1
        (_checkpoint_text("example.com/log", "18446744073709551616"), False),  # 2^64
        (_checkpoint_text("example.com/log", "0"), True),
        (_checkpoint_text("example.com/log", "007"), False),
        (_checkpoint_text("example.com/log", "-1"), False),
        (_checkpoint_text("example.com/log", "\uff11"), False),  # a fullwidth digit one
        (_checkpoint_text("", "5"), False),  # an empty origin
        (_checkpoint_text("example.com/log", "5") + "\n", False),  # an empty extension line
        (_checkpoint_text("example.com/\rlog", "5"), False),  # a control character
        (_checkpoint_text("example.com/\tlog", "5"), False),
    ],
)
def test_checkpoints_the_c2sp_specs_refuse(standalone: ModuleType, text: str, valid: bool) -> None:
    signed = _sign_raw(text)
    key = VECTORS["peter_vkey"]
    if valid:
        assert tlog.verify(signed, key).size == int(text.split("\n")[1])
        opened = standalone.open_signed_note(signed, *standalone.parse_verifier_key(key))
        assert standalone.parse_checkpoint(opened)[1] == int(text.split("\n")[1])
        return
    with pytest.raises(note.NoteError):
        tlog.verify(signed, key)
    with pytest.raises(standalone.Failure):
        opened = standalone.open_signed_note(signed, *standalone.parse_verifier_key(key))
        standalone.parse_checkpoint(opened)
