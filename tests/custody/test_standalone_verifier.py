"""tools/overt_verify.py checks a custody report with nothing but Python and `cryptography`.

It runs here as a defence expert would run it: in a separate interpreter in isolated mode
(-I), without site-packages (-S), with only `cryptography` and what it needs on the path,
so any import of overt (or of anything else not installed) would fail.
"""

from __future__ import annotations

import base64
import json
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
    home = tmp_path_factory.mktemp("standalone") / "instance"
    out = home.parent / "report"
    for args in (
        ("officer", "add", "MP100", "--name", "PC Test"),
        ("device", "add", "CAM-1", "--model", "Test Cam"),
        ("ingest", str(clips["good"]), str(clips["silent"]), "--officer", "MP100", "--device", "CAM-1"),
        ("custody", "report", "1", "--out", str(out), "--justification", "disclosure"),
    ):
        done = run_overt(home, *args)
        assert done.returncode == 0, (args, done.stderr)
    (out / "pubkey").write_text(run_overt(home, "custody", "pubkey").stdout.strip())
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
    assert imports <= {"argparse", "base64", "binascii", "hashlib", "hmac", "json", "sys"}
    assert "from cryptography" in source
    assert "import overt" not in source and "from overt" not in source


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
