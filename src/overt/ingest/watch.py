"""The dock folder: take a file only once it has stopped changing, ingest it, and
only then move it out of the way. Nothing is deleted unless the settings say so.

A file is never dropped and never stops the watcher. A refusal that depends on
something outside the file (an officer or device not registered yet, the store down,
no room) leaves it in place, to be tried again when it changes or the watcher restarts.
A file that is itself at fault (its sidecar unreadable or impossible, its bytes not
matching the declared hash, or anything unexpected) is moved with its sidecar into
FOLDER/.quarantine/ beside a reason file, and a custody `verify` entry records its hash;
the watcher goes on, and a restart does not see it again.
"""

from __future__ import annotations

import logging
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from django.db import DatabaseError

from overt.conf import get_settings
from overt.evidence.models import Original
from overt.evidence.store import HashMismatch, StoreError

from .quarantine import quarantine_dock_file
from .services import IngestError, IngestResult, ingest_file
from .sidecar import SidecarError, read_sidecar

log = logging.getLogger(__name__)
SIDECAR_SUFFIX = ".json"
QUARANTINE_DIR = ".quarantine"


@dataclass(frozen=True, slots=True)
class FileState:
    size: int
    mtime_ns: int


class DockWatcher:
    def __init__(
        self,
        folder: Path,
        *,
        officer_number: str | None = None,
        device_serial: str | None = None,
    ) -> None:
        self.folder = folder
        self.done_dir = folder / ".ingested"
        self.quarantine_dir = folder / QUARANTINE_DIR
        self.officer_number = officer_number
        self.device_serial = device_serial
        settings = get_settings()
        self.settle_s = settings.watch_settle_seconds
        self.poll_s = settings.watch_poll_seconds
        self.delete_source = settings.watch_delete_source
        self._seen: dict[Path, tuple[FileState, float]] = {}
        self._refused: dict[Path, FileState] = {}

    def candidates(self) -> list[Path]:
        if not self.folder.is_dir():
            raise IngestError(f"dock folder {self.folder} does not exist")
        return sorted(
            p
            for p in self.folder.iterdir()
            if p.is_file() and not p.name.startswith(".") and p.suffix != SIDECAR_SUFFIX
        )

    def scan(self, now: float | None = None) -> list[IngestResult]:
        """One pass: ingest every file unchanged for the settle time."""
        now = time.monotonic() if now is None else now
        results = []
        present = set()
        for path in self.candidates():
            present.add(path)
            try:
                stat = path.stat()
            except OSError:  # gone, or unreadable: look again next pass
                continue
            state = FileState(stat.st_size, stat.st_mtime_ns)
            if self._refused.get(path) == state:
                continue  # refused before and unchanged since; don't spam the log
            previous = self._seen.get(path)
            if previous is None or previous[0] != state:
                self._seen[path] = (state, now)
                if self.settle_s > 0:
                    continue
            elif now - previous[1] < self.settle_s:
                continue
            result = self._take(path, state)
            if result is not None:
                results.append(result)
        for gone in set(self._seen) - present:
            self._seen.pop(gone, None)
        return results

    def settle_and_scan(self) -> list[IngestResult]:
        """For --once: look, wait the settle time, and take what did not change."""
        self.scan()
        time.sleep(self.settle_s)
        return self.scan()

    def run_forever(self) -> None:
        while True:
            try:
                self.scan()
            except IngestError as exc:  # the folder went away (an unmounted dock): wait
                log.error("%s; still watching", exc)
            except Exception:  # whatever happens to one pass, the next one comes
                log.exception("dock scan of %s failed; still watching", self.folder)
            time.sleep(self.poll_s)

    def _take(self, path: Path, state: FileState) -> IngestResult | None:
        sidecar_path = path.with_name(path.name + SIDECAR_SUFFIX)
        try:
            sidecar = read_sidecar(sidecar_path) if sidecar_path.exists() else None
            result = ingest_file(
                path,
                officer_number=self.officer_number,
                device_serial=self.device_serial,
                sidecar=sidecar,
                source=Original.Source.DOCK_FOLDER,
            )
        except (SidecarError, HashMismatch, ValueError) as exc:  # the file is at fault
            self._quarantine(path, sidecar_path, state, str(exc))
            return None
        except (IngestError, StoreError, OSError, DatabaseError) as exc:
            # Not the file's fault: registration, room or the store may change.
            log.error("dock file %s refused, left in place: %s", path, exc)
            self._refused[path] = state
            return None
        except Exception as exc:  # a bad file must never stop the watcher
            log.exception("dock file %s could not be ingested", path)
            self._quarantine(
                path, sidecar_path, state, f"unexpected {type(exc).__name__}: {exc}"
            )
            return None
        self._seen.pop(path, None)
        self._refused.pop(path, None)
        try:
            self._retire(path)
            if sidecar_path.exists():
                self._retire(sidecar_path)
        except OSError as exc:  # catalogued; don't deliver it again on every pass
            log.error("dock file %s ingested but not moved out of the dock: %s", path, exc)
            self._refused[path] = state
        log.info("dock file %s ingested as %s (%s)", path.name, result.sha256, result.status)
        return result

    def _quarantine(
        self, path: Path, sidecar_path: Path, state: FileState, reason: str
    ) -> None:
        try:
            quarantine_dock_file(path, sidecar_path, self.quarantine_dir, reason)
        except Exception:  # even then: leave it, and do not try it again this run
            log.exception("dock file %s could not be quarantined; left in place", path)
            self._refused[path] = state
            return
        self._seen.pop(path, None)
        self._refused.pop(path, None)

    def _retire(self, path: Path) -> None:
        if self.delete_source:
            path.unlink(missing_ok=True)
            return
        self.done_dir.mkdir(exist_ok=True)
        target = self.done_dir / path.name
        counter = 1
        while target.exists():  # never overwrite an earlier file of the same name
            target = self.done_dir / f"{path.stem}.{counter}{path.suffix}"
            counter += 1
        shutil.move(str(path), target)
