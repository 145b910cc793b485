"""Finding recordings: the filters shared by the library page and the API.

Each filter narrows on an indexed column where it can, and the order
(`-trigger_on_at, -id`) matches the (officer|device|incident, trigger_on_at)
indexes, so a first page reads about 50 index entries rather than sorting the table.

Free text (`q`) is one search over everything an investigator might know: every word,
or "quoted phrase", must be found somewhere in the recording's title, notes or marker
text (a substring, any case: on SQLite an FTS5 trigram index kept current by triggers,
migration evidence 0003; on PostgreSQL pg_trgm GIN indexes), its officer's name, number
or team, its device's serial, its incident's reference or title, a category's name, or
any other `TextSource` the caller passes (transcripts pass the words spoken).
`box`/`near` keep recordings whose GPS track (or start point) enters a place (places.py).
(Longer than 400 lines because it is one query builder: the filters, their parsing, the
facets and the search share one vocabulary, and split they would import each other.)
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import connection
from django.db.models import Case, Count, Exists, OuterRef, Q, QuerySet, Value, When
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from overt import errors

from .joint import Rows, among, intersection, planned
from .models import (
    Category,
    Derivative,
    Device,
    Incident,
    Marker,
    Officer,
    Original,
    Recording,
    Tag,
)
from .places import Place, parse_box, parse_near, recordings_in_place

MAX_TEXT_LENGTH = 200
MAX_TERMS = 8
MIN_WORD = 3  # the trigram index needs three characters; shorter words only narrow
TEXT_TABLE = "evidence_recording_text"  # SQLite FTS5 (trigram), rowid = recording id
# What `has` may ask for: recordings with at least one of these.
HAS_CHOICES = {"clip": "clips", "still": "stills", "marker": "markers"}
# Orders the library offers: name -> (label, ORDER BY). Every one ends on a unique key.
SORTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "newest": ("Newest trigger first", ("-trigger_on_at", "-id")),
    "oldest": ("Oldest trigger first", ("trigger_on_at", "id")),
    "officer": ("Officer, then newest", ("officer__number", "-trigger_on_at", "-id")),
    "device": ("Device, then newest", ("device__serial", "-trigger_on_at", "-id")),
    "title": ("Title A to Z", ("title", "-id")),
}
DEFAULT_SORT = "newest"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class FilterError(errors.Invalid, ValueError):
    """A filter value could not be understood; the message says which and why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class RecordingFilter:
    """What to look for. None means "any". `until` is exclusive; times are on trigger_on_at."""

    officer: str | None = None  # warrant or collar number
    device: str | None = None  # serial
    incident: str | None = None  # reference
    category: str | None = None  # name
    tag: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    q: str | None = None  # free text over title, notes and marker text
    playable: bool | None = None  # True: no clip is unplayable; False: some clip is
    has: str | None = None  # "clip", "still" or "marker": has at least one
    place: Place | None = None  # a box or a radius the GPS track must enter

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> RecordingFilter:
        """Build from query parameters (a QueryDict or dict); unknown keys are ignored.

        Dates may be ISO 8601 dates or datetimes; a time without an offset is local
        (TIME_ZONE). A bare `until` date includes the whole of that day.
        """
        values: dict[str, Any] = {}
        for name in ("officer", "device", "incident", "category", "tag", "q"):
            values[name] = _text(name, params.get(name))
        values["since"] = _moment("since", params.get("since"), end_of_day=False)
        values["until"] = _moment("until", params.get("until"), end_of_day=True)
        values["playable"] = _flag("playable", params.get("playable"))
        values["has"] = _text("has", params.get("has"))
        values["place"] = _place(params.get("box"), params.get("near"))
        if values["has"] is not None and values["has"] not in HAS_CHOICES:
            raise FilterError("has", f"expected one of {', '.join(HAS_CHOICES)}")
        if values["q"] is not None:
            words = search_terms(values["q"])
            if len(words) > MAX_TERMS:
                raise FilterError("q", f"more than {MAX_TERMS} words or phrases")
            if all(len(word) < MIN_WORD for word in words):
                raise FilterError("q", f"search for a word of at least {MIN_WORD} characters")
        if values["since"] and values["until"] and values["since"] >= values["until"]:
            raise FilterError("until", "must be after 'since'")
        return cls(**values)

    def is_empty(self) -> bool:
        return all(getattr(self, f.name) is None for f in fields(self))


