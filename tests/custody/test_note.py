"""C2SP signed notes, checked byte for byte against golang.org/x/mod/sumdb/note."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from overt.custody.note import (
    InvalidKeyError,
    InvalidSignatureError,
    NoteError,
    Signature,
    UnverifiedNoteError,
    Verifier,
    is_valid_key_name,
    key_hash,
    open_note,
    parse_signer_key,
    parse_verifier_key,
    sign_note,
    signer_key,
    verifier_key,
)

# --- Vectors ---------------------------------------------------------------------------------
# Source: go.googlesource.com/mod (github.com/golang/mod), sumdb/note/note_test.go:
# TestNewVerifier, TestNewSigner, TestSign, TestVerifierList and TestOpen.

PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_B64 = (
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="
)
ENOCH_B64 = (
    "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ="
)
PETER_SIG = f"— PeterNeumann {PETER_B64}\n"
ENOCH_SIG = f"— EnochRoot {ENOCH_B64}\n"


def splice_abcd(line: str) -> str:
    """The Go test's corruption: insert "ABCD" at byte 60 of a UTF-8 signature line."""
    raw = line.encode("utf-8")
    return (raw[:60] + b"ABCD" + raw[60:]).decode("utf-8")


# --- Keys ----------------------------------------------------------------------------------------


def test_go_verifier_key_parses_and_round_trips() -> None:
    verifier = parse_verifier_key(PETER_VKEY)
    assert verifier.name == "PeterNeumann"
    assert verifier.key_id == 0xC74F20A3
    assert key_hash("PeterNeumann", verifier.public_key.public_bytes_raw()) == 0xC74F20A3
    assert verifier_key("PeterNeumann", verifier.public_key) == PETER_VKEY
    assert str(verifier) == PETER_VKEY


def test_go_signer_key_parses_and_round_trips() -> None:
    name, private_key = parse_signer_key(PETER_SKEY)
    assert name == "PeterNeumann"
    assert signer_key(name, private_key) == PETER_SKEY
    assert verifier_key(name, private_key.public_key()) == PETER_VKEY


def _manglings(key: str) -> list[str]:
    """Every proper substring and every single-byte increment (as TestNewVerifier does)."""
    raw = key.encode("ascii")
    out = {raw[i:j] for i in range(len(raw) + 1) for j in range(i + 1, len(raw) + 1)}
    out.discard(raw)
    for i in range(len(raw)):
        out.add(raw[:i] + bytes([raw[i] + 1]) + raw[i + 1 :])
    return sorted(m.decode("latin-1") for m in out)


def test_mangled_verifier_keys_are_rejected() -> None:
    accepted = []
    for mangled in _manglings(PETER_VKEY):
        try:
            parse_verifier_key(mangled)
            accepted.append(mangled)
        except InvalidKeyError:
            pass
    assert accepted == []


@pytest.mark.parametrize(
    "bad",
    [
        # wrong length key, with adjusted key hash
        "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
        # unknown algorithm, with adjusted key hash
        "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "",
        "PeterNeumann",
        "PeterNeumann+0xc74f20+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        " PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    ],
)
def test_bad_verifier_keys(bad: str) -> None:
    with pytest.raises(InvalidKeyError):
        parse_verifier_key(bad)


def test_mangled_signer_keys_are_rejected() -> None:
    accepted = []
    for mangled in _manglings(PETER_SKEY):
        try:
            parse_signer_key(mangled)
            accepted.append(mangled)
        except InvalidKeyError:
            pass
    assert accepted == []


@pytest.mark.parametrize("name", ["", "a b", "a+b", "a\tb", "a\u00a0b", "a\u2003b", "a\nb"])
def test_invalid_key_names(name: str) -> None:
    key = Ed25519PrivateKey.generate()
    assert not is_valid_key_name(name)
    with pytest.raises(InvalidKeyError):
        verifier_key(name, key.public_key())
    with pytest.raises(InvalidKeyError):
        signer_key(name, key)
    with pytest.raises(NoteError):
        sign_note(TEXT, name, key)


