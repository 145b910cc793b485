"""Swift containers: `System`, `Users`, `Devices`, and one per recording. A recording's
metadata is checked as it is merged; its Status becoming Complete hands it to ingest."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from django.db import IntegrityError, transaction

from overt.errors import Conflict, Invalid, NotFound

from ..models import AxisContainer
from . import metadata
from .handoff import maybe_complete
from .people import check_recording_people
from .protocol import (
    CAPABILITY_NAMES,
    DEVICES,
    SYSTEM,
    USERS,
    capability_json,
    container_name,
    content_type,
)

RECORDING_NAME_RE = re.compile(r"^[^_]+_[^_].*_[^_]+$")


def kind_of(name: str) -> str:
    return {
        SYSTEM: AxisContainer.Kind.SYSTEM,
        USERS: AxisContainer.Kind.USERS,
        DEVICES: AxisContainer.Kind.DEVICES,
    }.get(name, AxisContainer.Kind.RECORDING)


def put_container(name: str, meta: dict[str, str]) -> int:
    """Create a container or merge its metadata: 201 when new, 202 when it existed."""
    name = container_name(name)
    if kind_of(name) == AxisContainer.Kind.RECORDING and not RECORDING_NAME_RE.match(name):
        raise Invalid(
            f"{name!r} is neither System, Users, Devices nor a recording container "
            "<UserID>_<BWCSerialNumber>_<TriggerOnTime>",
        )
    with transaction.atomic():
        container = AxisContainer.objects.select_for_update().filter(name=name).first()
        created = container is None
        if container is None:
            container = AxisContainer(name=name, kind=kind_of(name), metadata={})
        _merge_meta(container, meta)
        try:
            with transaction.atomic():
                container.save()
        except IntegrityError:
            raise Conflict("the container was created concurrently; retry") from None
    maybe_complete(container)
    return 201 if created else 202


def post_container(name: str, meta: dict[str, str]) -> int:
    name = container_name(name)
    with transaction.atomic():
        container = AxisContainer.objects.select_for_update().filter(name=name).first()
        if container is None:
            raise NotFound(f"no container {name!r}")
        _merge_meta(container, meta)
        container.save()
    maybe_complete(container)
    return 204


def _merge_meta(container: AxisContainer, meta: dict[str, str]) -> None:
    if container.status == AxisContainer.Status.FAILED:
        raise Invalid(f"recording {container.name} cannot be stored: {container.problem}")
    if container.status != AxisContainer.Status.OPEN:
        return  # complete: a retried request changes nothing
    merged = dict(container.metadata)
    for key, value in meta.items():
        if value == "":
            merged.pop(key, None)  # Swift: an empty value removes the key
        else:
            merged[key] = value
    if container.kind == AxisContainer.Kind.RECORDING:
        check_recording_people(container.name, merged)
        metadata.check_trigger_times(merged)
    container.metadata = merged


def get_container(name: str) -> AxisContainer:
    container = AxisContainer.objects.filter(name=name).first()
    if container is None:
        if name in (SYSTEM, USERS, DEVICES):
            return AxisContainer(name=name, kind=kind_of(name), metadata={})
        raise NotFound(f"no container {name!r}")
    return container


def list_containers() -> list[dict[str, Any]]:
    rows = []
    for container in AxisContainer.objects.order_by("name"):
        objects = container.items.all()
        rows.append(
            {
                "name": container.name,
                "count": objects.count(),
                "bytes": sum(o.size for o in objects),
            }
        )
    return rows


def list_objects(name: str) -> list[dict[str, Any]]:
    container = get_container(name)
    rows = []
    if container.kind == AxisContainer.Kind.SYSTEM:
        content = capability_json()
        rows.append(
            {
                "name": CAPABILITY_NAMES[0],
                "bytes": len(content),
                "hash": hashlib.md5(content, usedforsecurity=False).hexdigest(),
                "content_type": "application/json",
            }
        )
    if container.pk:
        for obj in container.items.order_by("name"):
            rows.append(
                {
                    "name": obj.name,
                    "bytes": obj.size,
                    "hash": obj.md5,
                    "content_type": content_type(obj),
                    "last_modified": obj.updated_at.isoformat(),
                }
            )
    return rows
