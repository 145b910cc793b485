"""tools/overt_verify.py checks a custody report with nothing but Python and `cryptography`.

It runs here as a defence expert would run it: in a separate interpreter in isolated mode
(-I), without site-packages (-S), with only `cryptography` and what it needs on the path,
so any import of overt (or of anything else not installed) would fail.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from overt.custody import note
from support_cli import run_overt

TOOLS_VERIFIER = Path(__file__).parents[2] / "tools" / "overt_verify.py"


def _requirements(name: str, seen: set[str]) -> None:
    if name in seen:
        return
    seen.add(name)
    for requirement in metadata.distribution(name).requires or []:
        if "extra ==" in requirement:
            continue
        req_name = requirement.split(";")[0].split("[")[0]
        for sep in "<>=!~ (":
            req_name = req_name.split(sep)[0]
        _requirements(req_name.strip(), seen)


@pytest.fixture(scope="module")
def crypto_only_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding only `cryptography` and its own dependencies (as links)."""
    folder = tmp_path_factory.mktemp("crypto-only")
    names: set[str] = set()
    _requirements("cryptography", names)
    for name in names:
        dist = metadata.distribution(name)
        for top in {f.parts[0] for f in dist.files or [] if not f.parts[0].endswith(".dist-info")}:
            source = Path(dist.locate_file(top))
            if source.exists() and not (folder / top).exists() and top != "..":
                (folder / top).symlink_to(source)
    assert (folder / "cryptography").exists()
    assert not any(p.name.startswith("overt") for p in folder.iterdir())
    return folder


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory: pytest.TempPathFactory, clips: dict[str, Path]) -> Path:
    """Two reports of recording 1; the second is checked. Its original then has three
    entries: its ingest, the first report's seal and the second's. The log goes on after
    (a report of recording 2), and a later checkpoint and a consistency proof are kept."""
    home = tmp_path_factory.mktemp("standalone") / "instance"
    first, out = home.parent / "first-report", home.parent / "report"
    for args in (
        ("officer", "add", "MP100", "--name", "PC Test"),
        ("device", "add", "CAM-1", "--model", "Test Cam"),
        ("ingest", str(clips["good"]), str(clips["silent"]), "--officer", "MP100", "--device", "CAM-1"),
        ("custody", "report", "1", "--out", str(first), "--justification", "disclosure"),
        ("custody", "report", "1", "--out", str(out), "--justification", "disclosure"),
    ):
        done = run_overt(home, *args)
        assert done.returncode == 0, (args, done.stderr)
    (out / "pubkey").write_text(run_overt(home, "custody", "pubkey").stdout.strip())
    size = json.loads((out / "report.json").read_text("utf-8"))["checkpoint"]["size"]
    assert run_overt(home, "custody", "report", "2", "--out", str(home.parent / "r2")).returncode == 0
    later = run_overt(home, "custody", "checkpoint", "--json")
    (out / "later-checkpoint").write_text(json.loads(later.stdout)["note"], "utf-8")
    later_size = json.loads(later.stdout)["size"]
    proof = run_overt(home, "custody", "consistency", str(size), str(later_size), "--json")
    (out / "later-proof.json").write_text(proof.stdout)
    earlier = json.loads((first / "report.json").read_text("utf-8"))["checkpoint"]
    (out / "earlier-checkpoint").write_text(earlier["note"], "utf-8")
    (out / "signer-key").write_text((home / "keys" / "custody-signer.key").read_text())
    return out


def _run(folder: Path, crypto: Path, *args: str) -> subprocess.CompletedProcess[str]:
    bootstrap = (
        "import runpy, sys; "
        f"sys.path[:0] = [{str(crypto)!r}]; "
        f"sys.argv = ['overt_verify.py', *{list(args)!r}]; "
        "runpy.run_path('overt_verify.py', run_name='__main__')"
    )
    return subprocess.run(
        [sys.executable, "-I", "-S", "-c", bootstrap],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": "/usr/bin:/bin"},
    )


