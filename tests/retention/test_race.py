"""A hold placed while a purge runs: the hold wins, and nothing is lost.

The purge re-checks holds under the recording's lock, in the transaction that removes
the bytes. So a hold that commits first always stops the purge, and one that arrives
while the bytes are being removed waits for the lock and is then refused, naming the
certificate: never a hold recorded on evidence that is gone, never evidence gone that a
committed hold covered.

- A deterministic interleaving on both engines (two threads, two connections).
- On PostgreSQL, a hold that blocks on the row lock mid-purge.
- Many holds against a purge of many recordings, concurrently: threads on PostgreSQL;
  two real processes on a file SQLite database (WAL, BEGIN IMMEDIATE).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection, connections
from retention_support import ACTOR, make_recording

from overt.evidence.models import Recording
from overt.retention.models import Disposal, Hold, Tombstone
from overt.retention.services import Refused, run_retention, set_hold

DAY = timedelta(days=1)
SCALED = os.environ.get("OVERT_TEST_ENGINES", "embedded") == "scaled"
HERE = Path(__file__).resolve().parent


def _in_thread(work):  # type: ignore[no-untyped-def]
    """Run `work` in a thread with its own database connection; return (thread, box)."""
    box: dict = {}

    def target() -> None:
        try:
            box["result"] = work()
        except BaseException as exc:
            box["error"] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=target)
    thread.start()
    return thread, box


def _recycled_batch(people, store, clock_, n: int) -> list[int]:
    officer, device = people
    made = [
        make_recording(
            store,
            officer,
            device,
            clock_.now() - 40 * DAY,
            label=f"race-{i}",
            categories=("Non-evidential",),
        )
        for i in range(n)
    ]
    run_retention(store=store)
    clock_.advance(7 * DAY)
    assert Disposal.objects.filter(status="recycled").count() == n
    return [m.pk for m in made]


@pytest.mark.scaled
@pytest.mark.django_db(transaction=True)
def test_a_hold_committed_after_the_purge_listed_its_work_wins(
    people, purge_store, sim_clock, policies
) -> None:
    ids = _recycled_batch(people, purge_store, sim_clock, 3)
    target = ids[1]

    def hold_from_another_connection(event: str, info: dict) -> None:
        if event == "purge-candidates":  # the purge has its list; it has not locked yet
            thread, box = _in_thread(
                lambda: set_hold(
                    target, reason="solicitor's letter", actor=ACTOR, store=purge_store
                )
            )
            thread.join()
            assert "error" not in box, box

    report = run_retention(store=purge_store, observer=hold_from_another_connection)
    actions = {o.recording: o.action for o in report.outcomes}
    # The hold brought it back from the bin at once; the purge finds nothing to do.
    assert actions == {ids[0]: "purged", target: "skipped", ids[2]: "purged"}
    rec = Recording.objects.get(pk=target)
    assert Hold.objects.get(recording=rec).active
    assert Disposal.objects.get(recording_ref=target).status == "recovered"
    assert all(purge_store.exists(sha) for sha in rec.originals.values_list("sha256", flat=True))


@pytest.mark.scaled
@pytest.mark.skipif(not SCALED, reason="row locks are PostgreSQL's; SQLite is tested below")
@pytest.mark.django_db(transaction=True)
def test_a_hold_arriving_mid_purge_waits_for_it_and_is_refused_cleanly(
    people, purge_store, sim_clock, policies
) -> None:
    (target,) = _recycled_batch(people, purge_store, sim_clock, 1)
    box: dict = {}

    def hold_blocks_on_the_row_lock(event: str, info: dict) -> None:
        if event != "purging":
            return
        thread, result = _in_thread(
            lambda: set_hold(target, reason="too late", actor=ACTOR, store=purge_store)
        )
        box.update(thread=thread, result=result)
        for _ in range(600):  # until the other connection is waiting on our lock
            with connection.cursor() as cursor:
                # Statistics views are a snapshot per transaction, and we are in one.
                cursor.execute("SELECT pg_stat_clear_snapshot()")
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database()"
                )
                if cursor.fetchone()[0]:
                    return
            time.sleep(0.05)
        pytest.fail("the hold never waited on the purge's lock")

    report = run_retention(store=purge_store, observer=hold_blocks_on_the_row_lock)
    box["thread"].join()
    assert [o.action for o in report.outcomes] == ["purged"]
    error = box["result"].get("error")
    number = Tombstone.objects.get(recording_ref=target).certificate.number
    assert isinstance(error, Refused) and number in str(error)
    assert not Hold.objects.filter(recording_ref=target).exists()


def _invariants(outcomes: dict[int, str], holds: dict[int, str], exists) -> None:  # type: ignore[no-untyped-def]
    """Every hold that committed covers whole evidence; every refused one names the
    certificate of evidence purged before it; nothing is both."""
    for rec_id, hold in holds.items():
        tomb = Tombstone.objects.filter(recording_ref=rec_id).first()
        if hold == "held":
            assert tomb is None, f"recording {rec_id} was purged although a hold committed"
            rec = Recording.objects.get(pk=rec_id)
            assert Hold.objects.filter(recording=rec, released_at__isnull=True).exists()
            assert all(exists(sha) for sha in rec.originals.values_list("sha256", flat=True))
            assert outcomes.get(rec_id) in (None, "skipped", "recovered")
        else:
            assert tomb is not None and tomb.certificate.number in hold, (rec_id, hold)
            assert outcomes[rec_id] == "purged"
            assert not any(exists(o["sha256"]) for o in tomb.contents)


@pytest.mark.scaled
@pytest.mark.skipif(not SCALED, reason="SQLite's concurrent writers are tested in processes")
@pytest.mark.django_db(transaction=True)
def test_many_holds_against_a_purge_postgresql(people, purge_store, sim_clock, policies) -> None:
    ids = _recycled_batch(people, purge_store, sim_clock, 30)
    order = random.Random(8).sample(ids, 15)
    start = threading.Barrier(2)

    def purger():  # type: ignore[no-untyped-def]
        start.wait()
        return run_retention(store=purge_store)

    def holder():  # type: ignore[no-untyped-def]
        start.wait()
        out = {}
        for rec_id in order:
            try:
                set_hold(rec_id, reason="race", actor=ACTOR, store=purge_store)
                out[rec_id] = "held"
            except Refused as exc:
                out[rec_id] = str(exc)
        return out

    (t1, b1), (t2, b2) = _in_thread(purger), _in_thread(holder)
    t1.join()
    t2.join()
    assert "error" not in b1 and "error" not in b2, (b1, b2)
    outcomes = {o.recording: o.action for o in b1["result"].outcomes}
    _invariants(outcomes, b2["result"], purge_store.exists)


WORKER = """
import json, os, random, sys, time
from pathlib import Path
sys.path.insert(0, {here!r})
from overt.cli.bootstrap import setup
setup()
role, go = sys.argv[1], Path(sys.argv[2])
from overt.custody.services import Actor
from overt.evidence.store import get_store
from overt.retention.services import Refused, run_retention, set_hold
Path(str(go) + "." + role).touch()
while not go.exists():
    time.sleep(0.01)
