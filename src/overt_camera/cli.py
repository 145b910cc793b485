"""The `overt-camera` command: enrol, run, offload, config, status.

Every failure is a one-line message and an exit status (1: it did not work; 2: bad
usage or settings), never a traceback. docs/camera.md documents every option; a test
compares the two.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from . import __version__
from .config import FIELDS, ConfigError, to_dict
from .enrol import EnrolError, enrol
from .home import Home, HomeError
from .http import ServerRefused, ServerUnreachable
from .keys import DeviceKeyError
from .sealed import SealError
from .sources import SourceError

# Commands other modules add to `overt-camera` (each module: register(subparsers)).
OPTIONAL_COMMANDS = ("overt_camera.simulate",)
FAILURES = (
    ConfigError,
    EnrolError,
    HomeError,
    DeviceKeyError,
    SourceError,
    SealError,
    ServerRefused,
    ServerUnreachable,
    OSError,
)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="overt-camera",
        description="Camera agent for overt: capture, sign at the lens, offload.",
    )
    top.add_argument("--version", action="version", version=f"overt-camera {__version__}")
    top.add_argument("--verbose", action="store_true", help="log debug messages to stderr")
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    enrol_cmd = commands.add_parser("enrol", help="make the device key and enrol with a server")
    _home(enrol_cmd)
    enrol_cmd.add_argument("--server", required=True, metavar="URL", help="overt's base URL")
    enrol_cmd.add_argument("--code", required=True, help="one-time code from `overt device enrol`")
    enrol_cmd.add_argument("--serial", help="the device's serial (default: config, then board)")
    enrol_cmd.add_argument("--json", action="store_true", help="print the result as JSON")
    enrol_cmd.set_defaults(func=_enrol)

    run_cmd = commands.add_parser("run", help="capture and record until SIGTERM")
    _home(run_cmd)
    run_cmd.add_argument(
        "--source",
        required=True,
        metavar="SRC",
        help="synthetic, file:PATH, rtsp://... or v4l2:/dev/videoN",
    )
    run_cmd.add_argument("--buffer", type=int, metavar="SECONDS", help="pre-event seconds, 0-120")
    run_cmd.add_argument("--control", metavar="HOST:PORT", help="control API address (loopback)")
    run_cmd.add_argument(
        "--offload", choices=("auto", "manual"), default="auto", help="offload when reachable"
    )
    run_cmd.set_defaults(func=_run)

    offload_cmd = commands.add_parser("offload", help="offload everything pending, then exit")
    _home(offload_cmd)
    offload_cmd.add_argument("--json", action="store_true", help="print the result as JSON")
    offload_cmd.set_defaults(func=_offload)

    config_cmd = commands.add_parser("config", help="show or change settings")
    _home(config_cmd)
    config_cmd.add_argument(
        "--set", action="append", default=[], metavar="NAME=VALUE", help="change a setting"
    )
    config_cmd.set_defaults(func=_config)

    status_cmd = commands.add_parser("status", help="what is pending on the device")
    _home(status_cmd)
    status_cmd.set_defaults(func=_status)

    for name in OPTIONAL_COMMANDS:
        try:
            importlib.import_module(name).register(commands)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                print(f"overt-camera: {name} is not usable: {exc}", file=sys.stderr)
        except Exception as exc:  # an optional command must never take capture down
            print(f"overt-camera: {name} is not usable: {exc!r}", file=sys.stderr)
    return top


def _home(command: argparse.ArgumentParser) -> None:
    command.add_argument("--home", required=True, metavar="DIR", help="the agent's state folder")


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except FAILURES as exc:
        print(f"overt-camera {args.command}: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, ConfigError) else 1
    except KeyboardInterrupt:
        return 130


def _print(data: dict[str, Any], as_json: bool, text: str) -> None:
    print(json.dumps(data, sort_keys=True) if as_json else text)


def _enrol(args: argparse.Namespace) -> int:
    result = enrol(Home(args.home), args.server, args.code, args.serial)
    _print(
        result.as_json(),
        args.json,
        f"enrolled {result.serial} with {result.server} (key {result.key_id}, "
        f"{result.peers} peer keys)",
    )
    return 0


def _run(args: argparse.Namespace) -> int:
    from .agent import run_agent  # PyAV and the capture loop only for this command

    return run_agent(Path(args.home), args.source, args.buffer, args.control, args.offload)


def _offload(args: argparse.Namespace) -> int:
    from .offload import offload_command

    report = offload_command(Home(args.home))
    _print(report.as_json(), args.json, report.summary())
    return 0 if report.pending_segments == 0 else 1


def _config(args: argparse.Namespace) -> int:
    home = Home(args.home)
    config = home.load_config()
    changes: dict[str, Any] = {}
    for item in args.set:
        name, sep, raw = item.partition("=")
        if not sep or name not in FIELDS:
            raise ConfigError(f"--set {item!r}: expected NAME=VALUE with a known NAME")
        try:
            changes[name] = json.loads(raw)
        except ValueError:
            changes[name] = raw  # a bare string
    if changes:
        home.create()
        config = config.replace(**changes)
        home.save_config(config)
    print(json.dumps(to_dict(config), indent=2, sort_keys=True))
    return 0


def _status(args: argparse.Namespace) -> int:
    from .offload import pending

    home = Home(args.home)
    home.check()
    items = pending(home)
    chain = home.chain()
    data = {
        "pending_segments": len(items),
        "pending_bytes": sum(p.stat().st_size for p in items),
        "device_sequence": chain.device_sequence,
        "last_manifest_sha256": chain.last_manifest_sha256,
    }
    print(json.dumps(data, indent=2, sort_keys=True))
    return 0