def filter_recordings(f: RecordingFilter, sort: str = DEFAULT_SORT) -> QuerySet[Recording]:
    """Recordings matching `f` in `sort` order (see SORTS), officer/device/incident joined."""
    return Search(f).results(sort)


Restrict = Callable[[QuerySet[Recording]], QuerySet[Recording]]


@dataclass(frozen=True, slots=True)
class Found:
    """Where one search term was found: a condition on recordings, and, where it holds
    for few (at most SMALL_TEXT_SET), their ids, which a query may be driven from.

    A source may also give `walk`: the same condition tested recording by recording
    (no set of every match is built), with `share`, the estimated share of recordings
    it holds for. The listing walks in its order until its page and count are full, so
    walking costs about COUNT_LIMIT / share tests: cheaper than the set where the term
    is in most recordings (`share` at least `walk_from`), or where another filter
    (an officer, a device, an incident) leaves few recordings to test.

    `rows`, where the source has it: SQL giving the ids `condition` holds for, so that
    several large sets can be intersected before the listing orders them (joint.py)."""

    condition: Q
    ids: tuple[int, ...] | None = None
    walk: Q | None = None
    share: float = 0.0
    walk_from: float = 1.0
    rows: Rows | None = None

    def walks(self, narrow: bool) -> bool:
        return self.walk is not None and (narrow or self.share >= self.walk_from)

    def chosen(self, narrow: bool) -> Q:
        """The walk where it is cheaper (or `narrow`: few recordings left to test), else
        the condition."""
        return self.walk if self.walk is not None and self.walks(narrow) else self.condition

    def set_rows(self) -> Rows | None:
        """SQL of the ids the condition holds for (a short list: those ids), or None
        where the source gave none."""
        if self.rows is not None:
            return self.rows
        if self.ids is not None:
            return Rows.of(Recording.objects.filter(pk__in=self.ids).values("pk"), len(self.ids))
        return None

    @classmethod
    def among(cls, ids: Iterable[int]) -> Found:
        listed = tuple(sorted(set(ids)))
        return cls(Q(pk__in=listed), listed)


# Somewhere else one search term may be found, or None where it is not. Each term is
# looked up on its own: a recording's words may be spread over several of its clips.
TextSource = Callable[[str], Found | None]


@dataclass(frozen=True, slots=True)
class FacetCount:
    value: str  # what the filter takes
    label: str
    count: int


FACETS: tuple[tuple[str, str], ...] = (
    ("officer", "Officer"),
    ("device", "Device"),
    ("incident", "Incident"),
    ("category", "Category"),
    ("tag", "Tag"),
)
SMALL_TEXT_SET = 2000  # text matches up to this many are fetched once and passed as ids
# A text search counts its matches exactly up to this many (or up to the end of the page
# asked for, if further); beyond, it says "more than COUNT_LIMIT" rather than read every
# match of a common word again. Facets with text count among these same matches.
COUNT_LIMIT = 1000
# A text search pages no further than this into its matches: a deeper page is empty (its
# count says "more than"), so no request can make the database read or bind an unbounded
# number of ids, and no offset reaches the database's 64-bit LIMIT/OFFSET.
MAX_WINDOW = 10_000


@dataclass(frozen=True, slots=True)
class Window:
    """One page of a search and its count. `exact`: `count` is the number of matches;
    otherwise there are more than `count` (the search stopped counting there)."""

    recordings: list[Recording]
    offset: int
    count: int
    exact: bool

    @property
    def has_next(self) -> bool:
        return not self.exact or self.offset + len(self.recordings) < self.count


