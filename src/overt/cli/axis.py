"""`overt axis`: connecting an Axis Body Worn System to overt as its content destination."""

from __future__ import annotations

import json
import re
from importlib.metadata import version
from pathlib import Path

import click

from .bootstrap import setup

MAX_CONNECTION_FILE = 64 * 1024


@click.group()
def axis() -> None:
    """Axis Body Worn System content destination."""


@axis.command("connection-file")
@click.option(
    "--url",
    "urls",
    multiple=True,
    help="Base URL the Body Worn System reaches overt at, e.g. https://overt.example:8443 "
    "(repeatable, up to 10). Default: http://OVERT_BIND.",
)
@click.option("--site-name", default="overt", show_default=True, help="SiteName (64 chars).")
@click.option(
    "--certificate",
    "certificates",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="PEM file of the HTTPS certificate the system should trust (repeatable).",
)
@click.option(
    "--container-type",
    type=click.Choice(["mkv", "mp4"]),
    default="mkv",
    show_default=True,
    help="Clip file format the cameras upload.",
)
@click.option(
    "--want-encryption", is_flag=True, help="End-to-end encryption: not supported yet (refused)."
)
def connection_file(
    urls: tuple[str, ...],
    site_name: str,
    certificates: tuple[Path, ...],
    container_type: str,
    want_encryption: bool,
) -> None:
    """Print the JSON connection file to load into the AXIS Body Worn Manager.

    It holds the user name and key (OVERT_AXIS_USER, OVERT_AXIS_KEY): keep it as secret
    as a password.
    """
    if want_encryption:
        raise click.ClickException(
            "end-to-end encryption (WantEncryption) is not supported yet: overt would not "
            "be able to read the clips. Use HTTPS (--certificate) to protect them in transit."
        )
    setup()
    from overt.conf import get_settings
    from overt.uploads.axis.protocol import axis_key

    settings = get_settings()
    bases = list(urls) or [f"http://{settings.bind}"]
    if len(bases) > 10:
        raise click.UsageError("at most 10 --url values")
    token_uris = []
    for base in bases:
        if not re.match(r"^https?://[^/\s]+", base):
            raise click.UsageError(f"--url must be an http(s):// URL: {base!r}")
        uri = base.rstrip("/") + "/auth/v1.0"
        if len(uri) > 512:
            raise click.UsageError(f"URL longer than 512 characters: {uri}")
        token_uris.append(uri)
    if len(site_name) > 64:
        raise click.UsageError("--site-name is at most 64 characters")
    data: dict[str, object] = {
        "ConnectionFileVersion": "1.0",
        "SiteName": site_name,
        "ApplicationName": "overt",
        "ApplicationVersion": version("overt"),
        "ContentDestinationAsNTPServer": False,
        "AuthenticationTokenURI": token_uris,
        "BlobAPIKey": axis_key(),
        "BlobAPIUserName": settings.axis_user,
        "ContainerType": container_type,
        "FullStoreAndReadSupport": False,
        "WantEncryption": False,
    }
    if certificates:
        data["HTTPSCertificate"] = [_certificate(path) for path in certificates[:10]]
    text = json.dumps(data, indent=2)
    if len(text.encode()) > MAX_CONNECTION_FILE:
        raise click.ClickException("the connection file would be over 64 kB")
    if any("://127." in u or "://localhost" in u for u in token_uris):
        click.echo(
            "warning: the URL is a loopback address, which a Body Worn System cannot reach; "
            "pass --url with this server's network address",
            err=True,
        )
    click.echo(text)


def _certificate(path: Path) -> str:
    text = path.read_text("ascii", errors="replace")
    match = re.search(r"-----BEGIN CERTIFICATE-----(.+?)-----END CERTIFICATE-----", text, re.DOTALL)
    if not match:
        raise click.UsageError(f"{path}: no PEM certificate found")
    return "".join(match.group(1).split())
