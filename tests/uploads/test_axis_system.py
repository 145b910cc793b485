"""An AXIS Body Worn System (simulated from the spec) against a real `overt serve`,
configured from the connection file that `overt axis connection-file` prints: a
multi-clip recording with bookmarks and a GNSS track becomes one overt Recording."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from datetime import UTC, datetime, timedelta

from support_cli import CLIP_START

from .axis_bws import BodyWornSystem, Bookmark, Clip

USER_UUID = "3f2c8e4a-9b1d-4e6f-a0c2-5d7e9f1b3c4d"
SERIAL = "B8A44F3A9C21"


def test_a_body_worn_system_uploads_a_recording(overt_process, clips) -> None:
    out = overt_process.cli("axis", "connection-file", "--url", overt_process.url)
    assert out.returncode == 0, out.stderr
    connection = json.loads(out.stdout)
    assert connection["AuthenticationTokenURI"] == [f"{overt_process.url}/auth/v1.0"]
    assert connection["WantEncryption"] is False
    overt_process.start()

    bws = BodyWornSystem(connection)
    bws.connect()
    assert bws.capabilities.keys() >= {"StoreBookmarks", "StoreGNSSTrackRecording"}
    assert bws.register_user(USER_UUID, "PC Ingrid Ödegaard", "MP4121").status_code == 201
    assert bws.register_device(SERIAL, "Kamera 7", "W110").status_code == 201

    trigger_on = CLIP_START - timedelta(seconds=2)
    second = CLIP_START + timedelta(seconds=2)
    container, done = bws.upload_recording(
        USER_UUID,
        SERIAL,
        trigger_on=trigger_on,
        trigger_off=second + timedelta(seconds=2),
        clips=[
            Clip(clips["good"], CLIP_START, CLIP_START + timedelta(seconds=2)),
            Clip(clips["silent"], second, second + timedelta(seconds=2)),
        ],
        bookmarks=[
            Bookmark(
                CLIP_START + timedelta(seconds=1),
                "Suspect runs north",
                "Pursuit",
                "TriggerOn:Button;Unit:TSG",
            ),
            Bookmark(second + timedelta(seconds=1), ""),
        ],
        track=[
            (13.221184, 55.718409, CLIP_START),
            (13.220701, 55.718702, CLIP_START + timedelta(seconds=2)),
            (13.221424, 55.718778, second + timedelta(seconds=1)),
        ],
    )
    assert done.status_code == 204, done.text
    again = bws._call("POST", container, headers={"X-Container-Meta-Status": "Complete"})
    assert again.status_code == 204  # a retried Complete changes nothing
    late = bws._call("PUT", f"{container}/late.mp4", data=b"late")
    assert late.status_code == 409
    overt_process.stop()

    db = sqlite3.connect(overt_process.home / "overt.sqlite3")
    [(recording_id, officer, device, trigger, track_json)] = db.execute(
        "SELECT r.id, o.number, d.serial, r.trigger_on_at, r.gps_track "
        "FROM evidence_recording r JOIN evidence_officer o ON o.id = r.officer_id "
        "JOIN evidence_device d ON d.id = r.device_id"
    )
    assert (officer, device) == ("MP4121", SERIAL)
    assert trigger.startswith(trigger_on.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"))
    assert [(p["lat"], p["lon"]) for p in json.loads(track_json)] == [
        (55.718409, 13.221184),
        (55.718702, 13.220701),
        (55.718778, 13.221424),
    ]
    originals = db.execute(
        "SELECT sha256, filename, source FROM evidence_original WHERE recording_id = ? "
        "ORDER BY started_at",
        (recording_id,),
    ).fetchall()
    sent = [clips["good"].read_bytes(), clips["silent"].read_bytes()]
    assert [o[0] for o in originals] == [hashlib.sha256(b).hexdigest() for b in sent]
    assert {o[2] for o in originals} == {"upload"}
    for (sha, _, _), body in zip(originals, sent, strict=True):
        stored = overt_process.home / "store" / "objects" / sha[:2] / sha[2:4] / sha
        assert stored.read_bytes() == body  # byte-identical, as signed video needs
    markers = [
        m[0]
        for m in db.execute(
            "SELECT text FROM evidence_marker WHERE recording_id = ? ORDER BY at", (recording_id,)
        )
    ]
    assert markers == ["Pursuit · Suspect runs north · tags: TriggerOn:Button;Unit:TSG", "Bookmark"]
    actors = {
        json.loads(e)["actor"]["id"]
        for (e,) in db.execute("SELECT entry FROM custody_custodyentry WHERE action = 'ingest'")
    }
    assert actors == {SERIAL}
    assert not list((overt_process.home / "uploads" / "axis").glob("*.part"))
    [(status,)] = db.execute(
        "SELECT status FROM uploads_axiscontainer WHERE name = ?", (container,)
    )
    assert status == "complete"
    assert db.execute("SELECT name FROM evidence_officer WHERE number = 'MP4121'").fetchone() == (
        "PC Ingrid Ödegaard",
    )
    assert datetime.now(UTC) > trigger_on