class Search:
    """One library query: the filter's text search evaluated once, then its page, count
    and facet counts.

    `restrict` narrows to what the viewer may see (pass the access service's
    visible_recordings); counts go through it too, so they never reveal a recording
    the viewer may not know of.
    """

    def __init__(
        self,
        f: RecordingFilter,
        restrict: Restrict | None = None,
        text_sources: tuple[TextSource, ...] = (),
    ) -> None:
        self.filter = f
        self.restrict: Restrict = restrict or (lambda qs: qs)
        self._text: Q | None = None
        self._text_is_small = False
        # The text's sets intersected with the category's and tag's (joint.py), and the
        # filters that went into it; None where that was not done or gave too many.
        self._joint: Q | None = None
        self._joint_covers: frozenset[str] = frozenset()
        self._joint_is_small = True
        self._count: int | None = None
        self._candidates: list[int] | None = None  # a text search's window's ids
        self._bound, self._sort = COUNT_LIMIT, DEFAULT_SORT
        # False: the facets count among the first matches only (see `window`).
        self.facets_exact = True
        self._place: Q | None = None
        self._place_is_small = False
        if f.place is not None:
            in_place = recordings_in_place(f.place)
            self._place = Q(pk__in=in_place)
            # A few recordings (a radius in town): the listing is driven from their ids
            # rather than walking every recording in time order to test each one.
            self._place_is_small = len(in_place) <= SMALL_TEXT_SET
        if f.q is not None:
            # Few recordings left by the other filters (an officer has hundreds, an
            # incident dozens, a place in town a few hundred): a term found in many is
            # tested on those few rather than gathered whole (Found.walk).
            narrow = any((f.officer, f.device, f.incident)) or self._place_is_small
            text = _text_condition(f.q, text_sources, narrow)
            self._text, self._text_is_small = text.condition, text.small
            if not text.small and text.sets is not None and not narrow:
                self._intersect(text.sets)

    def _intersect(self, sets: list[Rows]) -> None:
        """Where the text's terms (each a set; a walked one only if merged with others)
        and the category and tag are two or more sets, their intersection, if short
        enough to list (joint.py)."""
        f, parts, covers = self.filter, list(sets), set()
        if f.category is not None:
            links = Recording.categories.through.objects.filter(category__name=f.category)
            parts.append(Rows.of(links.values("recording_id"), links.count()))
            covers.add("category")
        if f.tag is not None:
            tagged = Recording.tags.through.objects.filter(tag__name=f.tag)
            parts.append(Rows.of(tagged.values("recording_id"), tagged.count()))
            covers.add("tag")
        plan = planned(parts)
        if plan is None:
            return
        ids = intersection(plan)
        if ids is not None:
            self._joint, self._joint_covers = among(ids), frozenset(covers)
            # Many ids: the listing walks its order and probes them (9,002 of 100,000:
            # 14 ms), rather than reading each one's row and sorting them all (37 ms).
            self._joint_is_small = len(ids) <= SMALL_TEXT_SET

    @property
    def intersected(self) -> bool:
        """Whether the listing is driven from an intersection of sets (joint.py)."""
        return self._joint is not None

    def results(self, sort: str = DEFAULT_SORT) -> QuerySet[Recording]:
        qs = Recording.objects.select_related("officer", "device", "incident")
        qs = self.restrict(self._narrow(qs, opaque=True))
        return qs.order_by(*SORTS.get(sort, SORTS[DEFAULT_SORT])[1])

    def page(self, offset: int, size: int, sort: str = DEFAULT_SORT) -> list[Recording]:
        """One page, ids first: skipping `offset` rows walks the index alone, and only the
        page's rows are joined to their officer, device and incident."""
        ordering = SORTS.get(sort, SORTS[DEFAULT_SORT])[1]
        ids_query = self.restrict(self._narrow(Recording.objects.all(), opaque=True))
        if any("__" in key for key in ordering):  # ordering across a join: one query
            return list(self.results(sort).defer("gps_track")[offset : offset + size])
        ids = list(
            ids_query.order_by(*ordering).values_list("pk", flat=True)[offset : offset + size]
        )
        rows = Recording.objects.select_related("officer", "device", "incident").defer("gps_track")
        by_id = rows.in_bulk(ids)
        return [by_id[pk] for pk in ids if pk in by_id]

    @property
    def bounded(self) -> bool:
        """Whether `window` counts only up to a bound (a text search), not every match."""
        return self._text is not None

    def window(
        self,
        offset: int,
        size: int,
        sort: str = DEFAULT_SORT,
        rows: QuerySet[Recording] | None = None,
        bound: int | None = None,
    ) -> Window:
        """The page at `offset` and the count. Without text, the count is exact (an
        indexed COUNT). With text, one query reads the ids of the first
        max(bound, offset + size) + 1 matches in `sort` order: the page is among them,
        the count is exact when they are fewer, and the facets count among them, so a
        word said in every recording is read once, and only as far as needed. `rows`
        shapes the page's recordings (joins, prefetches); they are read by id only."""
        if rows is None:
            rows = Recording.objects.select_related("officer", "device", "incident")
        rows = rows.defer("gps_track")
        if not self.bounded:
            total = self.count()
            if offset >= total:  # past the end (any offset, however large): an empty page
                return Window([], offset, total, True)
            ids = list(self._ordered_ids(sort)[offset : offset + size])
            return Window(_in_order(rows, ids), offset, total, True)
        need = max(COUNT_LIMIT if bound is None else bound, min(offset + size, MAX_WINDOW))
        found = list(self._ordered_ids(sort)[: need + 1])
        self._candidates, self._bound, self._sort = found[:need], need, sort
        exact = len(found) <= need
        self.facets_exact = exact
        if exact:
            self._count = len(found)
        return Window(
            _in_order(rows, found[offset : min(offset + size, need)]),
            offset,
            len(found) if exact else need,
            exact,
        )

    @property
    def bound(self) -> int:
        """How far the last `window` counted (its count is exact below this)."""
        return self._bound

    def _ordered_ids(self, sort: str, skip: str = "") -> QuerySet[Any, Any]:
        ordering = SORTS.get(sort, SORTS[DEFAULT_SORT])[1]
        ids = self.restrict(self._narrow(Recording.objects.all(), opaque=True, skip=skip))
        return ids.order_by(*ordering).values_list("pk", flat=True)

    def count(self) -> int:
        if self._count is None:
            base = self.restrict(self._narrow(Recording.objects.all(), opaque=False))
            self._count = base.count()
        return self._count

    def facets(self, limit: int = 8) -> dict[str, list[FacetCount]]:
        """For each facet, its commonest values among the recordings matching every
        *other* filter (so with an officer chosen, the other officers still show their
        counts). Values with no matching recording are left out. Each facet is one GROUP
        BY on its foreign key (which its index covers) or on the link table; after a text
        search's `window`, they count among the matches it read (`facets_exact` says
        whether that was all of them)."""
        out: dict[str, list[FacetCount]] = {}
        if self.bounded and self._candidates is not None:
            return self._facets_among(limit)
        for facet, _ in FACETS:
            skip = facet if getattr(self.filter, facet) is not None else ""
            base = self.restrict(self._narrow(Recording.objects.all(), opaque=False, skip=skip))
            if facet in ("category", "tag"):
                out[facet] = _named_counts(facet, base, limit)
            else:
                out[facet] = _fk_counts(facet, base, limit)
        return out

    def _facets_among(self, limit: int) -> dict[str, list[FacetCount]]:
        """Facets of a text search, counted among the matches its window read (all of
        them when its count is exact): for a facet not chosen, the window's own ids; for
        a chosen one, the first matches of the same search without that facet's filter."""
        out: dict[str, list[FacetCount]] = {}
        among: dict[str, list[int]] = {}
        for facet, _ in FACETS:
            if getattr(self.filter, facet) is None:
                among[facet] = list(self._candidates or ())
            else:  # counted with that filter left out, as far as the window read
                first = list(self._ordered_ids(self._sort, skip=facet)[: self._bound + 1])
                self.facets_exact = self.facets_exact and len(first) <= self._bound
                among[facet] = first[: self._bound]
        keys = {pk for facet in ("officer", "device", "incident") for pk in among[facet]}
        rows = Recording.objects.filter(pk__in=sorted(keys)).values_list(
            "pk", "officer_id", "device_id", "incident_id"
        )
        columns = {pk: (officer, device, incident) for pk, officer, device, incident in rows}
        for index, facet in enumerate(("officer", "device", "incident")):
            tally: dict[int, int] = {}
            for pk in among[facet]:
                value = columns.get(pk, (None, None, None))[index]
                if value is not None:
                    tally[value] = tally.get(value, 0) + 1
            top = sorted(tally.items(), key=lambda c: (-c[1], c[0]))[:limit]
            out[facet] = _named_fk(facet, top)
        for facet in ("category", "tag"):
            relation = Recording.categories if facet == "category" else Recording.tags
            key = f"{facet}_id"
            ids = among[facet]
            links = relation.through.objects.filter(recording_id__in=ids) if ids else None
            grouped = (
                links.values(key).annotate(n=Count("pk")).order_by("-n", key)[:limit]
                if links is not None
                else []
            )
            out[facet] = _named(facet, [(r[key], r["n"]) for r in grouped])
        return out

    def _narrow(
        self, qs: QuerySet[Recording], *, opaque: bool, skip: str = ""
    ) -> QuerySet[Recording]:
        """`qs` narrowed by every filter except `skip`. `opaque` hides large id sets from
        the planner, so that an ordered listing walks the trigger-time index (or the
        officer/device/incident one) and probes them instead of sorting every match."""
        f = self.filter
        hide = _opaque if opaque else (lambda condition: condition)
        # The joint set holds the text, category and tag at once, except where the
        # facets count with one of those left out.
        joint = self._joint if skip not in self._joint_covers else None
        covered = self._joint_covers if joint is not None else frozenset()
        if f.officer is not None and skip != "officer":
            qs = qs.filter(officer__number=f.officer)
        if f.device is not None and skip != "device":
            qs = qs.filter(device__serial=f.device)
        if f.incident is not None and skip != "incident":
            qs = qs.filter(incident__reference=f.incident)
        if f.category is not None and skip != "category" and "category" not in covered:
            in_category = Recording.categories.through.objects.filter(category__name=f.category)
            qs = qs.filter(hide(Q(pk__in=in_category.values("recording_id"))))
        if f.tag is not None and skip != "tag" and "tag" not in covered:
            with_tag = Recording.tags.through.objects.filter(tag__name=f.tag)
            qs = qs.filter(hide(Q(pk__in=with_tag.values("recording_id"))))
        if f.since is not None:
            qs = qs.filter(trigger_on_at__gte=f.since)
        if f.until is not None:
            qs = qs.filter(trigger_on_at__lt=f.until)
        if joint is not None:
            qs = qs.filter(joint if self._joint_is_small else hide(joint))
        elif self._text is not None:
            qs = qs.filter(self._text if self._text_is_small else hide(self._text))
        if self._place is not None:
            qs = qs.filter(self._place if self._place_is_small else hide(self._place))
        if f.playable is not None and skip != "playable":
            unplayable = Original.objects.filter(playable=False).values("recording_id")
            qs = qs.filter(hide(~Q(pk__in=unplayable) if f.playable else Q(pk__in=unplayable)))
        if f.has is not None and skip != "has":
            having: QuerySet[Any, Any]  # one id column, from markers or derivatives
            if f.has == "marker":
                having = Marker.objects.values("recording_id")
            else:
                having = Derivative.objects.filter(kind=f.has).values("original__recording_id")
            qs = qs.filter(hide(Q(pk__in=having)))
        return qs


