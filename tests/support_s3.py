"""Pytest plugin: a real moto_server over HTTP, and fresh S3 buckets for store tests.

Loaded from the root conftest (``pytest_plugins = ["support_s3"]``) or with ``-p support_s3``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ACCESS_KEY = "testing"
SECRET_KEY = "testing/secret+key"  # '/' and '+' exercise the URL parsing
REGION = "eu-west-2"
START_TIMEOUT = 30.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(endpoint: str) -> bool:
    try:
        with urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1):
            return True
    except urllib.error.HTTPError:
        return True  # any HTTP answer means it is serving
    except OSError:
        return False


def _start_moto(log: Path) -> tuple[subprocess.Popen[bytes], str]:
    server = Path(sys.executable).parent / "moto_server"
    if not server.exists():
        raise RuntimeError(f"moto_server not found at {server} (install moto[server])")
    port = _free_port()
    endpoint = f"http://127.0.0.1:{port}"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [str(server), "-H", "127.0.0.1", "-p", str(port)], stdout=out, stderr=subprocess.STDOUT
        )
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"moto_server exited with {proc.returncode}: {log.read_text()}")
        if _answers(endpoint):
            return proc, endpoint
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"moto_server did not answer on {endpoint} in {START_TIMEOUT}s")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="session")
def moto_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of a moto_server subprocess, for the whole session."""
    log = tmp_path_factory.mktemp("moto") / "moto_server.log"
    try:
        proc, endpoint = _start_moto(log)
    except (OSError, RuntimeError) as exc:
        message = f"moto_server could not start: {exc}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    try:
        yield endpoint
    finally:
        _stop(proc)


def s3_client(endpoint: str) -> Any:
    import boto3  # here, not at the top: every test session loads this plugin

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
    )


def store_url(endpoint: str, bucket: str, prefix: str = "evidence", **extra: str) -> str:
    params = {
        "endpoint": endpoint,
        "region": REGION,
        "access_key": ACCESS_KEY,
        "secret_key": SECRET_KEY.replace("/", "%2F"),
        **extra,
    }
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"s3://{bucket}/{prefix}?{query}"


def create_bucket(endpoint: str, *, locked: bool) -> str:
    bucket = f"overt-test-{uuid.uuid4().hex[:16]}"
    client = s3_client(endpoint)
    client.create_bucket(
        Bucket=bucket,
        CreateBucketConfiguration={"LocationConstraint": REGION},
        ObjectLockEnabledForBucket=locked,
    )
    if locked:
        # A short GOVERNANCE default: the store must still apply its own, stricter policy.
        client.put_object_lock_configuration(
            Bucket=bucket,
            ObjectLockConfiguration={
                "ObjectLockEnabled": "Enabled",
                "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}},
            },
        )
    return bucket


@pytest.fixture
def s3_store_url(moto_endpoint: str) -> str:
    """An s3:// store URL for a fresh bucket with Object Lock enabled."""
    return store_url(moto_endpoint, create_bucket(moto_endpoint, locked=True))


@pytest.fixture
def s3_plain_store_url(moto_endpoint: str) -> str:
    """An s3:// store URL for a fresh bucket without Object Lock."""
    return store_url(moto_endpoint, create_bucket(moto_endpoint, locked=False))
