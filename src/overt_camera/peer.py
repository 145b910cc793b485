"""Peer start (CAMERA_PROTOCOL.md "Peer start"): a camera that starts recording sends a
signed event on a UDP multicast group; cameras of the same force in the same group start
too. A datagram is the event's JSON bytes, a newline, and the Base64 Ed25519 signature
over those bytes. A receiver accepts only a key of its force's peer list, a timestamp
within +-30 s of its own clock, an event_id it has not seen (kept in DIR/peer-seen.json,
so a restart forgets none), and never its own event. Every accepted and refused event is
written to DIR/log/peer.jsonl.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import socket
import struct
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from . import keys
from .config import AgentConfig
from .home import Home, append_line, write_atomic
from .manifest import parse_rfc3339, rfc3339

FORMAT = "overt-peer-start/1"
WINDOW_SECONDS = 30.0
MAX_DATAGRAM = 2048


@dataclass(frozen=True)
class PeerEvent:
    serial: str
    key_id: str
    event_id: str
    sent_at: float


def make_datagram(
    key: Ed25519PrivateKey, serial: str, key_id: str, group: str, now: float | None = None
) -> tuple[bytes, str]:
    event_id = uuid.uuid4().hex
    body = {
        "format": FORMAT,
        "serial": serial,
        "key_id": key_id,
        "peer_group": group,
        "event_id": event_id,
        "sent_at": rfc3339(time.time() if now is None else now),
    }
    data = json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return data + b"\n" + base64.b64encode(keys.sign(key, data)), event_id


class PeerRefused(ValueError):
    pass


class Verifier:
    """The receiving rules, apart from sockets, so they are tested on their own."""

    def __init__(
        self,
        own_serial: str,
        group: str,
        peers: list[dict[str, str]],
        seen_path: Path | None = None,
    ) -> None:
        self.own_serial = own_serial
        self.group = group
        self.keys: dict[str, tuple[str, bytes]] = {}
        for peer in peers:
            try:
                public = base64.b64decode(peer["public_key"], validate=True)
            except (KeyError, binascii.Error, ValueError):
                continue
            if len(public) == 32 and keys.key_id(public) == peer.get("key_id"):
                self.keys[peer["key_id"]] = (peer.get("serial", ""), public)
        # event_id -> sent_at of the events accepted within the window; kept in the home
        # (seen_path) so a restarted agent still refuses a replay inside the window.
        self.seen_path = seen_path
        self._seen: dict[str, float] = self._load_seen()
        self._lock = threading.Lock()

    def _load_seen(self) -> dict[str, float]:
        if self.seen_path is None or not self.seen_path.exists():
            return {}
        try:
            data = json.loads(self.seen_path.read_text("utf-8"))
            return {str(k): float(v) for k, v in data["seen"].items()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            # Unreadable: refuse every event until the window has passed, rather than
            # accept a replay. The file is rewritten at the next accepted event.
            logging.getLogger(__name__).warning("%s unreadable (%s)", self.seen_path, exc)
            return {"*": time.time()}

    def check(self, datagram: bytes, now: float | None = None) -> PeerEvent:
        now = time.time() if now is None else now
        data, sep, signature_b64 = datagram.rstrip(b"\n").rpartition(b"\n")
        if not sep:
            raise PeerRefused("malformed: no signature line")
        try:
            body = json.loads(data)
            signature = base64.b64decode(signature_b64, validate=True)
            serial, key_id = str(body["serial"]), str(body["key_id"])
            event_id, sent_at = str(body["event_id"]), parse_rfc3339(body["sent_at"])
            if body["format"] != FORMAT:
                raise PeerRefused(f"unknown format {body['format']!r}")
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            raise PeerRefused(f"malformed: {exc}") from exc
        if serial == self.own_serial:
            raise PeerRefused("own event")
        if body.get("peer_group") != self.group:
            raise PeerRefused(f"other peer group {body.get('peer_group')!r}")
        known = self.keys.get(key_id)
        if known is None or known[0] != serial:
            raise PeerRefused(f"key {key_id} of {serial} is not a known device of this force")
        if not keys.verify(known[1], signature, data):
            raise PeerRefused("forged: the signature does not verify")
        if abs(now - sent_at) > WINDOW_SECONDS:
            raise PeerRefused(f"outside the {WINDOW_SECONDS:.0f} s window ({now - sent_at:+.1f} s)")
        with self._lock:
            for old in [e for e, at in self._seen.items() if abs(now - at) > 4 * WINDOW_SECONDS]:
                del self._seen[old]
            if "*" in self._seen:
                raise PeerRefused("the record of seen events was unreadable: refused for 2 min")
            if event_id in self._seen:
                raise PeerRefused(f"replayed event {event_id}")
            self._seen[event_id] = sent_at
            if self.seen_path is not None:  # on disk before the recording starts
                record = {"format": "overt-peer-seen/1", "seen": self._seen}
                write_atomic(self.seen_path, json.dumps(record, sort_keys=True).encode())
        return PeerEvent(serial, key_id, event_id, sent_at)


class PeerLink:
    """The sockets: send our starts, receive others' and hand accepted ones to `on_start`."""

    def __init__(
        self,
        home: Home,
        config: AgentConfig,
        key: Ed25519PrivateKey,
        key_id: str,
        on_start: Callable[[PeerEvent], None],
    ) -> None:
        assert config.peer_group and config.serial
        self.home, self.config, self.key, self.key_id = home, config, key, key_id
        self.group = config.peer_group
        self.verifier = Verifier(
            config.serial, config.peer_group, home.peers(), home.root / "peer-seen.json"
        )
        self._peers_seen = self._peers_stamp()
        self.on_start = on_start
        self.accepted = 0
        self.refused = 0
        self._stop = threading.Event()
        self._recv = self._receiver()
        self._send = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
        self._send.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
        interface = socket.inet_aton(config.multicast_interface)
        self._send.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, interface)
        self._send.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
        self._thread = threading.Thread(target=self._listen, name="peer", daemon=True)

    def _receiver(self) -> socket.socket:
        config = self.config
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if hasattr(socket, "SO_REUSEPORT"):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(("", config.multicast_port))
        membership = struct.pack(
            "4s4s",
            socket.inet_aton(config.multicast_group),
            socket.inet_aton(config.multicast_interface),
        )
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, membership)
        sock.settimeout(0.5)
        return sock

    def start(self) -> None:
        self._thread.start()

    def _peers_stamp(self) -> float:
        try:
            return self.home.peers_path.stat().st_mtime
        except OSError:
            return 0.0

    def reload_peers(self) -> None:
        """Take up a peer list fetched since (a device enrolled with the force)."""
        stamp = self._peers_stamp()
        if stamp != self._peers_seen:
            self._peers_seen = stamp
            fresh = Verifier(self.verifier.own_serial, self.group, self.home.peers())
            self.verifier.keys = fresh.keys

    def announce(self) -> str:
        """Send our start to the group (and any unicast peers); the event_id."""
        assert self.config.serial
        datagram, event_id = make_datagram(self.key, self.config.serial, self.key_id, self.group)
        targets = [(self.config.multicast_group, self.config.multicast_port)]
        for peer in self.config.peer_unicast:
            host, _, port = peer.rpartition(":")
            targets.append((host, int(port)))
        for target in targets:
            try:
                self._send.sendto(datagram, target)
            except OSError as exc:
                logging.getLogger(__name__).warning("peer start to %s failed: %s", target, exc)
        self._log({"event": "sent", "event_id": event_id})
        return event_id

    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                datagram, sender = self._recv.recvfrom(MAX_DATAGRAM)
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                event = self.verifier.check(datagram)
            except PeerRefused as exc:
                if str(exc) == "own event":
                    continue
                self.refused += 1
                logging.getLogger(__name__).warning(
                    "peer start refused from %s: %s", sender[0], exc
                )
                self._log({"event": "refused", "from": sender[0], "reason": str(exc)})
                continue
            self.accepted += 1
            self._log(
                {
                    "event": "accepted",
                    "from": sender[0],
                    "serial": event.serial,
                    "event_id": event.event_id,
                }
            )
            self.on_start(event)

    def _log(self, record: dict[str, object]) -> None:
        append_line(self.home.logs / "peer.jsonl", {"at": rfc3339(time.time()), **record})

    def close(self) -> None:
        self._stop.set()
        self._recv.close()
        self._send.close()