def _in_order(rows: QuerySet[Recording], ids: list[int]) -> list[Recording]:
    by_id = rows.in_bulk(ids)
    return [by_id[pk] for pk in ids if pk in by_id]


def _fk_counts(facet: str, base: QuerySet[Recording], limit: int) -> list[FacetCount]:
    """Group by the foreign key alone (an index covers it), then name the top values."""
    field = f"{facet}_id"
    if facet == "incident":
        base = base.exclude(incident_id__isnull=True)
    rows = base.order_by().values(field).annotate(n=Count("pk")).order_by("-n", field)[:limit]
    return _named_fk(facet, [(r[field], r["n"]) for r in rows])


def _named_fk(facet: str, counts: list[tuple[int, int]]) -> list[FacetCount]:
    counts = sorted(counts, key=lambda c: (-c[1], c[0]))
    ids = [pk for pk, _ in counts]
    if facet == "officer":
        names = {o.pk: (o.number, str(o)) for o in Officer.objects.filter(pk__in=ids)}
    elif facet == "device":
        names = {d.pk: (d.serial, d.serial) for d in Device.objects.filter(pk__in=ids)}
    else:
        names = {
            i.pk: (i.reference, f"{i.reference}: {i.title}" if i.title else i.reference)
            for i in Incident.objects.filter(pk__in=ids)
        }
    return [FacetCount(*names[pk], n) for pk, n in counts if pk in names]


