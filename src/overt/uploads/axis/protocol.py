"""The Swift protocol as an Axis Body Worn System speaks it: the account's key and tokens,
container and object names, the capabilities overt publishes, and response shapes."""

from __future__ import annotations

import hashlib
import hmac
import json
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.core import signing

from overt.conf import get_settings, instance_secret
from overt.errors import Invalid, Refused
from overt.ingest.sidecar import safe_name

from ..errors import NotSignedIn
from ..models import AxisObject

TOKEN_TTL_S = 3600
SYSTEM, USERS, DEVICES = "System", "Users", "Devices"
# The spec (Body Worn Content Destination API, "Capability API") names the object
# System/Capabilities.json; early versions of it said Capability.json, still served.
CAPABILITY_NAMES = ("Capabilities.json", "Capability.json")
# Grouped by the spec's naming rule: `Store` where the system only PUTs or POSTs,
# `StoreAndRead` where it also reads back (the system ID). A capability under the wrong
# group counts as unsupported, so the system would turn the feature off.
CAPABILITIES = {
    "Store": {
        "StoreBookmarks": True,
        "StoreGNSSTrackRecording": True,
        "StoreSignedVideo": True,
        "StoreUserIDKey": True,
    },
    "StoreAndRead": {
        "StoreReadSystemID": True,
    },
}


# --- credentials -------------------------------------------------------------------------


def axis_key() -> str:
    """The configured key, or the instance's own, generated on first use (mode 0600)."""
    settings = get_settings()
    return instance_secret(settings, settings.axis_key, "axis_key", nbytes=32)


def account_name() -> str:
    return f"AUTH_{get_settings().axis_user}"


def _signer() -> signing.TimestampSigner:
    # The salt predates the split of overt.uploads.axis into modules: tokens already
    # issued stay valid across the upgrade.
    return signing.TimestampSigner(salt="overt.uploads.axis")


def _key_tag() -> str:
    # Tokens name the key they were issued under: a new key revokes every old token.
    return hashlib.sha256(axis_key().encode()).hexdigest()[:16]


def authenticate(user: str | None, key: str | None) -> str:
    """A token for the configured user and key; 401 otherwise."""
    settings = get_settings()
    expected_user = settings.axis_user.encode()
    ok_user = hmac.compare_digest((user or "").encode(), expected_user)
    ok_key = hmac.compare_digest((key or "").encode(), axis_key().encode())
    if not (user and key and ok_user and ok_key):
        raise NotSignedIn("wrong or missing X-Auth-User / X-Auth-Key")
    return _signer().sign(f"{settings.axis_user}.{_key_tag()}")


def check_token(token: str | None, account: str) -> None:
    if not token:
        raise NotSignedIn("no X-Auth-Token: authenticate at /auth/v1.0 first")
    try:
        value = _signer().unsign(token, max_age=TOKEN_TTL_S)
    except signing.SignatureExpired as exc:
        raise NotSignedIn("the auth token has expired; authenticate again") from exc
    except signing.BadSignature as exc:
        raise NotSignedIn("invalid auth token") from exc
    if value != f"{get_settings().axis_user}.{_key_tag()}":
        raise NotSignedIn("the auth token was issued for another user or key")
    if account != account_name():
        raise Refused(f"this token is for account {account_name()}, not {account}")


# --- names -------------------------------------------------------------------------------


def container_name(value: str) -> str:
    try:
        name = safe_name(value, "container name")
    except ValueError as exc:
        raise Invalid(str(exc)) from exc
    if len(name) > 256:
        raise Invalid("container name is longer than 256 characters")
    return name


def object_name(value: str) -> str:
    if not value or len(value.encode("utf-8")) > 1024:
        raise Invalid("object name must be 1 to 1024 bytes")
    parts = value.split("/")
    if any(p in ("", ".", "..") for p in parts) or "\\" in value or "\x00" in value:
        raise Invalid(f"object name may not have empty, '.' or '..' parts: {value!r}")
    if any(unicodedata.category(ch) in {"Cc", "Cf"} for ch in value):
        raise Invalid("object name contains control characters")
    return value


# --- responses ---------------------------------------------------------------------------


def capability_json() -> bytes:
    return json.dumps(CAPABILITIES, indent=2, sort_keys=True).encode("utf-8")


@dataclass(frozen=True, slots=True)
class Stream:
    """An object's bytes, sent in chunks rather than read into memory: a staged clip
    (a file) or an ingested one (an evidence store object, which may be on S3)."""

    size: int
    open: Callable[[], Iterator[bytes]]  # opened only for a GET; errors before any header


def content_type(obj: AxisObject) -> str:
    if obj.kind == AxisObject.Kind.CLIP:
        return "video/x-matroska" if obj.name.lower().endswith(".mkv") else "video/mp4"
    if obj.kind in (AxisObject.Kind.GNSS,):
        return "application/json"
    if obj.kind == AxisObject.Kind.BOOKMARK:
        return "text/plain; charset=utf-8"
    return "application/octet-stream"
