"""The ingest service's steps one by one (issue 12 item 4), and the rule that binds them:
a request stopped after any step leaves nothing half-written: no catalogue row, custody
entry, marker, incident or job; at most the stored object, once `store_bytes` has run
(bytes before the row is the documented order)."""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from overt.custody.models import CustodyEntry
from overt.custody.services import Actor
from overt.evidence.models import Category, Incident, Marker, Original, Recording
from overt.evidence.store import HashMismatch, InsufficientSpace, get_store
from overt.ingest import steps
from overt.ingest.people import UnknownDevice
from overt.ingest.prechecks import ImpossibleTime, UnknownCategory
from overt.ingest.request import (
    Activation,
    Bookmark,
    GeoPoint,
    IngestRequest,
    TrackPoint,
    from_sidecar,
)
from overt.ingest.services import IngestError, ingest
from overt.ingest.sidecar import parse_sidecar
from overt.jobs.models import Job

# Database tests here run on both engines by folder (overt.testing.engines); the ones
# that touch no engine run once.

START = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def playable(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A playable clip whose bytes no other test stores."""
    from overt.demo.footage import render_clip

    path = tmp_path_factory.mktemp("steps") / "steps.mp4"
    render_clip(
        path,
        seed=41207,
        start_utc=START,
        duration_s=1,
        device_serial="CAM-1",
        officer_number="MP100",
        width=320,
        height=240,
    )
    return path


def _context(request: IngestRequest) -> steps.IngestContext:
    return steps.IngestContext(request=request, store=get_store(), actor=Actor.system("test"))


def _full_request(path: Path) -> IngestRequest:
    """A request that gives every step work: an activation with an incident, a place and
    a track, a marker and a category."""
    return IngestRequest(
        path=path,
        filename="front-door.mp4",
        officer_number="MP100",
        device_serial="CAM-1",
        actor=Actor("device", "DOCK-1"),
        started_at=START,
        activation=Activation(
            trigger_on_at=START,
            incident="INC-STEPS-1",
            location=GeoPoint(51.5, -0.1),
            gps_track=(TrackPoint(START, 51.5, -0.1),),
        ),
        markers=(Bookmark(START + timedelta(seconds=1), "door"),),
        categories=("steps",),
        source=Original.Source.UPLOAD,
    )


# --- each step alone ---------------------------------------------------------------------


def test_examine_source_tells_a_file_from_a_pipe_and_refuses_the_rest(
    db: None, tmp_path: Path
) -> None:
    file = tmp_path / "clip.mp4"
    file.write_bytes(b"x" * 10)
    ctx = _context(IngestRequest(path=file))
    steps.examine_source(ctx)
    assert (ctx.size, ctx.regular) == (10, True)

    fifo = tmp_path / "pipe.mp4"
    os.mkfifo(fifo)
    ctx = _context(IngestRequest(path=fifo))
    steps.examine_source(ctx)
    assert ctx.regular is False

    with pytest.raises(IngestError, match="is a directory"):
        steps.examine_source(_context(IngestRequest(path=tmp_path)))
    with pytest.raises(IngestError, match="is 10 bytes, not the 11 it was sent as"):
        steps.examine_source(_context(IngestRequest(path=file, size=11)))


def test_check_request_admits_the_people_and_categories(people, tmp_path: Path) -> None:
    officer, device = people
    Category.objects.create(name="steps")
    file = tmp_path / "clip.mp4"
    file.write_bytes(b"not probed")
    ctx = _context(_full_request(file))
    steps.check_request(ctx)
    assert ctx.admitted is not None
    assert (ctx.admitted.officer, ctx.admitted.device) == (officer, device)
    assert [c.name for c in ctx.admitted.categories] == ["steps"]
    assert ctx.early is None, "an officer was named: nothing needed the file probed"


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"started_at": datetime(1990, 1, 1, tzinfo=UTC)}, ImpossibleTime, "outside the"),
        ({"stopped_at": START - timedelta(seconds=1)}, ImpossibleTime, "before its start"),
        ({"markers": (Bookmark(datetime(9999, 1, 1, tzinfo=UTC), "x"),)}, ImpossibleTime, "a marker"),
        ({"device_serial": "NOPE"}, UnknownDevice, "unknown device 'NOPE'"),
        ({"categories": ("no-such",)}, UnknownCategory, "unknown category 'no-such'"),
    ],
)
def test_check_request_refuses_before_anything_is_stored(
    people, tmp_path: Path, changes: dict, error: type[Exception], message: str
) -> None:
    file = tmp_path / "clip.mp4"
    file.write_bytes(b"refused")
    fields = {
        "path": file,
        "officer_number": "MP100",
        "device_serial": "CAM-1",
        "started_at": START,
        **changes,
    }
    with pytest.raises(error, match=message):
        steps.check_request(_context(IngestRequest(**fields)))
    # Every refusal is an IngestError, which every door reports as the request's fault.
    assert issubclass(error, IngestError)


def test_an_impossible_time_is_also_a_value_error_so_the_dock_quarantines_it() -> None:
    assert issubclass(ImpossibleTime, ValueError)


def test_name_file_takes_the_doors_name_or_the_paths_and_only_a_plain_one(
    db: None, tmp_path: Path
) -> None:
    ctx = _context(IngestRequest(path=tmp_path / "on-disk.mp4"))
    steps.name_file(ctx)
    assert ctx.filename == "on-disk.mp4"
    ctx = _context(IngestRequest(path=tmp_path / "x", filename="sent.mp4"))
    steps.name_file(ctx)
    assert ctx.filename == "sent.mp4"
    with pytest.raises(ValueError, match="plain name"):
        steps.name_file(_context(IngestRequest(path=tmp_path / "x", filename="../up.mp4")))


def test_check_space_refuses_what_would_eat_the_reserve(db: None, settings_env) -> None:
    free = get_store().free_bytes()
    if free is None:
        pytest.skip("this store reports no free space (S3)")
    # Far above what is free now: other tests freeing files meanwhile must not let it fit.
    settings_env(min_free_bytes=free + (1 << 40))
    ctx = _context(IngestRequest(path=Path("unused")))
    ctx.size = 1
    with pytest.raises(InsufficientSpace):
        steps.check_space(ctx)


def test_a_finished_upload_is_adopted_and_its_room_not_asked_for_again(
    db: None, tmp_path: Path, unique_bytes
) -> None:
    """A door's finished file (tus, Axis) is adopted, not copied: on the local store the
    file becomes the object, and the room it already takes is not counted again (item 9)."""
    data = unique_bytes(100_000)
    file = tmp_path / "upload.part"
    file.write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    store = get_store()
    wrong = IngestRequest(path=file, adopt=True, received_sha256=digest, declared_sha256="0" * 64)
    with pytest.raises(HashMismatch):
        steps.store_bytes(_context(wrong))
    assert not store.exists(digest)

    request = IngestRequest(path=file, adopt=True, received_sha256=digest)
    ctx = _context(request)
    ctx.size = len(data)
    if store.free_bytes() is not None:
        # Same filesystem: a link takes no room, so check_space asks for none (the end to
        # end case, a reserve that a second count would break, is test_upload_space.py).
        assert store.room_to_adopt(file) == 0
    steps.check_space(ctx)
    seen: list[int] = []
    ctx.progress = seen.append
    steps.store_bytes(ctx)
    assert ctx.stored is not None
    assert (ctx.stored.sha256, ctx.stored.created, seen) == (digest, True, [len(data)])
    assert b"".join(store.read_range(digest)) == data
    local = store.local_path(digest)
    if local is not None:
        assert os.stat(local).st_ino == os.stat(file).st_ino


def test_store_bytes_keeps_the_declared_bytes_and_refuses_others(
    db: None, tmp_path: Path, unique_bytes
) -> None:
    data = unique_bytes(5000)
    file = tmp_path / "clip.mp4"
    file.write_bytes(data)
    wrong = "0" * 64
    with pytest.raises(HashMismatch):
        steps.store_bytes(_context(IngestRequest(path=file, declared_sha256=wrong)))
    assert not get_store().exists(hashlib.sha256(data).hexdigest())

    ctx = _context(IngestRequest(path=file, declared_sha256=hashlib.sha256(data).hexdigest()))
    steps.store_bytes(ctx)
    assert ctx.stored is not None and ctx.stored.size == 5000
    assert get_store().exists(ctx.stored.sha256)


def test_find_duplicate_ends_a_known_delivery_with_its_own_custody_entry(
    people, playable: Path
) -> None:
    first = ingest(IngestRequest(path=playable, officer_number="MP100", device_serial="CAM-1"))
    ctx = _context(
        IngestRequest(path=playable, officer_number="MP100", device_serial="CAM-1")
    )
    for step in steps.PREPARE[: steps.PREPARE.index(steps.find_duplicate) + 1]:
        step(ctx)
    assert ctx.result is not None and ctx.result.status == "duplicate"
    assert ctx.result.id == first.id
    entries = CustodyEntry.objects.filter(object_sha256=first.sha256, action="ingest")
    assert entries.count() == 2


def test_probe_stored_reads_the_stored_bytes(people, playable: Path) -> None:
    ctx = _context(IngestRequest(path=playable, officer_number="MP100", device_serial="CAM-1"))
    for step in steps.PREPARE:
        step(ctx)
    assert ctx.info is not None and ctx.info.playable and ctx.info.duration_s


def test_the_record_steps_catalogue_everything_the_request_says(people, playable) -> None:
    Category.objects.create(name="steps")
    result = ingest(_full_request(playable))
    original = Original.objects.get(pk=result.id)
    recording = original.recording
    assert original.filename == "front-door.mp4" and original.source == "upload"
    assert recording.incident.reference == "INC-STEPS-1"
    assert (recording.start_latitude, recording.start_longitude) == (51.5, -0.1)
    assert recording.gps_track == [{"t": START.isoformat(), "lat": 51.5, "lon": -0.1}]
    assert [m.text for m in recording.markers.all()] == ["door"]
    assert [c.name for c in recording.categories.all()] == ["steps"]
    assert set(
        CustodyEntry.objects.filter(object_sha256=result.sha256).values_list("action", flat=True)
    ) == {"ingest", "category-change"}
    assert Job.objects.filter(key__endswith=f":original:{original.pk}").exists()


def test_from_sidecar_merges_what_was_given_with_what_the_sidecar_says(tmp_path: Path) -> None:
    sidecar = parse_sidecar(
        b'{"schema": "overt.sidecar/1", "officer": "MP100", "sha256": "'
        + b"a" * 64
        + b'", "clip": {"started_at": "2026-11-20T15:00:00+01:00", "filename": "c.mp4"},'
        b' "categories": ["x", "x"]}'
    )
    request = from_sidecar(tmp_path / "f", sidecar, device_serial="CAM-1")
    assert request.officer_number == "MP100" and request.device_serial == "CAM-1"
    assert request.started_at == START and request.started_at.tzinfo == UTC
    assert request.filename == "c.mp4" and request.categories == ("x",)
    with pytest.raises(IngestError, match="declared sha256 disagrees"):
        from_sidecar(tmp_path / "f", sidecar, declared_sha256="B" * 64)
    with pytest.raises(IngestError, match="officer 'MP9' disagrees"):
        from_sidecar(tmp_path / "f", sidecar, officer_number="MP9")
    assert IngestRequest(path=tmp_path, declared_sha256="AB" * 32).declared_sha256 == "ab" * 32


# --- a failure after any step leaves nothing half-written --------------------------------


class Boom(Exception):
    pass


ALL_STEPS = [("prepare", s) for s in steps.PREPARE] + [("record", s) for s in steps.RECORD]


@pytest.mark.parametrize(
    ("phase", "after"), ALL_STEPS, ids=[f"{p}-{s.__name__}" for p, s in ALL_STEPS]
)
def test_a_failure_after_any_step_leaves_nothing_half_written(
    people, playable: Path, phase: str, after: steps.Step
) -> None:
    Category.objects.create(name="steps")
    seen: list[steps.IngestContext] = []

    def boom(ctx: steps.IngestContext) -> None:
        seen.append(ctx)
        raise Boom(f"stopped after {after.__name__}")

    prepare, record = list(steps.PREPARE), list(steps.RECORD)
    chain = prepare if phase == "prepare" else record
    chain.insert(chain.index(after) + 1, boom)
    with pytest.raises(Boom):
        ingest(_full_request(playable), prepare=prepare, record=record)

    assert len(seen) == 1, "every step before the failure ran"
    stored = seen[0].stored
    if phase == "prepare" and steps.PREPARE.index(after) < steps.PREPARE.index(steps.store_bytes):
        assert stored is None, "nothing is stored before the checks have passed"
    else:  # the documented order: the bytes may stay, unreferenced and whole
        assert stored is not None and get_store().exists(stored.sha256)
    assert not Original.objects.exists()
    assert not Recording.objects.exists()
    assert not Marker.objects.exists()
    assert not Incident.objects.filter(reference="INC-STEPS-1").exists()
    assert not CustodyEntry.objects.filter(action__in=["ingest", "category-change"]).exists()
    assert not Job.objects.exists()

    # And the same request, run whole, goes in as if nothing had happened.
    assert ingest(_full_request(playable)).status == "stored"
