"""A simulated AXIS Body Worn System, written from the Body Worn Integration API README:
it reads a connection file, authenticates, checks Capabilities.json against its ETag,
stores its system ID, registers users and cameras, and uploads recordings (clips,
bookmarks, a GNSS track) before setting the container's Status to Complete.

Header names are sent the way a Go HTTP client canonicalises them (X-Object-Meta-Userid),
and every value is URL-encoded UTF-8, as the spec says.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import requests


def _meta(kind: str, values: dict[str, str]) -> dict[str, str]:
    return {f"X-{kind}-Meta-{key}": quote(value, safe="") for key, value in values.items()}


def _group_of(capability: str) -> str:
    """The spec's naming rule: the prefix says which group a capability belongs in."""
    if capability.startswith("StoreRead"):
        return "StoreAndRead"
    return "Store" if capability.startswith("Store") else "Read"


def _epoch(when: datetime) -> str:
    return str(int(when.timestamp()))


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Clip:
    path: Path
    start: datetime
    stop: datetime


@dataclass
class Bookmark:
    at: datetime
    text: str
    category: str = ""
    tags: str = ""


@dataclass
class BodyWornSystem:
    connection: dict
    system_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    token: str = ""
    storage_url: str = ""
    capabilities: dict = field(default_factory=dict)
    log: list[tuple[str, str, int]] = field(default_factory=list)

    def _call(self, method: str, path: str, **kwargs) -> requests.Response:
        headers = {"X-Auth-Token": self.token, **kwargs.pop("headers", {})}
        response = requests.request(
            method, f"{self.storage_url}/{path}", headers=headers, timeout=60, **kwargs
        )
        self.log.append((method, path, response.status_code))
        return response

    def connect(self) -> None:
        auth = requests.get(
            self.connection["AuthenticationTokenURI"][0],
            headers={
                "X-Auth-User": self.connection["BlobAPIUserName"],
                "X-Auth-Key": self.connection["BlobAPIKey"],
            },
            timeout=30,
        )
        auth.raise_for_status()
        self.token = auth.headers["X-Auth-Token"]
        self.storage_url = auth.headers["X-Storage-Url"]
        capability = self._call("GET", "System/Capabilities.json")
        capability.raise_for_status()
        if capability.headers["ETag"].strip('"') != hashlib.md5(capability.content).hexdigest():
            raise RuntimeError("object corrupt")  # what the SCU logs for a bad ETag
        declared = json.loads(capability.content)
        # As the spec says a system reads it: a capability counts only in the group its
        # name calls for (Store..., Read..., StoreRead... under StoreAndRead).
        for group, names in declared.items():
            for key, value in names.items():
                if value and _group_of(key) == group:
                    self.capabilities[key] = True
        if self.capabilities.get("StoreReadSystemID"):
            self._call("PUT", "System").raise_for_status()
            self._call(
                "PUT",
                f"System/{self.system_id}",
                data=b"",
                headers=_meta(
                    "Object",
                    {"Connectionid": "conn-" + self.system_id[:8], "Systemname": "BWS Nord"},
                ),
            ).raise_for_status()
            readback = self._call("GET", f"System/{self.system_id}")
            readback.raise_for_status()

    def register_user(self, user_uuid: str, name: str, user_id: str) -> requests.Response:
        self._call("PUT", "Users").raise_for_status()
        values = {"Name": name, "Active": "True"}
        if self.capabilities.get("StoreUserIDKey"):
            values["Userid"] = user_id
        return self._call("PUT", f"Users/{user_uuid}", data=b"", headers=_meta("Object", values))

    def register_device(self, serial: str, name: str, model: str) -> requests.Response:
        self._call("PUT", "Devices").raise_for_status()
        return self._call(
            "PUT",
            f"Devices/{serial}",
            data=b"",
            headers=_meta("Object", {"Name": name, "Model": model, "Active": "True"}),
        )

    def upload_recording(
        self,
        user_uuid: str,
        serial: str,
        trigger_on: datetime,
        trigger_off: datetime,
        clips: list[Clip],
        bookmarks: list[Bookmark],
        track: list[tuple[float, float, datetime]],
    ) -> tuple[str, requests.Response]:
        container = f"{user_uuid}_{serial}_{trigger_on:%Y%m%d_%H%M%S}"
        recording_id = "4711"
        self._call(
            "PUT",
            container,
            headers=_meta(
                "Container",
                {
                    "Bwcserialnumber": serial,
                    "Scuserialnumber": "SCU-0001",
                    "Firmwareversion": "11.2.3",
                    "Userid": user_uuid,
                    "Triggeron": "Button",
                    "Triggerontime": _epoch(trigger_on),
                    "Triggerontimeiso": _iso(trigger_on),
                    "Triggeronlocation": "55.718409 13.221184 5 " + _epoch(trigger_on),
                    "Bwcmodel": "W110",
                    "Status": "Transferring",
                },
            ),
        ).raise_for_status()
        for clip in clips:
            body = clip.path.read_bytes()
            response = self._call(
                "PUT",
                f"{container}/{clip.start:%Y%m%d_%H%M%S}_{recording_id}.mp4",
                data=body,
                headers={
                    "ETag": hashlib.md5(body).hexdigest(),
                    **_meta(
                        "Object",
                        {
                            "Starttime": _epoch(clip.start),
                            "Starttimeiso": _iso(clip.start),
                            "Stoptime": _epoch(clip.stop),
                            "Stoptimeiso": _iso(clip.stop),
                            "Containertype": "mp4",
                        },
                    ),
                },
            )
            response.raise_for_status()
            if response.headers["ETag"].strip('"') != hashlib.md5(body).hexdigest():
                raise RuntimeError("object corrupt")
        if self.capabilities.get("StoreBookmarks"):
            for n, bookmark in enumerate(bookmarks):
                values = {"Starttime": _iso(bookmark.at)}
                if bookmark.category:
                    values["Categoryname"] = bookmark.category
                if bookmark.tags:
                    values["Tags"] = bookmark.tags
                self._call(
                    "PUT",
                    f"{container}/bookmark_{_epoch(bookmark.at)}_{n}",
                    data=bookmark.text.encode("utf-8"),
                    headers=_meta("Object", values),
                ).raise_for_status()
        if self.capabilities.get("StoreGNSSTrackRecording") and track:
            trail = {
                "CoordinateEntries": [
                    {
                        "LocationWKT": f"POINT({lon} {lat})",
                        "SecondsFromStart": (when - clips[0].start).total_seconds(),
                        "Timestamp": _iso(when),
                    }
                    for lon, lat, when in track
                ]
            }
            self._call(
                "PUT",
                f"{container}/{trigger_on:%Y%m%d_%H%M%S}_{recording_id}_{serial}_gpstrail.json",
                data=json.dumps(trail).encode(),
                headers=_meta("Object", {"Filetype": "json"}),
            ).raise_for_status()
        done = self._call(
            "POST",
            container,
            headers=_meta(
                "Container",
                {
                    "Triggeroff": "Button",
                    "Triggerofftime": _epoch(trigger_off),
                    "Triggerofftimeiso": _iso(trigger_off),
                    "Status": "Complete",
                },
            ),
        )
        return container, done
