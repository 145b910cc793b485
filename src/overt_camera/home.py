"""The agent's home directory: all of its state, in one place.

    DIR/device.key        Ed25519 private key, PEM (PKCS#8), mode 0600; never leaves DIR
    DIR/token             the device's upload token, mode 0600
    DIR/config.json       settings (config.AgentConfig; unknown keys refused)
    DIR/state.json        the manifest chain: last device_sequence, last manifest's hash
    DIR/peers.json        keys of the force's devices, for peer start
    DIR/peer-seen.json    peer-start events accepted within the window (replays refused)
    DIR/server-key.json   the server's X25519 public key, for encryption at rest
    DIR/spool/            segments and their manifests, until the server confirms them
    DIR/log/              peer.jsonl (accepted and refused peer starts), offloaded.jsonl

Files are replaced atomically (write, fsync, rename, fsync the directory), so a power cut
leaves either the old or the new version, never half of one.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import config as config_mod
from .config import AgentConfig


class HomeError(RuntimeError):
    """The home directory is missing something or cannot be written; the message says what."""


def write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.fchmod(fd, mode)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    fsync_dir(path.parent)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def append_line(path: Path, record: dict[str, Any]) -> None:
    """One JSON line appended and fsynced (the device's own logs)."""
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(record, sort_keys=True) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


@dataclass(frozen=True)
class ChainState:
    device_sequence: int  # the last sequence number handed to a recording (0: none yet)
    last_manifest_sha256: str | None  # the chain's head: the last manifest written


class Home:
    """Paths and small state files of one agent home. Safe to share between threads."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root).resolve()
        self.key_path = self.root / "device.key"
        self.token_path = self.root / "token"
        self.config_path = self.root / "config.json"
        self.state_path = self.root / "state.json"
        self.peers_path = self.root / "peers.json"
        self.server_key_path = self.root / "server-key.json"
        self.spool = self.root / "spool"
        self.logs = self.root / "log"
        self._lock = threading.RLock()

    def create(self) -> None:
        for folder in (self.root, self.spool, self.logs):
            folder.mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o700)

    def check(self) -> None:
        if not self.key_path.exists() or not self.token_path.exists():
            raise HomeError(
                f"{self.root} holds no enrolled device: run "
                "`overt-camera enrol --home DIR --server URL --code CODE` first"
            )
        self.spool.mkdir(exist_ok=True)
        self.logs.mkdir(exist_ok=True)

    # settings --------------------------------------------------------------------------

    def load_config(self) -> AgentConfig:
        return config_mod.load(self.config_path)

    def save_config(self, config: AgentConfig) -> None:
        text = json.dumps(config_mod.to_dict(config), indent=2, sort_keys=True) + "\n"
        write_atomic(self.config_path, text.encode("utf-8"))

    def token(self) -> str:
        try:
            return self.token_path.read_text("utf-8").strip()
        except OSError as exc:
            raise HomeError(f"{self.token_path}: {exc.strerror}") from exc

    def save_token(self, token: str) -> None:
        write_atomic(self.token_path, token.encode("utf-8") + b"\n", 0o600)

    # the manifest chain ----------------------------------------------------------------

    def chain(self) -> ChainState:
        if not self.state_path.exists():
            return ChainState(0, None)
        data = json.loads(self.state_path.read_text("utf-8"))
        return ChainState(int(data["device_sequence"]), data["last_manifest_sha256"])

    def _save_chain(self, state: ChainState) -> None:
        record = {
            "device_sequence": state.device_sequence,
            "last_manifest_sha256": state.last_manifest_sha256,
        }
        write_atomic(self.state_path, json.dumps(record, sort_keys=True).encode("utf-8"))

    def next_sequence(self) -> int:
        """A new recording's device_sequence, saved before it is used: never handed out twice."""
        with self._lock:
            state = self.chain()
            sequence = state.device_sequence + 1
            self._save_chain(ChainState(sequence, state.last_manifest_sha256))
            return sequence

    def advance_chain(self, manifest_sha256: str, previous: str | None) -> None:
        with self._lock:
            state = self.chain()
            if state.last_manifest_sha256 != previous:
                raise HomeError("manifest chain moved under a writer (two agents on one home?)")
            self._save_chain(ChainState(state.device_sequence, manifest_sha256))

    def locked(self) -> threading.RLock:
        """Held while a manifest is written, so the chain has one writer at a time."""
        return self._lock

    # peers ---------------------------------------------------------------------------------

    def peers(self) -> list[dict[str, str]]:
        if not self.peers_path.exists():
            return []
        data = json.loads(self.peers_path.read_text("utf-8"))
        return [p for p in data.get("peers", []) if isinstance(p, dict)]

    def save_peers(self, answer: dict[str, Any]) -> None:
        peers = answer.get("peers")
        if not isinstance(peers, list):
            raise HomeError('peer list: expected {"peers": [...]}')
        text = json.dumps({"peers": peers}, indent=2, sort_keys=True)
        write_atomic(self.peers_path, text.encode("utf-8"))