if role == "purger":
    report = run_retention()
    print(json.dumps({{str(o.recording): o.action for o in report.outcomes}}))
else:
    ids = json.loads(sys.argv[3])
    out = {{}}
    for rec_id in ids:
        try:
            set_hold(rec_id, reason="race", actor=Actor("user", "racer"))
            out[str(rec_id)] = "held"
        except Refused as exc:
            out[str(rec_id)] = str(exc)
    print(json.dumps(out))
"""

PREPARE = """
import json, sys
from datetime import UTC, datetime, timedelta
sys.path.insert(0, {here!r})
from overt.cli.bootstrap import setup
setup()
from overt.evidence.models import Device, Officer
from overt.evidence.store import get_store
from overt.retention.services import run_retention
from retention_support import make_recording, standard_policies
standard_policies()
officer = Officer.objects.create(number="MP300", name="PC Race", team="T")
device = Device.objects.create(serial="CAM-RACE", model="m")
when = datetime.now(UTC) - timedelta(days=40)
ids = [make_recording(get_store(), officer, device, when, label=f"proc-{{i}}",
                      categories=("Non-evidential",)).pk for i in range({n})]
assert run_retention().count("recycled") == {n}
print(json.dumps(ids))
"""

CHECK = """
import json, sys
sys.path.insert(0, {here!r})
from overt.cli.bootstrap import setup
setup()
from overt.evidence.models import Recording
from overt.evidence.store import get_store
from overt.retention.models import Hold, Tombstone
store = get_store()
out = {{}}
for rec_id in json.loads(sys.argv[1]):
    tomb = Tombstone.objects.filter(recording_ref=rec_id).select_related("certificate").first()
    rec = Recording.objects.filter(pk=rec_id).first()
    out[rec_id] = {{
        "certificate": tomb.certificate.number if tomb else None,
        "gone_from_store": [not store.exists(o["sha256"]) for o in tomb.contents] if tomb else [],
        "active_holds": Hold.objects.filter(recording_ref=rec_id, released_at=None).count(),
        "stored": [store.exists(s) for s in rec.originals.values_list("sha256", flat=True)]
        if rec else [],
    }}