def _named_counts(facet: str, base: QuerySet[Recording], limit: int) -> list[FacetCount]:
    relation = Recording.categories if facet == "category" else Recording.tags
    key = f"{facet}_id"
    links = relation.through.objects.all()
    if base.query.where:  # else nothing narrows the catalogue, and every link counts
        links = links.filter(recording_id__in=base.values("pk"))
    grouped = links.values(key).annotate(n=Count("pk")).order_by("-n", key)[:limit]
    return _named(facet, [(r[key], r["n"]) for r in grouped])


def _named(facet: str, counts: list[tuple[int, int]]) -> list[FacetCount]:
    model = Category if facet == "category" else Tag
    names = dict(model.objects.filter(pk__in=[pk for pk, _ in counts]).values_list("pk", "name"))
    return [FacetCount(names[pk], names[pk], n) for pk, n in counts if pk in names]


def search_terms(q: str) -> list[str]:
    """The words and "quoted phrases" of `q` (an unbalanced quote runs to the end)."""
    terms: list[str] = []
    for index, part in enumerate(q.split('"')):
        if index % 2:
            phrase = " ".join(part.split())
            if phrase:
                terms.append(phrase)
        else:
            terms.extend(part.split())
    return terms


@dataclass(frozen=True, slots=True)
class TextCondition:
    """Recordings with every term of a search: `condition`; `small`: driven by a short
    list of ids (a term found in few); `sets`: each term's matches as SQL where every
    term has one (a walked term's marked so: joint.py uses it only merged), or None."""

    condition: Q
    small: bool
    sets: list[Rows] | None


