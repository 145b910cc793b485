"""A minimal tus 1.0.0 client: creation (POST), PATCH from the server's offset with a
SHA-256 checksum per chunk, HEAD to resume. Where the upload lives is saved beside the
segment, so an offload cut off by a dead server or a lost network resumes, not restarts.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from .home import write_atomic
from .http import Client, Response, ServerRefused

TUS = {"Tus-Resumable": "1.0.0"}


def encode_metadata(values: dict[str, str]) -> str:
    return ",".join(
        f"{key} {base64.b64encode(value.encode('utf-8')).decode('ascii')}"
        for key, value in values.items()
    )


@dataclass
class UploadResult:
    location: str
    offset: int
    headers: dict[str, str]  # of the last answer (Overt-Upload-Status, Overt-Sha256...)


class TusUpload:
    def __init__(
        self,
        client: Client,
        path: Path,
        metadata: dict[str, str],
        state_path: Path,
        chunk_bytes: int = 8 << 20,
        bandwidth_kbps: int | None = None,
        endpoint: str = "/files/",
    ) -> None:
        self.client = client
        self.path = path
        self.metadata = metadata
        self.state_path = state_path
        self.chunk_bytes = chunk_bytes
        self.bandwidth_kbps = bandwidth_kbps
        self.endpoint = endpoint
        self.size = path.stat().st_size

    def _saved_location(self) -> str | None:
        if not self.state_path.exists():
            return None
        try:
            data = json.loads(self.state_path.read_text("utf-8"))
        except ValueError:
            return None
        location = data.get("location")
        return location if isinstance(location, str) and data.get("size") == self.size else None

    def _create(self) -> str:
        headers = {
            **TUS,
            "Upload-Length": str(self.size),
            "Upload-Metadata": encode_metadata(self.metadata),
        }
        response = self.client.request("POST", self.endpoint, b"", headers, ok=(201,))
        location = response.headers.get("location")
        if not location:
            raise ServerRefused(response.status, "tus creation answered without a Location")
        location = urlsplit(self.client.url(location)).path
        record = {"location": location, "size": self.size}
        write_atomic(self.state_path, json.dumps(record).encode("utf-8"))
        return location

    def _offset(self, location: str) -> tuple[int, dict[str, str]] | None:
        try:
            response = self.client.request("HEAD", location, None, dict(TUS), ok=(200, 204))
        except ServerRefused as exc:
            if exc.status in (404, 410):
                return None  # expired or gone: start again
            raise
        return int(response.headers.get("upload-offset", "0")), response.headers

    def run(self) -> UploadResult:
        location = self._saved_location()
        found = self._offset(location) if location else None
        if location is None or found is None:
            location = self._create()
            offset, headers = 0, dict[str, str]()
        else:
            offset, headers = found
        with self.path.open("rb") as handle:
            while offset < self.size:
                handle.seek(offset)
                chunk = handle.read(self._chunk_size())
                began = time.monotonic()
                response = self._patch(location, offset, chunk)
                headers = response.headers
                offset = int(headers.get("upload-offset", offset + len(chunk)))
                self._throttle(len(chunk), time.monotonic() - began)
        return UploadResult(location, offset, headers)

    def _patch(self, location: str, offset: int, chunk: bytes) -> Response:
        digest = base64.b64encode(hashlib.sha256(chunk).digest()).decode("ascii")
        headers = {
            **TUS,
            "Upload-Offset": str(offset),
            "Content-Type": "application/offset+octet-stream",
            "Upload-Checksum": f"sha256 {digest}",
        }
        try:
            return self.client.request("PATCH", location, chunk, headers, ok=(204,))
        except ServerRefused as exc:
            if exc.status == 409:  # our offset is stale: the server says where it is
                found = self._offset(location)
                if found is not None:
                    return Response(204, {"upload-offset": str(found[0])}, b"", 0.0, 0.0)
            raise

    def _chunk_size(self) -> int:
        if self.bandwidth_kbps:
            # About a second's worth, so the cap holds over short spans too.
            return max(16 * 1024, min(self.chunk_bytes, self.bandwidth_kbps * 125))
        return self.chunk_bytes

    def _throttle(self, sent: int, took: float) -> None:
        if self.bandwidth_kbps:
            wanted = sent * 8 / (self.bandwidth_kbps * 1000)
            if wanted > took:
                time.sleep(wanted - took)
