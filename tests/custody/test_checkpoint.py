"""C2SP tlog-checkpoint bodies and their signatures."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from overt.custody import checkpoint
from overt.custody.checkpoint import Checkpoint, CheckpointError
from overt.custody.merkle import EMPTY_ROOT, MerkleTree, leaf_hash
from overt.custody.note import (
    InvalidSignatureError,
    NoteError,
    UnverifiedNoteError,
    parse_signer_key,
    sign_note,
    verifier_key,
)

# Example body from C2SP tlog-checkpoint.md (github.com/C2SP/C2SP).
SPEC_BODY = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"

# Key from golang.org/x/mod/sumdb/note note_test.go, reused for a deterministic signature.
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"

ROOT = bytes(range(32))
ROOT_B64 = base64.b64encode(ROOT).decode()
URLSAFE_B64 = base64.urlsafe_b64encode(b"\xfb" * 32).decode()


def test_spec_example_round_trips() -> None:
    parsed = checkpoint.parse(SPEC_BODY)
    assert parsed.origin == "example.com/behind-the-sofa"
    assert parsed.size == 20852163
    assert parsed.root_hash == base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
    assert parsed.extensions == ()
    assert parsed.body() == SPEC_BODY


def test_body_format_with_extensions() -> None:
    cp = Checkpoint("overt.example/custody", 42, ROOT, ("ext one", "ext-two"))
    assert cp.body() == f"overt.example/custody\n42\n{ROOT_B64}\next one\next-two\n"
    assert checkpoint.parse(cp.body()) == cp


def test_empty_tree_checkpoint() -> None:
    cp = Checkpoint("log", 0, EMPTY_ROOT)
    assert cp.body() == "log\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"
    assert checkpoint.parse(cp.body()) == cp


@pytest.mark.parametrize(
    "body",
    [
        f"log\n42\n{ROOT_B64}",  # no trailing newline
        f"log\n042\n{ROOT_B64}\n",  # leading zero
        f"log\n00\n{ROOT_B64}\n",
        f"log\n+42\n{ROOT_B64}\n",
        f"log\n-1\n{ROOT_B64}\n",
        f"log\n 42\n{ROOT_B64}\n",
        f"log\n4_2\n{ROOT_B64}\n",
        f"log\n٤٢\n{ROOT_B64}\n",  # Arabic-Indic digits: int() would accept them
        f"log\n{2**64}\n{ROOT_B64}\n",
        f"log\n\n{ROOT_B64}\n",
        f"\n42\n{ROOT_B64}\n",  # empty origin
        "log\n42\n\n",
        f"log\n42\n{ROOT_B64.rstrip('=')}\n",  # unpadded
        f"log\n42\n{ROOT_B64[:-2]}B=\n",  # non-canonical trailing bits
        f"log\n42\n{base64.b64encode(ROOT[:31]).decode()}\n",  # 31 bytes
        f"log\n42\n{base64.b64encode(ROOT + b'x').decode()}\n",  # 33 bytes
        f"log\n42\n{URLSAFE_B64}\n",  # URL alphabet
        f"log\n42\n{ROOT_B64}\n\n",  # empty extension line
        f"log\n42\n{ROOT_B64}\r\n",
        "log\n42\n",
        "",
    ],
)
def test_parse_is_strict(body: str) -> None:
    with pytest.raises(CheckpointError):
        checkpoint.parse(body)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"origin": "", "size": 1, "root_hash": ROOT},
        {"origin": "a\nb", "size": 1, "root_hash": ROOT},
        {"origin": "log", "size": -1, "root_hash": ROOT},
        {"origin": "log", "size": 2**64, "root_hash": ROOT},
        {"origin": "log", "size": True, "root_hash": ROOT},
        {"origin": "log", "size": 1, "root_hash": ROOT[:31]},
        {"origin": "log", "size": 1, "root_hash": ROOT, "extensions": ("",)},
        {"origin": "log", "size": 1, "root_hash": ROOT, "extensions": ("a\nb",)},
    ],
)
def test_constructor_validates(kwargs: dict) -> None:
    with pytest.raises(CheckpointError):
        Checkpoint(**kwargs)


def test_sign_is_deterministic_and_verifies() -> None:
    name, key = parse_signer_key(PETER_SKEY)
    tree = MerkleTree(leaf_hash(bytes([i])) for i in range(10))
    cp = Checkpoint("PeterNeumann", tree.size, tree.root())
    signed = checkpoint.sign(cp, name, key)
    assert signed.startswith(cp.body() + "\n— PeterNeumann ")
    assert signed == checkpoint.sign(cp, name, key)  # Ed25519 is deterministic
    assert checkpoint.verify(signed, PETER_VKEY) == cp
    assert checkpoint.verify(signed.encode(), PETER_VKEY, origin="PeterNeumann") == cp


def test_verify_checks_expected_origin() -> None:
    name, key = parse_signer_key(PETER_SKEY)
    signed = checkpoint.sign(Checkpoint("other.example/log", 1, ROOT), name, key)
    with pytest.raises(CheckpointError, match="origin"):
        checkpoint.verify(signed, PETER_VKEY, origin="overt.example/custody")


def test_verify_rejects_tampering_and_other_keys() -> None:
    name, key = parse_signer_key(PETER_SKEY)
    signed = checkpoint.sign(Checkpoint("log", 5, ROOT), name, key)
    with pytest.raises(InvalidSignatureError):
        checkpoint.verify(signed.replace("\n5\n", "\n6\n"), PETER_VKEY)
    other = Ed25519PrivateKey.generate()
    with pytest.raises(UnverifiedNoteError):
        checkpoint.verify(signed, verifier_key("log", other.public_key()))
    with pytest.raises(UnverifiedNoteError):
        checkpoint.verify(checkpoint.sign(Checkpoint("log", 5, ROOT), name, other), PETER_VKEY)


def test_verify_ignores_cosignatures() -> None:
    name, key = parse_signer_key(PETER_SKEY)
    signed = checkpoint.sign(Checkpoint("log", 5, ROOT), name, key)
    witness = Ed25519PrivateKey.generate()
    witness_note = sign_note(Checkpoint("log", 5, ROOT).body(), "witness", witness)
    cosigned = signed + witness_note.split("\n\n")[-1]
    assert checkpoint.verify(cosigned, PETER_VKEY).size == 5


def test_signed_body_must_still_be_a_valid_checkpoint() -> None:
    name, key = parse_signer_key(PETER_SKEY)
    signed = sign_note("log\n042\n" + ROOT_B64 + "\n", name, key)
    with pytest.raises(CheckpointError):
        checkpoint.verify(signed, PETER_VKEY)
    assert issubclass(CheckpointError, NoteError)