def _text_condition(
    q: str, sources: tuple[TextSource, ...] = (), narrow: bool = False
) -> TextCondition:
    """Recordings in which every term of `q` is found somewhere (see the module's
    docstring), and whether the match is driven by a short list of ids: where any one
    term was found in few recordings, every match is among them. `narrow`: the other
    filters leave few recordings, so a term found in many is tested on each (walked)."""
    if (problem := text_problem(q)) is not None:  # a filter not made by from_params
        raise FilterError("q", problem)
    condition, walked, small = Q(), Q(), False
    sets: list[Rows] | None = []
    for term in search_terms(q)[:MAX_TERMS]:
        places = (_written_condition(term), _catalogue_condition(term))
        found = [f for f in (*places, *(source(term) for source in sources)) if f is not None]
        if not found:  # this term is nowhere: nothing has every term
            return TextCondition(Q(pk__in=[]), True, None)
        listed = [f.ids for f in found]
        if all(ids is not None for ids in listed):  # short lists: one list, joined here
            term_found = Found.among(pk for ids in listed for pk in ids or ())
        else:
            either = found[0].chosen(narrow)
            for f in found[1:]:
                either |= f.chosen(narrow)
            term_found = Found(either)
            rows = [f.set_rows() for f in found]
            walks = any(f.walks(narrow) for f in found)
            if sets is not None and None not in rows:
                # a walked term's set is built only if merged with others (joint.py)
                term_rows = Rows.union([r for r in rows if r is not None])
                sets.append(replace(term_rows, walked=True) if walks else term_rows)
            else:
                sets = None
            if walks:  # tested after every set, so only on the recordings those keep
                walked &= term_found.condition
                continue
        condition &= term_found.condition
        small = small or term_found.ids is not None
    # In this order: a walked term reads a stored vector for each recording it tests
    # (5 us), a set's test is a hash probe; "distrzu anzuha" (a word in every transcript,
    # then one in a tenth) read 10,000 vectors walking the first (123 ms), 1,000 the
    # other way round (26 ms).
    return TextCondition(condition & walked, small, sets)


def _small_or_large(
    condition: Q, ids: Callable[[int], list[int]], rows: Rows | None = None
) -> Found | None:
    """None if `condition` holds for no recording; a list of its ids if it holds for at
    most SMALL_TEXT_SET (`ids(limit)` gives at most `limit` of them); else itself, with
    its set as SQL (`rows`, or the condition's own)."""
    first = ids(SMALL_TEXT_SET + 1)
    if not first:
        return None
    if len(first) <= SMALL_TEXT_SET:
        return Found.among(first)
    return Found(condition, rows=rows or Rows.of(Recording.objects.filter(condition).values("pk")))