def test_generated_keys_are_self_consistent() -> None:
    key = Ed25519PrivateKey.generate()
    name, restored = parse_signer_key(signer_key("overt.example/custody", key))
    assert name == "overt.example/custody"
    verifier = parse_verifier_key(verifier_key(name, restored.public_key()))
    assert verifier == Verifier.from_public_key(name, key.public_key())
    assert open_note(sign_note("hi\n", name, restored), [verifier]) == ("hi\n", [name])


# --- Signing ---------------------------------------------------------------------------------


def test_sign_matches_go_byte_for_byte() -> None:
    name, private_key = parse_signer_key(PETER_SKEY)
    assert sign_note(TEXT, name, private_key) == f"{TEXT}\n{PETER_SIG}"


@pytest.mark.parametrize("text", ["abc", "", "line\x01\n", "tab\tis a control char\n"])
def test_sign_rejects_malformed_text(text: str) -> None:
    name, private_key = parse_signer_key(PETER_SKEY)
    with pytest.raises(NoteError):
        sign_note(text, name, private_key)


# --- Opening ---------------------------------------------------------------------------------


def test_open_one_verified_one_unknown() -> None:
    text, names = open_note(f"{TEXT}\n{PETER_SIG}{ENOCH_SIG}", [PETER_VKEY])
    assert text == TEXT
    assert names == ["PeterNeumann"]


def test_open_both_verified() -> None:
    note = f"{TEXT}\n{PETER_SIG}{ENOCH_SIG}"
    assert open_note(note, [PETER_VKEY, ENOCH_VKEY]) == (TEXT, ["PeterNeumann", "EnochRoot"])
    assert open_note(note.encode("utf-8"), [parse_verifier_key(ENOCH_VKEY)]) == (
        TEXT,
        ["EnochRoot"],
    )


def test_open_with_no_known_key() -> None:
    with pytest.raises(UnverifiedNoteError) as caught:
        open_note(f"{TEXT}\n{PETER_SIG}{ENOCH_SIG}", [])
    assert caught.value.text == TEXT
    assert caught.value.signatures == [
        Signature("PeterNeumann", 0xC74F20A3, PETER_B64),
        Signature("EnochRoot", 0xAF0CFE78, ENOCH_B64),
    ]


def test_duplicate_verifier_is_harmless_but_conflicting_keys_are_ambiguous() -> None:
    # Go rejects even an identical repeated verifier; we only reject two different keys.
    note = f"{TEXT}\n{ENOCH_SIG}"
    assert open_note(note, [ENOCH_VKEY, PETER_VKEY, ENOCH_VKEY])[1] == ["EnochRoot"]
    impostor = Verifier("EnochRoot", 0xAF0CFE78, Ed25519PrivateKey.generate().public_key())
    with pytest.raises(NoteError, match="ambiguous key EnochRoot\\+af0cfe78"):
        open_note(note, [ENOCH_VKEY, impostor])
    # Unused ambiguity does not matter.
    assert open_note(f"{TEXT}\n{PETER_SIG}", [ENOCH_VKEY, impostor, PETER_VKEY])[1] == [
        "PeterNeumann"
    ]


def test_too_many_signatures() -> None:
    for verifiers in ([PETER_VKEY], []):
        with pytest.raises(NoteError, match="too many"):
            open_note(f"{TEXT}\n{PETER_SIG * 101}", verifiers)


def test_accepts_sixteen_signatures_as_the_spec_requires() -> None:
    others = []
    for i in range(15):
        key = Ed25519PrivateKey.generate()
        others.append(sign_note(TEXT, f"witness{i}", key).split("\n\n")[-1])
    note = f"{TEXT}\n{PETER_SIG}{''.join(others)}"
    assert open_note(note, [PETER_VKEY]) == (TEXT, ["PeterNeumann"])


