"""Two simulated years of daily operation, on the real catalogue, store and services.

Each simulated day: the daily retention run at 02:00, then the day's events at 10:00:
new recordings (a realistic mix of categories: non-evidential, evidential, traffic with
a one-year review, cases with holds until they close, convictions, late and missing
categorisation), complaints, post-incident procedures and legal holds set and released,
officers rescuing recordings from the recycle bin, reviews, early deletions by two people.

An independent model of each recording (written here, not taken from
overt.retention.rules) says when it falls due. After every run the test checks:

- no deletion comes early: everything the run recycled was due (or approved early);
- no held item is ever recycled or purged;
- every due item is recycled at the first run after it falls due (within a day), and
  purged at the first run after its recycle window (within a day);
- every purge has its certificate, listing every object, and the bytes are gone;
- a recovery inside the window brings the recording back whole (rows, categories,
  markers, and the stored bytes re-hashed).
"""

from __future__ import annotations

import calendar
import json
import os
import random
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from retention_support import ACTOR, make_recording, snapshot

from overt.custody.models import CustodyEntry
from overt.evidence.models import Category
from overt.retention import services
from overt.retention.models import Disposal, Tombstone
from overt.retention.services import Refused, run_retention

pytestmark = pytest.mark.scaled
DAY = timedelta(days=1)
START = datetime(2025, 1, 1, 2, 0, tzinfo=UTC)
DAYS = 730
# New recordings a day: about 330 in two years here; PostgreSQL and S3 on moto answer each
# query and request several times slower, so the scaled run uses about 150.
ARRIVALS = 0.2 if os.environ.get("OVERT_TEST_ENGINES") == "scaled" else 0.45
RECYCLE = timedelta(days=7)


def add_years(d: datetime, n: int) -> datetime:
    try:
        return d.replace(year=d.year + n)
    except ValueError:  # 29 February
        return d.replace(year=d.year + n, day=28)


def add_months(d: datetime, n: int) -> datetime:
    y, m = divmod(d.month - 1 + n, 12)
    year, month = d.year + y, m + 1
    return d.replace(year=year, month=month, day=min(d.day, calendar.monthrange(year, month)[1]))


# The model's own statement of the policies (retention_support.standard_policies makes them).
MODEL: dict[str, tuple[str, Callable[[datetime], datetime], str]] = {
    "Non-evidential": ("recorded", lambda d: d + timedelta(days=31), "delete"),
    "Evidential": ("recorded", lambda d: add_years(d, 6), "review"),
    "Traffic": ("recorded", lambda d: add_years(d, 1), "review"),
    "Case": ("case-closed", lambda d: d + timedelta(days=90), "delete"),
    "Conviction": ("conviction", lambda d: add_months(d, 6), "delete"),
}
UNCATEGORISED = ("recorded", lambda d: d + timedelta(days=31), "delete")  # configured below


@dataclass
class Track:
    pk: int
    recorded_at: datetime
    objects: dict[str, bytes]
    categories: set[str] = field(default_factory=set)
    triggers: dict[str, datetime] = field(default_factory=dict)
    holds: dict[str, bool] = field(default_factory=dict)  # kind -> active
    keep_until: datetime | None = None
    early: bool = False
    state: str = "live"  # live, recycled, purged
    recycled_at: datetime | None = None
    recoverable_until: datetime | None = None
    before: dict | None = None

    @property
    def held(self) -> bool:
        return any(self.holds.values())

    def due(self, now: datetime) -> tuple[datetime | None, str]:
        ends = []
        for start_kind, add, action in [MODEL[c] for c in self.categories] or [UNCATEGORISED]:
            start = self.recorded_at if start_kind == "recorded" else self.triggers.get(start_kind)
            if start is None or start > now:
                return None, "keep"
            ends.append((add(start), action))
        if self.keep_until is not None:
            ends.append((self.keep_until, "review"))
        return max(ends, key=lambda e: (e[0], e[1] == "review"))

    def due_for(self, now: datetime, action: str) -> bool:
        when, what = self.due(now)
        return not self.held and when is not None and when <= now and what == action