print(json.dumps(out))
"""


def _python(home: Path, code: str, *args: str, **popen) -> subprocess.Popen:  # type: ignore[type-arg]
    env = {k: v for k, v in os.environ.items() if not k.startswith("OVERT_")}
    env.update(
        OVERT_HOME=str(home),
        OVERT_MIN_FREE_BYTES="0",
        OVERT_RETENTION_RECYCLE_DAYS="0",
        PYTHONPATH=str(HERE),
    )
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **popen,
    )


def _finish(proc: subprocess.Popen) -> object:  # type: ignore[type-arg]
    out, err = proc.communicate(timeout=240)
    assert proc.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


def test_many_holds_against_a_purge_two_processes_on_sqlite(tmp_path: Path) -> None:
    home = tmp_path / "instance"
    n = 40
    ids = _finish(_python(home, PREPARE.format(here=str(HERE), n=n)))
    go = tmp_path / "go"
    order = random.Random(3).sample(list(ids), n // 2)  # type: ignore[call-overload]
    purger = _python(home, WORKER.format(here=str(HERE)), "purger", str(go))
    holder = _python(home, WORKER.format(here=str(HERE)), "holder", str(go), json.dumps(order))
    for _ in range(1200):
        if Path(f"{go}.purger").exists() and Path(f"{go}.holder").exists():
            break
        time.sleep(0.05)
    go.touch()
    outcomes = {int(k): v for k, v in _finish(purger).items()}  # type: ignore[union-attr]
    holds = {int(k): v for k, v in _finish(holder).items()}  # type: ignore[union-attr]
    state = _finish(_python(home, CHECK.format(here=str(HERE)), json.dumps(ids)))
    assert len(holds) == n // 2
    unheld = set(ids) - set(holds)  # type: ignore[call-overload]
    assert all(outcomes[rec_id] == "purged" for rec_id in unheld)
    for rec_id, hold in holds.items():
        seen = state[str(rec_id)]  # type: ignore[index]
        if hold == "held":
            assert seen["certificate"] is None and seen["active_holds"] == 1
            assert seen["stored"] and all(seen["stored"])
            assert outcomes.get(rec_id) in (None, "skipped", "recovered")
        else:
            assert seen["certificate"] and seen["certificate"] in hold
            assert seen["active_holds"] == 0 and all(seen["gone_from_store"])
            assert outcomes[rec_id] == "purged"
