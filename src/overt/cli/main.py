"""The `overt` command. Each command's help text is its documentation; docs/cli.md
lists every command and a test keeps the two in step."""

from __future__ import annotations

import json
import os
import signal

import click

from overt.conf import ConfigError, env_name, get_settings
from overt.errors import DomainError

from .axis import axis
from .bootstrap import initialise, setup
from .cases import case, share
from .catalogue import device, officer
from .custody import custody, verify
from .demo import demo_data
from .fleet import fleet
from .grants import access, token
from .ingest import ingest, watch
from .jobs import jobs
from .map import map_group
from .migrate import migrate
from .oversight import deployments, oversight
from .oversight_cases import complaint, review
from .redact import redact
from .redaction import redaction
from .retention.deletion import deletion
from .retention.holds import hold
from .retention.recordings import recording
from .retention.schedule import retention
from .transcribe import transcribe
from .users import user


class DomainErrorExit(click.ClickException):
    """A service's refusal (overt.errors), as click prints it: `Error: <message>` on stderr,
    and the exit status its class gives (2 for bad input or nothing found, else 1)."""

    def __init__(self, exc: DomainError) -> None:
        super().__init__(str(exc))
        # click declares exit_code a class constant, but reads it from the instance.
        self.exit_code = exc.exit_code  # type: ignore[misc]


class OvertGroup(click.Group):
    """The top command: any domain error a command lets through ends as a message."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except DomainError as exc:
            raise DomainErrorExit(exc) from exc


HELP_OPTIONS = ["-h", "--help"]


@click.group(cls=OvertGroup, context_settings={"help_option_names": HELP_OPTIONS})
@click.version_option(package_name="overt")
def cli() -> None:
    """overt: evidence platform for body-worn video."""


@cli.command("config")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def config_cmd(as_json: bool) -> None:
    """Print the effective settings, with secrets masked."""
    try:
        values = get_settings().masked()
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(values, indent=2, default=str))
        return
    width = max(len(env_name(k)) for k in values)
    for key, value in values.items():
        shown = ",".join(value) if isinstance(value, list) else value
        click.echo(f"{env_name(key):<{width}}  {shown}")


@cli.command("init")
def init_cmd() -> None:
    """Create (or upgrade) the instance in OVERT_HOME (migrating, as `overt migrate`)."""
    initialise()
    settings = get_settings()
    click.echo(f"instance ready in {settings.home_dir}")


@cli.command("worker")
@click.option("--burst", is_flag=True, help="Exit once the queue is empty.")
def worker_cmd(burst: bool) -> None:
    """Run background jobs (proxies, posters, ...) on the configured engine."""
    setup()
    from overt.jobs.worker import run_worker

    run_worker(burst=burst)


@cli.command("serve")
@click.option("--bind", default=None, help="HOST:PORT (default: OVERT_BIND).")
@click.option("--no-worker", is_flag=True, help="Do not start a job worker beside the server.")
def serve_cmd(bind: str | None, no_worker: bool) -> None:
    """Serve the web app and API, with a job worker beside it.

    The worker stops with the server, however the server stops (SIGTERM, Ctrl+C, an
    error); a worker that dies on its own is started again.
    """
    setup()
    import uvicorn

    from overt.jobs.supervise import WorkerSupervisor

    host, _, port = (bind or get_settings().bind).rpartition(":")
    worker = None if no_worker else WorkerSupervisor()
    stop_signals = _StopSignals()
    try:
        try:
            if worker is not None:
                worker.start()
            shown = "no" if worker is None else f"yes, pid {worker.pid}"
            click.echo(f"overt serving on http://{host}:{port}/  (worker: {shown})")
            # uvicorn handles SIGTERM/SIGINT while it runs, then re-raises the signal to the
            # handlers it found: ours, which unwind to the `finally` below instead of
            # ending the process there and then (which left the worker orphaned).
            uvicorn.run(
                "overt.project.asgi:application",
                host=host.strip("[]"),
                port=int(port),
                log_level="warning",
                lifespan="off",
                # uvicorn would believe X-Forwarded-For from loopback; overt decides that
                # itself, from OVERT_TRUSTED_PROXIES only (web/client_address.py).
                proxy_headers=False,
            )
        finally:
            stop_signals.stopping = True
            if worker is not None:
                worker.stop()
    except _Signalled as signalled:
        if worker is None or not worker.gave_up:
            stop_signals.exit_by(signalled.signum)
    if worker is not None and worker.gave_up:
        raise click.ClickException("the job worker kept dying; see the log")


class _Signalled(BaseException):
    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class _StopSignals:
    """SIGTERM and SIGINT unwind the serve command (so its cleanup runs) exactly once."""

    def __init__(self) -> None:
        self.stopping = False
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._handle)

    def _handle(self, signum: int, frame: object) -> None:
        if not self.stopping:  # a second signal must not interrupt the cleanup
            self.stopping = True
            raise _Signalled(signum)

    @staticmethod
    def exit_by(signum: int) -> None:
        # End as the signal would have, so a supervisor sees the usual status.
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)


cli.add_command(officer)
cli.add_command(device)
cli.add_command(ingest)
cli.add_command(watch)
cli.add_command(jobs)
cli.add_command(migrate)
cli.add_command(fleet)
cli.add_command(demo_data)
cli.add_command(custody)
cli.add_command(verify)
cli.add_command(axis)
cli.add_command(recording)
cli.add_command(hold)
cli.add_command(retention)
cli.add_command(deletion)
cli.add_command(redact)
cli.add_command(redaction)
cli.add_command(case)
cli.add_command(share)
cli.add_command(deployments)
cli.add_command(oversight)
oversight.add_command(complaint)
oversight.add_command(review)
cli.add_command(transcribe)
cli.add_command(map_group)
cli.add_command(user)
cli.add_command(token)
cli.add_command(access)


def _same_help_options(command: click.Command) -> None:
    """Every command answers -h as well as --help, even when invoked on its own (as tests
    do): click caches a command's help option the first time it is built, so without this
    the names, and the generated docs/cli.md, depended on which context came first."""
    command.context_settings.setdefault("help_option_names", HELP_OPTIONS)
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _same_help_options(sub)


_same_help_options(cli)


def main() -> None:
    cli(prog_name="overt")


def command_paths(group: click.Group = cli, prefix: str = "overt") -> list[str]:
    """Every command as typed, e.g. 'overt device add' (for the documentation test)."""
    paths = []
    for name, command in sorted(group.commands.items()):
        path = f"{prefix} {name}"
        paths.append(path)
        if isinstance(command, click.Group):
            paths.extend(command_paths(command, path))
    return paths


__all__ = ["cli", "command_paths", "main"]