def _written_condition(term: str) -> Found | None:
    """Recordings whose title, notes or marker text contain `term` (any case)."""
    if connection.vendor == "sqlite":
        sql, params = _fts_query([term])

        def fts_ids(limit: int) -> list[int]:
            with connection.cursor() as cursor:
                cursor.execute(f"{sql} LIMIT {limit}", params)
                return [row[0] for row in cursor.fetchall()]

        return _small_or_large(Q(pk__in=RawSQL(sql, params)), fts_ids)  # noqa: S611 (bound)
    in_text = Recording.objects.filter(Q(title__icontains=term) | Q(notes__icontains=term))
    in_markers = Marker.objects.filter(text__icontains=term).values("recording_id")
    condition = Q(pk__in=in_text.values("pk")) | Q(pk__in=in_markers)
    # Listed from the two trigram look-ups at once, not by testing every recording
    # against both (7 ms at 100,000 recordings, for a word in no title or marker).
    either = (
        in_text.order_by()
        .values_list("pk")
        .union(in_markers.order_by().values_list("recording_id"))
    )

    def ids(limit: int) -> list[int]:
        return [row[0] for row in either[:limit]]

    return _small_or_large(condition, ids, Rows.of(either))


def _ids_of(condition: Q) -> Callable[[int], list[int]]:
    def ids(limit: int) -> list[int]:
        return list(
            Recording.objects.filter(condition).order_by().values_list("pk", flat=True)[:limit]
        )

    return ids


def _catalogue_condition(term: str) -> Found | None:
    """Recordings whose officer (name, number, team), device (serial), incident
    (reference, title) or a category's name contains `term`: each a small table, looked
    up first, so the recordings are found through their indexed foreign keys."""
    found = (
        (
            Officer.objects.filter(
                Q(name__icontains=term) | Q(number__icontains=term) | Q(team__icontains=term)
            ),
            "officer__in",
        ),
        (Device.objects.filter(serial__icontains=term), "device__in"),
        (
            Incident.objects.filter(Q(reference__icontains=term) | Q(title__icontains=term)),
            "incident__in",
        ),
    )
    parts = [
        Q(**{key: pks})
        for rows, key in found
        if (pks := list(rows.order_by().values_list("pk", flat=True)))
    ]
    categories = list(Category.objects.filter(name__icontains=term).values_list("pk", flat=True))
    if categories:
        links = Recording.categories.through.objects.filter(category__in=categories)
        parts.append(Q(pk__in=links.values("recording_id")))
    if not parts:
        return None
    condition = parts[0]
    for part in parts[1:]:
        condition |= part
    return _small_or_large(condition, _ids_of(condition))