def test_invalid_signature_from_known_key() -> None:
    with pytest.raises(InvalidSignatureError, match="PeterNeumann\\+c74f20a3"):
        open_note(f"{TEXT}\n{splice_abcd(PETER_SIG)}", [PETER_VKEY])


def test_duplicated_verified_and_unverified_signatures() -> None:
    note = f"{TEXT}\n{PETER_SIG}{PETER_SIG}{ENOCH_SIG}{ENOCH_SIG}{splice_abcd(ENOCH_SIG)}"
    assert open_note(note, [PETER_VKEY]) == (TEXT, ["PeterNeumann"])
    with pytest.raises(UnverifiedNoteError) as caught:
        open_note(note, [])
    assert [s.base64 for s in caught.value.signatures] == [
        PETER_B64,
        ENOCH_B64,
        splice_abcd(ENOCH_SIG).split(" ")[-1].strip(),
    ]


@pytest.mark.parametrize(
    "message",
    [
        TEXT.encode(),
        (TEXT + "\n").encode(),
        (TEXT + "\n" + PETER_SIG[:-1]).encode(),
        ("\x01" + TEXT + "\n" + PETER_SIG).encode(),
        b"\xff" + (TEXT + "\n" + PETER_SIG).encode(),
        (TEXT + "\n— Bad Name " + PETER_B64).encode(),
        (TEXT + "\n" + PETER_SIG + "Unexpected line.\n").encode(),
        # Beyond the Go table: non-canonical base64, CRLF, empty name, short signature.
        (TEXT + "\n— PeterNeumann " + PETER_B64.rstrip("=") + "\n").encode(),
        (TEXT + "\n" + PETER_SIG[:-1] + "\r\n").encode(),
        (TEXT + "\n—  " + PETER_B64 + "\n").encode(),
        (TEXT + "\n— PeterNeumann AAAA\n").encode(),
        (TEXT + "\n- PeterNeumann " + PETER_B64 + "\n").encode(),
    ],
)
def test_malformed_notes(message: bytes) -> None:
    with pytest.raises(NoteError) as caught:
        open_note(message, [PETER_VKEY])
    assert type(caught.value) is NoteError


# --- Tampering -------------------------------------------------------------------------------


def test_flipped_text_byte_is_rejected() -> None:
    tampered = TEXT.replace("answer", "anSwer")
    with pytest.raises(InvalidSignatureError):
        open_note(f"{tampered}\n{PETER_SIG}", [PETER_VKEY])


def test_flipped_signature_byte_is_rejected() -> None:
    # Characters past the first 8 encode signature bytes, not the key ID.
    for position in (10, 40, len(PETER_B64) - 3):
        b64 = list(PETER_B64)
        b64[position] = "A" if b64[position] != "A" else "B"
        with pytest.raises(InvalidSignatureError):
            open_note(f"{TEXT}\n— PeterNeumann {''.join(b64)}\n", [PETER_VKEY])


def test_signature_by_another_key_is_not_trusted() -> None:
    other = Ed25519PrivateKey.generate()
    forged = sign_note(TEXT, "PeterNeumann", other)  # same name, different key ID
    with pytest.raises(UnverifiedNoteError):
        open_note(forged, [PETER_VKEY])
    # A key that claims Peter's name and ID but holds another public key must not verify.
    wrong_key = Verifier("PeterNeumann", 0xC74F20A3, other.public_key())
    with pytest.raises(InvalidSignatureError):
        open_note(f"{TEXT}\n{PETER_SIG}", [wrong_key])


def test_text_with_blank_lines_splits_at_the_last_one() -> None:
    name, private_key = parse_signer_key(PETER_SKEY)
    text = "para one\n\npara two\n\n"
    assert open_note(sign_note(text, name, private_key), [PETER_VKEY]) == (text, [name])
