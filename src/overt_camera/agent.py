"""`overt-camera run`: capture into the pre-event ring, record on a trigger, offload when
the server answers, until SIGTERM.

Threads: capture (the only one that touches the source, the ring and the recording; other
threads hand it requests through a queue), control API, peer start, location, offload.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import signal
import threading
import time
import uuid
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from . import __version__, keys
from .config import AgentConfig, ConfigError
from .control import ControlServer, parse_address
from .device import clock_offset, free_bytes
from .home import Home, HomeError, write_atomic
from .http import ServerUnreachable
from .location import Location
from .manifest import Trigger
from .offload import OffloadReport, client_for, exclusive, offload_once, pending
from .packets import Packet
from .peer import PeerEvent, PeerLink
from .recorder import Context, Recording
from .recovery import recover
from .ring import Ring
from .sealed import load_server_key
from .sources import Source, SourceError, open_source
from .triggers import (
    GpioButton,
    TriggerConflict,
    TriggerRequest,
    TriggerTransport,
    check,
    load_plugins,
)

log = logging.getLogger(__name__)
REQUEST_WAIT = 10.0  # seconds a control request waits for the capture thread


class Agent:
    def __init__(
        self,
        home: Home,
        source_spec: str,
        buffer: int | None,
        control: str | None,
        offload_mode: str,
    ) -> None:
        home.check()
        self.home = home
        config = home.load_config()
        if not config.serial:
            raise HomeError(f"{home.config_path} names no serial: enrol first")
        self.buffer_override = buffer
        self.config = self._with_override(config)
        self.key = keys.load(home.key_path)
        self.key_id = keys.key_id(keys.public_raw(self.key))
        self.source_spec = source_spec
        self.offload_mode = offload_mode
        self.control_address = parse_address(control or config.control)
        self.stop_event = threading.Event()
        self.offload_wake = threading.Event()
        self.requests: queue.Queue[tuple[TriggerRequest, Future[dict[str, Any]]]] = queue.Queue()
        self.recording: Recording | None = None
        self.last_error: str | None = None
        self.disk_full = False
        self.server_reachable: bool | None = None
        self.last_offload: OffloadReport | None = None
        self.location = Location(self.config.location)
        self.server_key = load_server_key(home.server_key_path) if config.encrypt_at_rest else None
        self.ring = Ring.of(self.config, home.spool)
        self.source: Source = open_source(source_spec, self.config)
        self.peer: PeerLink | None = None
        self.transports: list[TriggerTransport] = []
        self.warnings: list[str] = []

    def _with_override(self, config: AgentConfig) -> AgentConfig:
        seconds = self.buffer_override
        return config if seconds is None else config.replace(buffer_seconds=seconds)

    # --- life cycle --------------------------------------------------------------------

    def run(self) -> int:
        recovered = recover(self.home, self.key, self.config.serial or "", self.key_id)
        for path in recovered:
            log.warning("recovered %s from an interrupted run (marked interrupted)", path.name)
        control = ControlServer(self.control_address, self.request, self.status, self.offload_now)
        control.start()
        self._start_transports()
        self.location.start()
        host, port = control.address
        write_atomic(  # last: tools take this file to mean the agent is ready
            self.home.root / "control.json",
            json.dumps({"host": host, "port": port, "pid": os.getpid()}).encode(),
        )
        threads = [threading.Thread(target=self._capture, name="capture")]
        if self.offload_mode == "auto":
            threads.append(threading.Thread(target=self._offload_loop, name="offload", daemon=True))
        for thread in threads:
            thread.start()
        log.info(
            "running: source %s, buffer %d s, control %s:%d",
            self.source_spec,
            self.config.buffer_seconds,
            host,
            port,
        )
        self.stop_event.wait()
        threads[0].join()
        for transport in self.transports:
            transport.stop()
        if self.peer:
            self.peer.close()
        self.location.stop()
        control.close()
        self.offload_wake.set()
        return 0

    def _start_transports(self) -> None:
        config = self.config
        if config.peer_group:
            try:
                self.peer = PeerLink(self.home, config, self.key, self.key_id, self._peer_start)
                self.peer.start()
            except OSError as exc:
                self.warnings.append(f"peer start is off: {exc}")
        if config.gpio_chip:
            button = GpioButton(config.gpio_chip, config.gpio_line)
            button.recording = lambda: self.recording is not None
            self.transports.append(button)
        self.transports.extend(load_plugins(config))
        for transport in list(self.transports):
            try:
                transport.start(self.request)
            except Exception as exc:  # a plugin's failure must not stop capture
                self.warnings.append(str(exc))
                self.transports.remove(transport)
                log.warning("trigger transport not started: %s", exc)

    # --- requests from other threads ----------------------------------------------------

    def request(self, request: TriggerRequest) -> dict[str, Any]:
        check(request)
        future: Future[dict[str, Any]] = Future()
        self.requests.put((request, future))
        try:
            return future.result(timeout=REQUEST_WAIT)
        except TimeoutError as exc:
            raise TriggerConflict("the source delivers no video: nothing to record") from exc

    def _peer_start(self, event: PeerEvent) -> None:
        request = TriggerRequest("start", "peer", "peer start", None, event.serial)
        try:
            self.request(request)
        except TriggerConflict as exc:
            log.warning("peer start from %s not followed: %s", event.serial, exc)

    # --- the capture thread -------------------------------------------------------------

    def _capture(self) -> None:
        next_check = 0.0
        while not self.stop_event.is_set():
            try:
                for packet in self.source.packets(self.stop_event):
                    self.ring.push(packet)
                    if self.recording is not None:
                        self._write(packet)
                    now = time.time()
                    self._serve_requests(now)
                    if now >= next_check:
                        next_check = now + 1.0
                        self._periodic(now)
                    if self.stop_event.is_set():
                        break
            except (OSError, SourceError, ValueError) as exc:
                self._fail(f"source {self.source_spec}: {exc}")
                self.stop_event.wait(2.0)
                try:
                    self.source.close()
                    self.source = open_source(self.source_spec, self.config)
                except (OSError, SourceError, ValueError) as again:
                    self.last_error = f"source {self.source_spec}: {again}"
            else:
                if not self.stop_event.is_set():
                    self.stop_event.wait(1.0)
        if self.recording is not None:  # SIGTERM while recording: not stopped by a person
            self._finish(None, interrupted=True)
        self._serve_requests(time.time(), refuse=True)
        self.source.close()
        self.ring.close()

    def _write(self, packet: Packet) -> None:
        assert self.recording is not None
        try:
            self.recording.write(packet)
        except OSError as exc:
            self._fail(f"writing {self.recording.recording_id}: {exc}")

    def _fail(self, message: str) -> None:
        log.error("%s", message)
        self.last_error = message
        if self.recording is not None:
            try:
                self._finish(None, interrupted=True)
            except OSError as exc:  # left for recovery: its fragments stay on disk
                log.error("closing the recording failed: %s", exc)
                self.recording = None

    def _serve_requests(self, now: float, refuse: bool = False) -> None:
        while True:
            try:
                request, future = self.requests.get_nowait()
            except queue.Empty:
                return
            try:
                if refuse:
                    raise TriggerConflict("the agent is stopping")
                future.set_result(self._apply(request, now))
            except (TriggerConflict, OSError) as exc:
                future.set_exception(
                    exc if isinstance(exc, TriggerConflict) else TriggerConflict(str(exc))
                )

    def _apply(self, request: TriggerRequest, now: float) -> dict[str, Any]:
        trigger = Trigger(
            now, request.kind, request.action, request.reason, request.source, request.peer_serial
        )
        if request.action == "stop":
            if self.recording is None:
                raise TriggerConflict("not recording")
            self._finish(trigger)
            return self.status()
        if self.recording is not None:
            self.recording.add_trigger(trigger)  # kept as an event of the recording
            return self.status()
        if self.disk_full:
            raise TriggerConflict(f"cannot record: {self.last_error}")
        config = self.config
        context = Context(
            home=self.home,
            key=self.key,
            serial=config.serial or "",
            key_id=self.key_id,
            video_template=self.source.video_template,
            audio_template=self.source.audio_template,
            copied=self.source.copied,
            segment_seconds=config.segment_seconds,
            audio_in_buffer=config.audio_in_buffer,
            server_key=self.server_key,
            clock_offset=lambda: clock_offset(self.home),
            fixes=self.location.fixes,
        )
        recording = Recording(context, uuid.uuid4().hex, self.home.next_sequence(), 0.0)
        recording.begin(self.ring.take(now, config.buffer_seconds), trigger)
        self.recording = recording
        log.info(
            "recording %s started (%s: %s), pre-event %.2f s",
            recording.recording_id,
            request.kind,
            request.reason,
            recording.pre_event_seconds,
        )
        if self.peer is not None and request.kind != "peer":
            self.peer.announce()
        return self.status()

    def _finish(self, trigger: Trigger | None, interrupted: bool = False) -> None:
        recording, self.recording = self.recording, None
        if recording is not None:
            recording.finish(trigger, interrupted)
            log.info(
                "recording %s closed (%d segments)",
                recording.recording_id,
                len(recording.manifests),
            )
            self.offload_wake.set()

    def _periodic(self, now: float) -> None:
        config = self.config
        recording = self.recording
        if recording is not None and config.max_recording_seconds:
            if now - recording.started_at >= config.max_recording_seconds:
                self._finish(Trigger(now, "timer", "stop", "timer"))
        free = free_bytes(self.home.spool)
        if free < config.min_free_bytes:
            if not self.disk_full:
                self.disk_full = True
                self.last_error = (
                    f"disk full: {free} bytes free, under the reserve of "
                    f"{config.min_free_bytes}; recording stopped, nothing deleted"
                )
                log.error("%s", self.last_error)
                if self.recording is not None:
                    self._finish(None, interrupted=True)
        elif self.disk_full:
            self.disk_full = False
            log.info("disk has room again (%d bytes free)", free)
        self._reload_config()
        if self.peer is not None:
            self.peer.reload_peers()

    def _reload_config(self) -> None:
        try:
            config = self._with_override(self.home.load_config())
        except ConfigError as exc:
            self.last_error = str(exc)
            return
        if config != self.config:
            self.ring.seconds, self.ring.keep_audio = config.buffer_seconds, config.audio_in_buffer
            self.config = config

    # --- status and offload ------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        recording = self.recording
        items = pending(self.home)
        return {
            "state": "recording" if recording is not None else "buffering",
            "pending_segments": len(items),
            "pending_bytes": sum(p.stat().st_size for p in items if p.exists()),
            "last_error": self.last_error,
            "serial": self.config.serial,
            "agent_version": __version__,
            "source": self.source_spec,
            "buffer_seconds": self.config.buffer_seconds,
            "buffered_seconds": round(self.ring.held_seconds(), 3),
            "buffer_bytes": self.ring.bytes,
            "recording_id": recording.recording_id if recording else None,
            "device_sequence": recording.device_sequence if recording else None,
            "segment": recording.segment if recording else None,
            "pre_event_seconds": round(recording.pre_event_seconds, 3) if recording else None,
            "disk_full": self.disk_full,
            "server_reachable": self.server_reachable,
            "offload": self.offload_mode,
            "peer": {"accepted": self.peer.accepted, "refused": self.peer.refused}
            if self.peer
            else None,
            "warnings": self.warnings + ([self.location.error] if self.location.error else []),
        }

    def offload_now(self) -> dict[str, Any]:
        report = self._offload_pass()
        return report.as_json() if report else {"errors": ["server unreachable"]}

    def _offload_pass(self) -> OffloadReport | None:
        try:
            client = client_for(self.home)
        except (ConfigError, HomeError) as exc:
            self.last_error = str(exc)
            return None
        try:
            report = offload_once(self.home, client, self.last_error, self.stop_event.is_set)
        except ServerUnreachable:
            self.server_reachable = False
            return None
        finally:
            client.close()
        unreachable = any("unreachable" in e for e in report.errors)
        self.server_reachable = not unreachable
        problems = [e for e in report.errors if "unreachable" not in e]
        problems += [f"{k['segment']}: {k['reason']}" for k in report.kept]
        if problems:
            self.last_error = problems[-1]
        self.last_offload = report
        return report

    def _offload_loop(self) -> None:
        while not self.stop_event.is_set():
            self._offload_pass()
            self.offload_wake.wait(self.config.offload_interval_seconds)
            self.offload_wake.clear()


def run_agent(
    home_dir: Path, source: str, buffer: int | None, control: str | None, offload: str
) -> int:
    home = Home(home_dir)
    home.check()
    with exclusive(home.root / "agent.lock") as mine:
        if not mine:
            raise HomeError(f"another overt-camera agent is running on {home.root}")
        agent = Agent(home, source, buffer, control, offload)

        def stop(signum: int, frame: Any) -> None:
            agent.stop_event.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        return agent.run()