class Simulation:
    def __init__(self, people, store, clock, managers, seed: int = 2025) -> None:
        self.officers, self.device = people
        self.store, self.clock = store, clock
        self.alice, self.bob = managers[0], managers[1]
        self.rng = random.Random(seed)
        self.tracks: dict[int, Track] = {}
        self.events: dict[int, list[Callable[[], None]]] = defaultdict(list)
        self.count: Counter[str] = Counter()
        self.day = 0

    def at(self, days_ahead: int, event: Callable[[], None]) -> None:
        self.events[self.day + days_ahead].append(event)

    # --- events ------------------------------------------------------------------------

    def new_recording(self) -> None:
        rng = self.rng
        n = len(self.tracks)
        officer = self.officers[n % len(self.officers)]
        recorded = self.clock.now() - timedelta(minutes=rng.randint(10, 600))
        kind = rng.choices(
            [
                "non-evidential",
                "late",
                "never",
                "evidential",
                "traffic",
                "case",
                "conviction",
                "mixed",
            ],
            weights=[35, 13, 8, 10, 10, 12, 7, 5],
        )[0]
        first = {
            "non-evidential": ("Non-evidential",),
            "evidential": ("Evidential",),
            "traffic": ("Traffic",),
            "case": ("Case",),
            "conviction": ("Conviction",),
            "mixed": ("Non-evidential", "Traffic"),
        }.get(kind, ())
        made = make_recording(
            self.store,
            officer,
            self.device,
            recorded,
            label=f"sim-{n}",
            categories=first,
            originals=rng.choice([1, 1, 2]),
        )
        t = Track(made.pk, recorded, made.objects, set(first))
        self.tracks[t.pk] = t
        self.count[f"made {kind}"] += 1
        if kind == "late":
            self.at(
                rng.randint(1, 20),
                lambda: self.categorise(
                    t, rng.choice(["Non-evidential", "Non-evidential", "Evidential"])
                ),
            )
        if kind == "case":
            self.hold(t, "case")
            self.at(rng.randint(20, 300), lambda: self.close_case(t))
        if kind == "conviction":
            self.at(rng.randint(30, 200), lambda: self.trigger(t, "conviction"))
        if rng.random() < 0.05:
            self.at(rng.randint(1, 60), lambda: self.hold(t, "complaint", rng.randint(30, 200)))
        if rng.random() < 0.03:
            self.hold(t, "post-incident", rng.randint(20, 100))
        if rng.random() < 0.02:
            self.at(rng.randint(1, 40), lambda: self.hold(t, "legal", rng.choice([None, 300])))

    def categorise(self, t: Track, name: str) -> None:
        if t.state == "purged":
            return
        result = services.categorize(t.pk, name, actor=ACTOR, store=self.store)
        t.categories.add(name)
        self.count["categorised"] += 1
        if result["recovered"]:
            self.came_back(t)

    def hold(self, t: Track, kind: str, release_after: int | None = None) -> None:
        if t.holds.get(kind):
            return
        if t.state == "purged":
            with pytest.raises(Refused, match="deletion certificate"):
                services.set_hold(t.pk, kind=kind, reason="too late", actor=ACTOR)
            self.count["hold refused: already purged"] += 1
            return
        result = services.set_hold(
            t.pk, kind=kind, reason=f"{kind} hold", actor=ACTOR, store=self.store
        )
        t.holds[kind] = True
        self.count[f"hold {kind}"] += 1
        if t.state == "recycled":
            assert result.recovered, "a hold must bring a recycled recording back"
            self.came_back(t)
        if release_after is not None:
            self.at(release_after, lambda: self.release(t, kind))

    def release(self, t: Track, kind: str) -> None:
        services.release_hold(t.pk, reason=f"{kind} over", actor=ACTOR, kind=kind)
        t.holds[kind] = False
        self.count["released"] += 1

    def close_case(self, t: Track) -> None:
        self.release(t, "case")
        self.trigger(t, "case-closed")

    def trigger(self, t: Track, kind: str) -> None:
        if t.state == "purged":
            return
        now = self.clock.now()
        services.add_trigger(
            t.pk, kind, occurred_at=now, reason="court result", actor=ACTOR, store=self.store
        )
        t.triggers[kind] = now
        self.count[f"trigger {kind}"] += 1

    def rescue(self, t: Track) -> None:
        """An officer spots a recording in the bin that matters, inside the window."""
        if t.state != "recycled" or t.early:
            return
        if self.rng.random() < 0.7:
            self.categorise(t, "Evidential")
            assert t.state == "live"
        else:
            until = self.clock.now() + 60 * DAY
            services.recover(
                t.pk,
                reason="needed for training",
                actor=ACTOR,
                keep_until_date=until,
                store=self.store,
            )
            t.keep_until = until
            self.came_back(t)
        self.count["rescued from the bin"] += 1

    def came_back(self, t: Track) -> None:
        assert t.state == "recycled" and t.before is not None
        assert self.clock.now() < t.recoverable_until  # type: ignore[operator]
        after = snapshot(t.pk, self.store)
        expected = dict(t.before, categories=sorted(t.categories))
        assert after == expected, f"recording {t.pk} did not come back whole"
        t.state, t.before, t.recycled_at = "live", None, None
        self.count["recovered whole"] += 1

    def review(self, t: Track) -> None:
        if t.state != "live" or not t.due_for(self.clock.now(), "review"):
            return
        if self.rng.random() < 0.5:
            until = self.clock.now() + 180 * DAY
            services.keep_until(t.pk, until, reason="still relevant", actor=ACTOR)
            t.keep_until = until
            self.count["review: keep"] += 1
            return
        request = services.request_deletion(t.pk, user=self.alice, reason="reviewed: not needed")
        with pytest.raises(Refused, match="two different people"):
            services.decide_deletion(request.pk, user=self.alice, reason="self", approve=True)
        services.decide_deletion(request.pk, user=self.bob, reason="agreed", approve=True)
        t.early = True
        self.recycled(t, Disposal.objects.get(recording_ref=t.pk, status="recycled"))
        self.count["review: early deletion"] += 1

    # --- the daily run and its checks -----------------------------------------------------

    def recycled(self, t: Track, disposal: Disposal) -> None:
        t.state, t.recycled_at = "recycled", self.clock.now()
        t.recoverable_until = disposal.purge_after
        assert disposal.purge_after == self.clock.now() + RECYCLE
        t.before = snapshot(t.pk, self.store)
        if self.rng.random() < 0.15:
            self.at(self.rng.randint(1, 6), lambda: self.rescue(t))

    def run_and_check(self) -> None:
        now = self.clock.now()
        report = run_retention(store=self.store)
        failed = [o for o in report.outcomes if o.action in ("failed", "blocked")]
        assert not failed, failed
        opened = {d.recording_ref: d for d in Disposal.objects.filter(status__in=services.OPEN)}
        in_bin = [t.pk for t in self.tracks.values() if t.state == "recycled"]
        tombs = {
            t.recording_ref: t
            for t in Tombstone.objects.select_related("certificate").filter(
                recording_ref__in=in_bin
            )
        }
        expected_review = set()
        for t in self.tracks.values():
            if t.state == "purged":
                continue
            if t.pk in tombs:
                self.check_purged(t, tombs[t.pk], now)
            elif t.pk in opened:
                assert not t.held, f"held recording {t.pk} is in the recycle bin"
                if t.state == "live":  # recycled by this run: was it due?
                    assert t.due_for(now, "delete"), f"recording {t.pk} was recycled early"
                    self.recycled(t, opened[t.pk])
                    self.count["recycled by policy"] += 1
                else:
                    assert now < t.recoverable_until, f"recording {t.pk} overstayed the bin"
            else:
                assert t.state == "live", f"recording {t.pk} left the bin unseen"
                assert not t.due_for(now, "delete"), f"due recording {t.pk} was not recycled"
                if t.due_for(now, "review"):
                    expected_review.add(t.pk)
        assert {r.recording for r in report.review_due} == expected_review
        for pk in expected_review:
            self.at(1, lambda pk=pk: self.review(self.tracks[pk]))

    def check_purged(self, t: Track, tomb: Tombstone, now: datetime) -> None:
        assert t.state == "recycled" and not t.held, f"recording {t.pk} purged wrongly"
        assert t.recoverable_until <= now < t.recoverable_until + DAY  # type: ignore[operator]
        cert = tomb.certificate
        body = json.loads(cert.body)
        listed = {o["sha256"]: o["size"] for o in body["what"]["objects"]}
        assert listed == {sha: len(b) for sha, b in t.objects.items()}
        assert body["why"]["basis"] == ("early" if t.early else "policy")
        for sha in t.objects:
            assert not self.store.exists(sha), f"{sha} survived its purge"
        entry = CustodyEntry.objects.get(index=cert.custody_index)
        assert json.loads(entry.entry)["details"]["certificate_sha256"] == cert.sha256
        t.state = "purged"
        self.count["purged with certificate"] += 1

    def simulate(self, days: int) -> None:
        for self.day in range(days):
            self.clock.set(START + self.day * DAY)
            self.run_and_check()
            self.clock.set(START + self.day * DAY + timedelta(hours=8))
            if self.day < days - 30 and self.rng.random() < ARRIVALS:
                self.new_recording()
            for event in self.events.pop(self.day, []):
                event()


@pytest.mark.timeout(900)
def test_two_simulated_years(people, purge_store, policies, managers, settings_env) -> None:
    from overt.evidence.models import Officer
    from overt.retention import clock

    settings_env(retention_uncategorised_action="delete", retention_recycle_days=7)
    officer, device = people
    officers = [
        officer,
        Officer.objects.create(number="MP201", name="PC Two", team="Response Team 2"),
        Officer.objects.create(number="MP301", name="PC Three", team="Roads Policing"),
    ]
    assert Category.objects.filter(name__in=list(MODEL)).count() == len(MODEL)
    with clock.simulate(START) as simulated:
        sim = Simulation((officers, device), purge_store, simulated, managers)
        sim.simulate(DAYS)
    counts = sim.count
    # The mix really exercised every path.
    for key in [
        "recycled by policy",
        "purged with certificate",
        "recovered whole",
        "rescued from the bin",
        "hold case",
        "hold complaint",
        "released",
        "trigger case-closed",
        "trigger conviction",
        "review: keep",
        "review: early deletion",
        "categorised",
    ]:
        assert counts[key] > 0, (key, dict(counts))
    assert 100 <= len(sim.tracks) <= 400, len(sim.tracks)
    print(dict(sorted(counts.items())))