def _fts_query(terms: list[str]) -> tuple[str, list[str]]:
    """SELECT of recording ids from the trigram index: MATCH for words of 3+ characters
    (a quoted phrase is a substring search), LIKE on the indexed text for shorter ones.

    Every word goes in as an FTS5 string (double quotes, inner ones doubled), so `*`, `^`,
    `:`, parentheses, NEAR, AND, OR and NOT are only characters to find; text_problem()
    has already refused the NUL that would end the string early."""
    long_terms = [t for t in terms if len(t) >= MIN_WORD]
    short_terms = [t for t in terms if len(t) < MIN_WORD]
    where, params = [], []
    if long_terms:
        where.append(f"{TEXT_TABLE} MATCH %s")
        params.append(" AND ".join('"' + t.replace('"', '""') + '"' for t in long_terms))
    for term in short_terms:
        where.append("body LIKE %s ESCAPE '\\'")
        params.append(
            "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        )
    sql = f"SELECT rowid FROM {TEXT_TABLE} WHERE " + " AND ".join(where)  # noqa: S608 (constants)
    return sql, params


@dataclass(frozen=True, slots=True)
class FacetOptions:
    """(value, label) pairs for the filter drop-downs; value is what the filter takes."""

    officers: list[tuple[str, str]]
    devices: list[tuple[str, str]]
    incidents: list[tuple[str, str]]
    categories: list[tuple[str, str]]


def facet_options(
    visible: QuerySet[Recording] | None = None, recent_incidents: int = 500
) -> FacetOptions:
    """Officers, devices and incidents that have recordings in `visible` (all when None),
    so a drop-down never reveals who or what the viewer may not see; every category.
    Incidents are only the latest catalogued (newest id first: the primary key answers
    that without sorting the table)."""
    officers = Officer.objects.order_by("number")
    devices = Device.objects.order_by("serial")
    incidents = Incident.objects.order_by("-pk")
    if visible is not None:
        officers = officers.filter(Exists(visible.filter(officer=OuterRef("pk"))))
        devices = devices.filter(Exists(visible.filter(device=OuterRef("pk"))))
        incidents = incidents.filter(Exists(visible.filter(incident=OuterRef("pk"))))
    return FacetOptions(
        officers=[
            (number, f"{number} {name}") for number, name in officers.values_list("number", "name")
        ],
        devices=[
            (serial, f"{serial} ({model})" if model else serial)
            for serial, model in devices.values_list("serial", "model")
        ],
        incidents=[
            (ref, f"{ref}: {title}" if title else ref)
            for ref, title in incidents.values_list("reference", "title")[:recent_incidents]
        ],
        categories=[(name, name) for name in Category.objects.values_list("name", flat=True)],
    )


def _opaque(condition: Q) -> Case:
    """`condition` as a CASE, so the planner cannot drive the scan from its id sets.

    Driving from a large id set means fetching and sorting every match; we want the
    ordered index (or the officer/device/incident one) to drive, probing the sets.
    """
    return Case(When(condition, then=Value(True)), default=Value(False))


def _place(box: Any, near: Any) -> Place | None:
    if box not in (None, "") and near not in (None, ""):
        raise FilterError("near", "give a box or a radius, not both")
    try:
        if box not in (None, ""):
            return parse_box(str(box))
        if near not in (None, ""):
            return parse_near(str(near))
    except ValueError as exc:
        raise FilterError("box" if box else "near", str(exc)) from None
    return None


def _text(field: str, raw: Any) -> str | None:
    if raw is None:
        return None
    value = str(raw).strip()
    if not value:
        return None
    if len(value) > MAX_TEXT_LENGTH:
        raise FilterError(field, f"longer than {MAX_TEXT_LENGTH} characters")
    if (problem := text_problem(value)) is not None:
        raise FilterError(field, problem)
    return value


def text_problem(value: str) -> str | None:
    """Why `value` cannot be searched for, or None. PostgreSQL refuses NUL in text and
    FTS5 ends a string at one; a lone surrogate cannot be encoded at all. Tabs and line
    breaks (pasted text) are only spaces between words."""
    for char in value:
        if char in "\t\n\r":
            continue
        kind = unicodedata.category(char)
        if kind == "Cc":
            return f"contains a control character (U+{ord(char):04X})"
        if kind == "Cs":
            return f"contains an unpaired surrogate (U+{ord(char):04X}), which is not text"
    return None


def _flag(field: str, raw: Any) -> bool | None:
    if raw is None or isinstance(raw, bool):
        return raw
    value = str(raw).strip().lower()
    if not value:
        return None
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise FilterError(field, f"expected true or false, got {raw!r}")


def _moment(field: str, raw: Any, *, end_of_day: bool) -> datetime | None:
    if raw is None or raw == "":
        return None
    moment: datetime | None
    if isinstance(raw, datetime):
        moment = raw
    elif isinstance(raw, date):
        moment = _day_boundary(raw, end_of_day)
    else:
        text = str(raw).strip()
        if not text:
            return None
        try:
            parsed_date = parse_date(text)
            moment = _day_boundary(parsed_date, end_of_day) if parsed_date else parse_datetime(text)
        except ValueError:  # well-formed but impossible, e.g. 2026-02-30
            moment = None
        if moment is None:
            example = "use e.g. 2026-11-20 or 2026-11-20T14:30"
            raise FilterError(field, f"not a date or date-time: {text!r} ({example})")
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def _day_boundary(day: date, end_of_day: bool) -> datetime:
    """Local midnight starting `day`, or the one ending it (an exclusive upper bound)."""
    if end_of_day:
        day = day + timedelta(days=1)
    return timezone.make_aware(datetime.combine(day, time.min))
