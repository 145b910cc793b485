"""Start a moto_server (a real S3 HTTP endpoint) on loopback for tests and benchmarks."""

from __future__ import annotations

import atexit
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_moto_server(timeout_s: float = 30.0) -> str:
    """Start moto_server from this interpreter's environment; return its endpoint URL.

    The server stops when this process exits.
    """
    binary = Path(sys.executable).parent / "moto_server"
    port = free_port()
    proc = subprocess.Popen(
        [str(binary), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    atexit.register(_stop, proc)
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"moto_server exited with status {proc.returncode}")
        try:
            urllib.request.urlopen(endpoint + "/moto-api/", timeout=1)
            return endpoint
        except OSError:
            time.sleep(0.1)
    _stop(proc)
    raise RuntimeError(f"moto_server did not answer on {endpoint} within {timeout_s} s")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()


def create_bucket(
    endpoint: str, bucket: str, *, object_lock: bool, region: str = "eu-west-2"
) -> None:
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    client.create_bucket(
        Bucket=bucket,
        CreateBucketConfiguration={"LocationConstraint": region},
        ObjectLockEnabledForBucket=object_lock,
    )
