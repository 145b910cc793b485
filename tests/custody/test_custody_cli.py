"""The custody CLI contract, through the real `overt` command on an instance of its own:
the output forms outside checks rely on, checked with overt's RFC 9162 and C2SP code."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path

import pytest

from overt.custody import checkpoint as tlog
from overt.custody.merkle import leaf_hash, verify_consistency, verify_inclusion
from support_cli import run_overt


def _ok(home: Path, *args: str) -> str:
    done = run_overt(home, *args)
    assert done.returncode == 0, (args, done.stdout, done.stderr)
    return done.stdout


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory, clips: dict[str, Path]) -> Path:
    home = tmp_path_factory.mktemp("custody-cli") / "instance"
    _ok(home, "officer", "add", "MP100", "--name", "PC Test")
    _ok(home, "device", "add", "CAM-1", "--model", "Test Cam")
    for name in ("good", "silent", "corrupt"):
        _ok(home, "ingest", str(clips[name]), "--officer", "MP100", "--device", "CAM-1")
    return home


@pytest.fixture(scope="module")
def pubkey(home: Path) -> str:
    return _ok(home, "custody", "pubkey").strip()


def test_instance_creation_makes_a_private_signing_key(home: Path, pubkey: str) -> None:
    key = home / "keys" / "custody-signer.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(key.parent.stat().st_mode) == 0o700
    name = pubkey.split("+")[0]
    assert key.read_text().startswith(f"PRIVATE+KEY+{name}+")
    assert "PRIVATE" not in pubkey


def test_checkpoint_prints_a_signed_note_the_pubkey_verifies(home: Path, pubkey: str) -> None:
    note = _ok(home, "custody", "checkpoint")
    parsed = tlog.verify(note, pubkey, origin=pubkey.split("+")[0])
    assert parsed.size >= 3
    again = json.loads(_ok(home, "custody", "checkpoint", "--json"))
    assert again["note"] == note and again["root"] == parsed.root_hash.hex()


def test_entries_and_inclusion_proofs_check_against_a_checkpoint(
    home: Path, pubkey: str, clips: dict[str, Path]
) -> None:
    sha = hashlib.sha256(clips["silent"].read_bytes()).hexdigest()
    listing = json.loads(_ok(home, "custody", "entries", "--object", sha, "--json"))
    assert listing["object"] == sha
    [entry] = listing["entries"]
    assert entry["action"] == "ingest" and entry["object_sha256"] == sha
    assert entry["leaf_hash"] == leaf_hash(entry["entry"].encode()).hex()
    assert json.loads(entry["entry"])["seq"] == entry["leaf_index"]

    checkpoint = tlog.verify(_ok(home, "custody", "checkpoint"), pubkey)
    index, size = entry["leaf_index"], checkpoint.size
    proof = json.loads(
        _ok(home, "custody", "prove", "--entry", str(index), "--size", str(size), "--json")
    )
    assert set(proof) == {"leaf_index", "tree_size", "leaf_hash", "hashes", "root", "checkpoint"}
    assert (proof["leaf_index"], proof["tree_size"]) == (index, size)
    assert proof["leaf_hash"] == entry["leaf_hash"]
    assert proof["root"] == checkpoint.root_hash.hex()
    assert tlog.verify(proof["checkpoint"], pubkey) == checkpoint
    assert verify_inclusion(
        bytes.fromhex(proof["leaf_hash"]),
        index,
        size,
        [bytes.fromhex(h) for h in proof["hashes"]],
        checkpoint.root_hash,
    )
    text = _ok(home, "custody", "entries", "--object", sha)
    assert f"{index:>8}  " in text and "ingest" in text


def test_prove_defaults_to_the_whole_log(home: Path) -> None:
    proof = json.loads(_ok(home, "custody", "prove", "--entry", "0", "--json"))
    assert proof["tree_size"] >= 3 and proof["leaf_index"] == 0


def test_consistency_proof_checks(home: Path, pubkey: str) -> None:
    new = tlog.verify(_ok(home, "custody", "checkpoint"), pubkey).size
    for old in sorted({0, 1, 2, new}):
        proof = json.loads(_ok(home, "custody", "consistency", str(old), str(new), "--json"))
        assert set(proof) == {"old_size", "new_size", "old_root", "new_root", "hashes"}
        assert (proof["old_size"], proof["new_size"]) == (old, new)
        assert verify_consistency(
            old,
            new,
            bytes.fromhex(proof["old_root"]),
            bytes.fromhex(proof["new_root"]),
            [bytes.fromhex(h) for h in proof["hashes"]],
        )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("prove", "--entry", "999"), "entry 999 is not in a tree of size"),
        (("prove", "--entry", "0", "--size", "999"), "tree size 999 is outside"),
        (("consistency", "2", "1"), "cannot prove consistency from size 2 to size 1"),
        (("consistency", "1", "999"), "tree size 999 is outside"),
    ],
)
def test_impossible_proofs_are_refused_clearly(home: Path, args: tuple, message: str) -> None:
    done = run_overt(home, "custody", *args, "--json")
    assert done.returncode == 2
    assert message in done.stderr and done.stdout == ""


def test_publish_writes_what_a_witness_mirrors(home: Path, pubkey: str, tmp_path: Path) -> None:
    out = tmp_path / "witness"
    assert "published checkpoint at size" in _ok(home, "custody", "publish", str(out))
    latest = (out / "checkpoint").read_text()
    size = tlog.verify(latest, pubkey).size
    assert (out / "checkpoints" / str(size)).read_text() == latest
    assert (out / "verifier-key").read_text() == pubkey + "\n"
    for path in (out / "checkpoints").iterdir():
        assert tlog.verify(path.read_text(), pubkey).size == int(path.name)
    _ok(home, "custody", "publish", str(out))  # again: nothing breaks, nothing is lost
    assert (out / "checkpoints" / str(size)).read_text() == latest


def test_verify_log_only_json(home: Path) -> None:
    result = json.loads(_ok(home, "verify", "--log-only", "--json"))
    assert result["ok"] is True and result["problems"] == []
    assert result["summary"]["log_only"] is True and result["summary"]["originals"] == 0
    full = json.loads(_ok(home, "verify", "--json"))
    assert full["ok"] is True and full["summary"]["originals"] == 3


def test_schedule_starts_each_chain_once(home: Path) -> None:
    first = _ok(home, "custody", "schedule")
    assert "custody.checkpoint: job " in first and "custody.scrub: job " in first
    assert _ok(home, "custody", "schedule") == first


def test_signing_refused_with_loose_key_permissions(home: Path, pubkey: str) -> None:
    key = home / "keys" / "custody-signer.key"
    os.chmod(key, 0o644)
    try:
        done = run_overt(home, "custody", "checkpoint")
        assert done.returncode == 1
        assert "refusing to use the custody signing key" in done.stderr
        assert f"chmod 600 {key}" in done.stderr
        assert _ok(home, "custody", "pubkey").strip() == pubkey  # publishing still works
    finally:
        os.chmod(key, 0o600)


def test_report_for_an_unknown_recording_is_a_clear_error(home: Path, tmp_path: Path) -> None:
    done = run_overt(home, "custody", "report", "999", "--out", str(tmp_path / "r"))
    assert done.returncode == 1 and "no recording 999" in done.stderr
