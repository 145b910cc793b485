"""The job worker that `overt serve` runs beside the web server, never left behind.

The worker is a child process in its own session (a terminal's Ctrl+C reaches the server,
which then stops the worker in order). Every exit path of the server stops it:
- a normal return, an exception or SIGTERM/SIGINT: `stop()` in the server's `finally`;
- the server killed outright (SIGKILL, OOM): on Linux the kernel sends the worker SIGTERM
  when its parent dies (PR_SET_PDEATHSIG).
A worker that dies on its own is started again; if it keeps dying, the server is told to
stop (SIGTERM to itself) rather than serve on with no worker.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)
PR_SET_PDEATHSIG = 1  # linux/prctl.h
STOP_WAIT_S = 10.0  # a worker finishing a job's current step; then it is killed
RESTART_DELAY_S = 1.0
CRASH_LIMIT = 5  # deaths within CRASH_WINDOW_S that make the server give up
CRASH_WINDOW_S = 60.0


def _die_with_parent(parent_pid: int) -> Callable[[], None]:
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up before the fork

    def in_child() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent_pid:  # the parent died before prctl took effect
            os._exit(1)

    return in_child


class WorkerSupervisor:
    def __init__(self, command: list[str] | None = None) -> None:
        self.command = command or [sys.executable, "-m", "overt", "worker"]
        self.proc: subprocess.Popen[bytes] | None = None
        self.gave_up = False
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._deaths: list[float] = []
        self._watcher = threading.Thread(target=self._watch, name="overt-worker-watch", daemon=True)

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def start(self) -> None:
        self._spawn()
        self._watcher.start()

    def _spawn(self) -> None:
        preexec = _die_with_parent(os.getpid()) if sys.platform.startswith("linux") else None
        with self._lock:
            if self._stopping.is_set():
                return
            self.proc = subprocess.Popen(
                self.command,
                env=os.environ.copy(),
                start_new_session=True,
                preexec_fn=preexec,  # prctl and getppid only: safe after fork
            )

    def _watch(self) -> None:
        # The kernel's parent-death signal fires when the thread that started the child
        # exits; this thread lives until stop() or give-up, as long as any child it starts.
        while not self._stopping.is_set():
            proc = self.proc
            if proc is None:
                return
            code = proc.wait()
            if self._stopping.is_set():
                return
            now = time.monotonic()
            self._deaths = [t for t in self._deaths if now - t < CRASH_WINDOW_S] + [now]
            if len(self._deaths) >= CRASH_LIMIT:
                log.error("job worker died %d times in a minute; stopping", len(self._deaths))
                self.gave_up = True
                os.kill(os.getpid(), signal.SIGTERM)
                return
            log.error("job worker (pid %s) exited with status %s; starting another", proc.pid, code)
            if self._stopping.wait(RESTART_DELAY_S):
                return
            self._spawn()

    def stop(self) -> None:
        """Stop the worker: SIGTERM, a bounded wait, then SIGKILL. Safe to call twice."""
        with self._lock:
            self._stopping.set()
            proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=STOP_WAIT_S)
        except subprocess.TimeoutExpired:
            log.warning("job worker (pid %s) ignored SIGTERM; killing it", proc.pid)
            proc.kill()
            proc.wait()
