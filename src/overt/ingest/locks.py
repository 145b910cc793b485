"""Serialising the catalogue writes that the database's constraints alone cannot order.

Two clips of one activation may be catalogued at the same moment by two app processes
(or two threads of one). Under PostgreSQL's READ COMMITTED each would look for the
activation's Recording, find none, and make one: two recordings for one activation. A
transaction-scoped advisory lock per device, taken before the look-up, makes the second
wait for the first to commit and then find its recording. SQLite needs none: its
immediate transactions already admit one writer at a time.
"""

from __future__ import annotations

from django.db import connection

RECORDING_LOCKS = 0x6F76_7265  # "ovre": the namespace of these locks


def lock_activations_of(device_id: int) -> None:
    """Hold, until this transaction ends, the lock on making recordings for a device."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [RECORDING_LOCKS, device_id % 2**31])