@pytest.fixture
def work(report_dir: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "check"
    shutil.copytree(report_dir, folder)
    return folder


def _edit(folder: Path, change) -> None:  # type: ignore[no-untyped-def]
    path = folder / "report.json"
    data = json.loads(path.read_text("utf-8"))
    change(data)
    path.write_text(json.dumps(data), "utf-8")


def test_the_verifier_stands_alone() -> None:
    source = TOOLS_VERIFIER.read_text("utf-8")
    imports = {
        line.split()[1].split(".")[0]
        for line in source.splitlines()
        if line.startswith(("import ", "from ")) and not line.startswith("from __future__")
    }
    stdlib = {"argparse", "base64", "binascii", "hashlib", "hmac", "json", "os", "sys", "typing"}
    assert imports <= stdlib
    assert "from cryptography" in source
    # Its companion checkers (overt_verify_*.py, shipped beside it) are fine; overt is not.
    assert not re.search(r"^\s*(import|from) overt(\.|\s|$)", source, re.MULTILINE)


def test_a_sound_report_and_exhibit_pass(
    work: Path, crypto_only_path: Path, clips: dict[str, Path]
) -> None:
    key = (work / "pubkey").read_text()
    done = _run(work, crypto_only_path, "report.json", "--exhibit", str(clips["good"]), "--key", key)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "VERDICT: PASS" in done.stdout
    assert "is byte-identical to original 1" in done.stdout
    assert "the report's verifier key is the key you supplied with --key" in done.stdout
    assert "FAIL" not in done.stdout


def test_without_key_it_says_the_key_came_from_the_report(work: Path, crypto_only_path: Path) -> None:
    done = _run(work, crypto_only_path, "report.json")
    assert done.returncode == 0 and "NOTE  the verifier key was taken from the report" in done.stdout


def test_a_different_exhibit_fails(work: Path, crypto_only_path: Path, clips: dict[str, Path]) -> None:
    done = _run(work, crypto_only_path, "report.json", "--exhibit", str(clips["silent"]))
    assert done.returncode == 1
    assert "matches NO original in the report" in done.stdout and "VERDICT: FAIL" in done.stdout


def test_an_altered_entry_fails_naming_it(work: Path, crypto_only_path: Path) -> None:
    def change(data: dict) -> None:
        item = data["entries"][0]
        item["entry"] = item["entry"].replace('"ingest"', '"inGest"')

    _edit(work, change)
    done = _run(work, crypto_only_path, "report.json")
    index = json.loads((work / "report.json").read_text())["entries"][0]["leaf_index"]
    assert done.returncode == 1
    assert f"FAIL  entry {index}: its text does not match its leaf hash" in done.stdout


def test_an_altered_proof_fails(work: Path, crypto_only_path: Path) -> None:
    def change(data: dict) -> None:
        hashes = data["entries"][-1]["proof"]["hashes"]
        hashes[0] = "00" * 32

    _edit(work, change)
    done = _run(work, crypto_only_path, "report.json")
    assert done.returncode == 1 and "inclusion proof does not lead to the signed root" in done.stdout


def test_a_checkpoint_signed_by_another_key_fails(work: Path, crypto_only_path: Path) -> None:
    def change(data: dict) -> None:
        signed = data["checkpoint"]["note"]
        text = signed[: signed.rfind("\n\n") + 1]
        name = text.split("\n")[0]
        other = Ed25519PrivateKey.generate()
        data["checkpoint"]["note"] = note.sign_note(text, name, other)
        data["verifier_key"] = note.verifier_key(name, other.public_key())

    _edit(work, change)
    key = (work / "pubkey").read_text()
    done = _run(work, crypto_only_path, "report.json")
    assert done.returncode == 0  # self-consistent forgery: only the independent key catches it
    done = _run(work, crypto_only_path, "report.json", "--key", key)
    assert done.returncode == 1
    assert "NOT the key you supplied with --key" in done.stdout


def test_a_tampered_signature_fails(work: Path, crypto_only_path: Path) -> None:
    def change(data: dict) -> None:
        signed = data["checkpoint"]["note"]
        head, _, line = signed[:-1].rpartition("\n")
        name, encoded = line.rsplit(" ", 1)
        raw = bytearray(base64.b64decode(encoded))
        raw[10] ^= 1
        data["checkpoint"]["note"] = f"{head}\n{name} {base64.b64encode(bytes(raw)).decode()}\n"

    _edit(work, change)
    done = _run(work, crypto_only_path, "report.json")
    assert done.returncode == 1 and "signature by this key is INVALID" in done.stdout


def test_an_unreadable_report_fails_plainly(work: Path, crypto_only_path: Path) -> None:
    (work / "report.json").write_text("{not json")
    done = _run(work, crypto_only_path, "report.json")
    assert done.returncode == 1 and "cannot read the report" in done.stdout


# --- completeness: what the report claims to hold, and that it holds it (issue 11, item 14) ---


def _entries_about(data: dict, sha: str) -> list[dict]:
    return [e for e in data["entries"] if json.loads(e["entry"])["object"]["sha256"] == sha]


def _drop(data: dict, leaf_indices: set[int], *, fix_counts: bool = True) -> None:
    """Remove entries the way a careful forger would: the claimed counts adjusted too."""
    data["entries"] = [e for e in data["entries"] if e["leaf_index"] not in leaf_indices]
    if fix_counts:
        for sha in data["complete_for"]["entries"]:
            data["complete_for"]["entries"][sha] = len(_entries_about(data, sha))


def test_the_report_says_what_it_is_complete_for(work: Path, crypto_only_path: Path) -> None:
    data = json.loads((work / "report.json").read_text("utf-8"))
    shas = sorted(o["sha256"] for o in data["originals"])
    claim = data["complete_for"]
    assert claim["tree_size"] == data["checkpoint"]["size"] and claim["objects"] == shas
    assert claim["entries"] == dict.fromkeys(shas, 3)  # ingest, first report, this report
    bodies = [json.loads(e["entry"]) for e in data["entries"]]
    assert [b["chain"]["n"] for b in bodies] == [0, 1, 2]
    assert bodies[2]["chain"]["prev"] == data["entries"][1]["leaf_index"]
    assert bodies[-1]["seal"] == {"tree_size": claim["tree_size"], "objects": shas}
    done = _run(work, crypto_only_path, "report.json")
    assert done.returncode == 0, done.stdout
    assert "the report holds all 3 entries about it in the log of 6 entries" in done.stdout


def test_removing_any_one_entry_fails(report_dir: Path, tmp_path: Path, crypto_only_path: Path) -> None:
    data = json.loads((report_dir / "report.json").read_text("utf-8"))
    indices = [e["leaf_index"] for e in data["entries"]]
    assert len(indices) == 3
    for index in indices:
        folder = tmp_path / f"without-{index}"
        shutil.copytree(report_dir, folder)
        _edit(folder, lambda d, index=index: _drop(d, {index}))
        done = _run(folder, crypto_only_path, "report.json")
        assert done.returncode == 1, (index, done.stdout)
        assert "entries are missing" in done.stdout or "entries after it are missing" in done.stdout


def test_removing_most_entries_fails(work: Path, crypto_only_path: Path) -> None:
    data = json.loads((work / "report.json").read_text("utf-8"))
    keep = {e["leaf_index"] for e in data["entries"] if json.loads(e["entry"])["action"] == "ingest"}
    _edit(work, lambda d: _drop(d, {e["leaf_index"] for e in d["entries"]} - keep))
    done = _run(work, crypto_only_path, "report.json")
    assert done.returncode == 1 and "is not the entry that sealed this report" in done.stdout


def test_cutting_the_seal_and_the_earlier_tail_fails(work: Path, crypto_only_path: Path) -> None:
    data = json.loads((work / "report.json").read_text("utf-8"))
    sha = data["originals"][0]["sha256"]
    seal = _entries_about(data, sha)[-1]["leaf_index"]
    _edit(work, lambda d: _drop(d, {seal}))
    done = _run(work, crypto_only_path, "report.json")
    assert done.returncode == 1
    assert f"(entry {seal - 1}) is not the entry that sealed this report" in done.stdout


def test_a_wrong_count_fails_even_with_every_entry_present(work: Path, crypto_only_path: Path) -> None:
    def change(data: dict) -> None:
        sha = data["originals"][0]["sha256"]
        data["complete_for"]["entries"][sha] = 2

    _edit(work, change)
    done = _run(work, crypto_only_path, "report.json")
    assert done.returncode == 1 and "the report says it has 2 entries but holds 3" in done.stdout


def test_removing_the_original_and_its_entries_fails(work: Path, crypto_only_path: Path) -> None:
    def change(data: dict) -> None:
        gone = data["originals"].pop()["sha256"]
        _drop(data, {e["leaf_index"] for e in _entries_about(data, gone)})
        data["complete_for"]["objects"].remove(gone)
        del data["complete_for"]["entries"][gone]

    _edit(work, change)
    done = _run(work, crypto_only_path, "report.json")
    assert done.returncode == 1 and "the report names no originals" in done.stdout


def test_a_seal_naming_other_originals_fails(crypto_only_path: Path) -> None:
    # Unit level, as a report with two originals and one removed would present it.
    import importlib.util

    spec = importlib.util.spec_from_file_location("overt_verify_seal", TOOLS_VERIFIER)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    seal = {"v": 2, "chain": {"n": 0, "prev": None}, "seal": {"tree_size": 5, "objects": ["a", "b"]}}
    assert "the seal names other originals" in module.chain_gap([(4, seal)], 5, ["a"])
    assert module.chain_gap([(4, seal)], 5, ["b", "a"]) == ""


def test_a_report_relabelled_as_the_old_format_fails(work: Path, crypto_only_path: Path) -> None:
    def change(data: dict) -> None:
        data["format"] = "overt-custody-report/1"
        del data["complete_for"]
        _drop(data, {data["entries"][2]["leaf_index"]}, fix_counts=False)

    _edit(work, change)
    done = _run(work, crypto_only_path, "report.json")
    assert done.returncode == 1 and "does not say what it is complete for" in done.stdout


# --- a checkpoint held from before (--previous) --------------------------------------------------


def test_an_earlier_checkpoint_is_checked_for_consistency(work: Path, crypto_only_path: Path) -> None:
    key = (work / "pubkey").read_text()
    done = _run(work, crypto_only_path, "report.json", "--key", key, "--previous", "earlier-checkpoint")
    assert done.returncode == 0, done.stdout
    assert "is consistent with the report's: the log at 5 entries is a prefix of the log at 6" in (
        done.stdout
    )


def _resign(work: Path, text: str) -> str:
    name, private_key = note.parse_signer_key((work / "signer-key").read_text().strip())
    return note.sign_note(text, name, private_key)


def test_a_forked_earlier_checkpoint_fails(work: Path, crypto_only_path: Path) -> None:
    earlier = (work / "earlier-checkpoint").read_text("utf-8")
    origin, size, _ = earlier.split("\n")[:3]
    forked = f"{origin}\n{size}\n{base64.b64encode(bytes(32)).decode()}\n"
    (work / "forked").write_text(_resign(work, forked), "utf-8")
    done = _run(work, crypto_only_path, "report.json", "--previous", "forked")
    assert done.returncode == 1 and "is NOT consistent with the report's checkpoint" in done.stdout


def test_a_later_checkpoint_needs_a_proof_and_passes_with_one(
    work: Path, crypto_only_path: Path
) -> None:
    data = json.loads((work / "report.json").read_text("utf-8"))
    size = data["checkpoint"]["size"]
    later = int((work / "later-checkpoint").read_text("utf-8").split("\n")[1])
    done = _run(work, crypto_only_path, "report.json", "--previous", "later-checkpoint")
    assert done.returncode == 1
    assert f"overt custody consistency {size} {later} --json" in done.stdout
    done = _run(
        work, crypto_only_path, "report.json",
        "--previous", "later-checkpoint", "--consistency", "later-proof.json",
    )
    assert done.returncode == 0, done.stdout
    assert f"the log at {size} entries is a prefix of the log at {later}" in done.stdout
    # A proof for other bytes does not do.
    proof = json.loads((work / "later-proof.json").read_text())
    proof["hashes"][0] = "00" * 32
    (work / "later-proof.json").write_text(json.dumps(proof))
    done = _run(
        work, crypto_only_path, "report.json",
        "--previous", "later-checkpoint", "--consistency", "later-proof.json",
    )
    assert done.returncode == 1 and "is NOT consistent" in done.stdout


def test_an_earlier_checkpoint_by_another_key_fails(work: Path, crypto_only_path: Path) -> None:
    earlier = (work / "earlier-checkpoint").read_text("utf-8")
    text = earlier[: earlier.rfind("\n\n") + 1]
    (work / "other").write_text(note.sign_note(text, text.split("\n")[0], Ed25519PrivateKey.generate()))
    done = _run(work, crypto_only_path, "report.json", "--previous", "other")
    assert done.returncode == 1 and "not signed by this verifier key" in done.stdout
