"""tus and the command line share the ingest service's one pre-check (issue 12 item 4):
the same refusal, in the same words, whichever door a clip comes through."""

from __future__ import annotations

from pathlib import Path

import pytest

from overt.ingest.services import IngestError, ingest_file

from .conftest import create


@pytest.mark.parametrize(
    ("meta", "officer", "device"),
    [
        ({"officer": "MP999"}, "MP999", "CAM-1"),
        ({"device": "NOPE"}, "MP100", "NOPE"),
    ],
    ids=["unknown-officer", "unknown-device"],
)
def test_tus_refuses_unknown_people_in_the_ingest_services_words(
    server, camera, tmp_path: Path, meta: dict, officer: str, device: str
) -> None:
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"never stored")
    with pytest.raises(IngestError) as refused:
        ingest_file(clip, officer_number=officer, device_serial=device)

    if meta.get("device"):  # a camera's own token may send only its clips: use a dock's
        from overt.uploads.tokens import issue_token

        camera.token = issue_token("CAM-1", dock=True, created_by="test")
    response = create(server, camera, 100, **meta)
    assert response.status_code == 400, response.text
    assert response.json()["detail"] == str(refused.value)
