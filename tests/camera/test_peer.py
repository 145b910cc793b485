"""Peer start: signed datagrams on a multicast group; two real agents on loopback; forged,
replayed, stale, foreign and unknown events refused and logged on the device."""

from __future__ import annotations

import base64
import json
import socket
import struct
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from overt_camera import keys
from overt_camera.home import Home
from overt_camera.peer import PeerRefused, Verifier, make_datagram

from .support_camera import AgentProcess, free_udp_port, manifests, offline_home, peer_entry

GROUP = "239.255.42.99"


def _key() -> tuple[Ed25519PrivateKey, dict[str, str]]:
    key = Ed25519PrivateKey.generate()
    public = keys.public_raw(key)
    return key, {"serial": "CAM-A", "key_id": keys.key_id(public), "public_key": keys.b64(public)}


def test_the_rules_of_a_peer_start() -> None:
    key, entry = _key()
    verifier = Verifier("CAM-B", "trojan", [entry])
    now = 1_800_000_000.0
    datagram, event_id = make_datagram(key, "CAM-A", entry["key_id"], "trojan", now)
    event = verifier.check(datagram, now + 3)
    assert (event.serial, event.event_id) == ("CAM-A", event_id)
    with pytest.raises(PeerRefused, match="replayed"):
        verifier.check(datagram, now + 4)
    stale, _ = make_datagram(key, "CAM-A", entry["key_id"], "trojan", now - 31)
    with pytest.raises(PeerRefused, match="window"):
        verifier.check(stale, now)
    future, _ = make_datagram(key, "CAM-A", entry["key_id"], "trojan", now + 31)
    with pytest.raises(PeerRefused, match="window"):
        verifier.check(future, now)
    other_group, _ = make_datagram(key, "CAM-A", entry["key_id"], "flying-squad", now)
    with pytest.raises(PeerRefused, match="other peer group"):
        verifier.check(other_group, now)
    stranger, stranger_entry = _key()
    unknown, _ = make_datagram(stranger, "CAM-A", stranger_entry["key_id"], "trojan", now)
    with pytest.raises(PeerRefused, match="not a known device"):
        verifier.check(unknown, now)
    # Forged: a known device's key id and serial, signed by another key.
    forged, _ = make_datagram(stranger, "CAM-A", entry["key_id"], "trojan", now)
    with pytest.raises(PeerRefused, match="forged"):
        verifier.check(forged, now)
    # Altered after signing: the signature no longer covers the bytes.
    good, _ = make_datagram(key, "CAM-A", entry["key_id"], "trojan", now)
    body, signature = good.split(b"\n")
    tampered = json.loads(body)
    tampered["event_id"] = "0" * 32  # a fresh id, to slip past the replay check
    resigned = json.dumps(tampered, sort_keys=True, separators=(",", ":")).encode()
    with pytest.raises(PeerRefused, match="forged"):
        verifier.check(resigned + b"\n" + signature, now)
    with pytest.raises(PeerRefused, match="own event"):
        Verifier("CAM-A", "trojan", [entry]).check(good, now)
    for junk in (b"", b"not json\nAAAA", b"{}\n" + base64.b64encode(b"x" * 64), b"\xff" * 40):
        with pytest.raises(PeerRefused, match="malformed"):
            verifier.check(junk, now)


def test_seen_events_survive_a_restart_and_an_unreadable_record_refuses(tmp_path: Path) -> None:
    key, entry = _key()
    seen = tmp_path / "peer-seen.json"
    now = 1_800_000_000.0
    datagram, _ = make_datagram(key, "CAM-A", entry["key_id"], "trojan", now)
    Verifier("CAM-B", "trojan", [entry], seen).check(datagram, now + 1)
    restarted = Verifier("CAM-B", "trojan", [entry], seen)
    with pytest.raises(PeerRefused, match="replayed"):
        restarted.check(datagram, now + 20)
    # Old entries are pruned once far outside the window; a fresh event is accepted.
    later, _ = make_datagram(key, "CAM-A", entry["key_id"], "trojan", now + 600)
    restarted.check(later, now + 601)
    assert list(json.loads(seen.read_text())["seen"].values()) == [now + 600]
    seen.write_text("{not json")
    fresh, _ = make_datagram(key, "CAM-A", entry["key_id"], "trojan")
    with pytest.raises(PeerRefused, match="unreadable"):
        Verifier("CAM-B", "trojan", [entry], seen).check(fresh)


def _listener(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("", port))
    membership = struct.pack("4s4s", socket.inet_aton(GROUP), socket.inet_aton("127.0.0.1"))
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, membership)
    sock.settimeout(30)
    return sock


def _send(datagram: bytes, port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP) as sock:
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("127.0.0.1"))
        sock.sendto(datagram, (GROUP, port))


def _peer_log(home: Home) -> list[dict]:
    path = home.logs / "peer.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_two_agents_on_loopback_start_together_and_refuse_forgeries(tmp_path: Path) -> None:
    port = free_udp_port()
    settings = {"peer_group": "trojan", "multicast_port": port,
                "multicast_interface": "127.0.0.1", "multicast_group": GROUP}  # fmt: skip
    a = offline_home(tmp_path / "a", "CAM-A", **settings)
    b = offline_home(tmp_path / "b", "CAM-B", **settings)
    force = {"peers": [peer_entry(a, "CAM-A"), peer_entry(b, "CAM-B")]}
    a.save_peers(force)
    b.save_peers(force)
    listener = _listener(port)
    first, second = AgentProcess(a).start(), AgentProcess(b).start()
    try:
        first.wait_buffered(1)
        second.wait_buffered(1)
        started = first.trigger("start", "shots fired")
        assert started.status_code == 200
        status = second.wait_for(lambda s: s["state"] == "recording", "the peer start")
        assert status["peer"] == {"accepted": 1, "refused": 0}
        sent = listener.recv(4096)
        # Replayed: the same datagram again, inside the window.
        _send(sent, port)
        # Forged: CAM-A's name and key id, signed by a key the force never enrolled.
        stranger = Ed25519PrivateKey.generate()
        forged, _ = make_datagram(stranger, "CAM-A", peer_entry(a, "CAM-A")["key_id"], "trojan")
        _send(forged, port)
        status = second.wait_for(lambda s: s["peer"]["refused"] >= 2, "two refusals")
        assert status["peer"]["accepted"] == 1
        second.trigger("stop", "done")
        first.trigger("stop", "done")
        (record,) = manifests(b)
        peer_trigger = record["triggers"][0]
        assert peer_trigger["kind"] == "peer" and peer_trigger["peer_serial"] == "CAM-A"
        log = _peer_log(b)
        reasons = [entry.get("reason", "") for entry in log if entry["event"] == "refused"]
        assert any("replayed" in r for r in reasons) and any("forged" in r for r in reasons)
        assert [e["serial"] for e in log if e["event"] == "accepted"] == ["CAM-A"]
        assert any(e["event"] == "sent" for e in _peer_log(a))
        # Restarted, the agent still knows the event: a replay inside the window is refused.
        assert second.stop() == 0
        second = AgentProcess(b).start()
        second.wait_buffered(1)
        _send(sent, port)
        status = second.wait_for(lambda s: s["peer"]["refused"] >= 1, "the replay refused")
        assert status["peer"]["accepted"] == 0 and status["state"] == "buffering"
        assert "replayed" in _peer_log(b)[-1]["reason"]
    finally:
        listener.close()
        first.stop()
        second.stop()
