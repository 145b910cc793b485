"""The retention rules as pure functions, tested exhaustively with hypothesis."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from overt.retention.rules import (
    DELETE,
    KEEP,
    REVIEW,
    TRIGGER_KINDS,
    Facts,
    HoldFact,
    Period,
    Rule,
    RuleError,
    effective_retention,
)

UTC_TIMES = st.datetimes(
    min_value=datetime(2015, 1, 1), max_value=datetime(2035, 12, 31), timezones=st.just(UTC)
)
PERIODS = st.builds(
    Period,
    years=st.integers(0, 10),
    months=st.integers(0, 30),
    days=st.integers(0, 4000),
).filter(lambda p: True)
STARTS = st.sampled_from(["recorded", *TRIGGER_KINDS])
RULES = st.builds(
    Rule,
    name=st.sampled_from(["A", "B", "C", "D"]),
    period=PERIODS,
    starts_from=STARTS,
    at_expiry=st.sampled_from([DELETE, REVIEW]),
)
DEFAULT = Rule("uncategorised default", Period(days=31), "recorded", REVIEW)


def periods() -> st.SearchStrategy[Period]:
    return (
        st.tuples(st.integers(0, 10), st.integers(0, 30), st.integers(0, 4000))
        .filter(lambda t: sum(t) > 0)
        .map(lambda t: Period(*t))
    )


def rules() -> st.SearchStrategy[Rule]:
    return st.builds(
        Rule,
        name=st.sampled_from(["A", "B", "C", "D"]),
        period=periods(),
        starts_from=STARTS,
        at_expiry=st.sampled_from([DELETE, REVIEW]),
    )


@st.composite
def facts(draw: st.DrawFn) -> Facts:
    recorded = draw(UTC_TIMES)
    cats = draw(
        st.lists(
            st.tuples(st.sampled_from(["w", "x", "y", "z"]), st.one_of(st.none(), rules())),
            max_size=4,
            unique_by=lambda c: c[0],
        )
    )
    triggers = draw(st.dictionaries(st.sampled_from(list(TRIGGER_KINDS)), UTC_TIMES, max_size=3))
    holds = draw(
        st.lists(
            st.builds(
                HoldFact,
                kind=st.sampled_from(["legal", "case", "complaint", "post-incident"]),
                released_at=st.one_of(st.none(), UTC_TIMES),
            ),
            max_size=3,
        )
    )
    keep = draw(st.one_of(st.none(), UTC_TIMES))
    return Facts(recorded, tuple(cats), triggers, tuple(holds), keep)


def _expiries(f: Facts, as_of: datetime) -> list[datetime | None]:
    """Each rule's own end, computed the plain way (the oracle for the "longest wins")."""
    out: list[datetime | None] = []
    rules_in_force = [r for _, r in f.categories] if f.categories else [DEFAULT]
    for rule in rules_in_force:
        if rule is None:
            out.append(None)
            continue
        if rule.starts_from == "recorded":
            start = f.recorded_at
        else:
            start = f.triggers.get(rule.starts_from)
            if start is None or start > as_of:
                out.append(None)
                continue
        out.append(rule.period.after(start))
    if f.keep_until is not None:
        out.append(f.keep_until)
    return out


# --- periods ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "period"),
    [
        ("31d", Period(days=31)),
        ("6y", Period(years=6)),
        ("6m", Period(months=6)),
        ("2w", Period(days=14)),
        ("1y6m", Period(years=1, months=6)),
        ("1Y 6M 3D", Period(years=1, months=6, days=3)),
    ],
)
def test_period_parse(text: str, period: Period) -> None:
    assert Period.parse(text) == period


@pytest.mark.parametrize("text", ["", "31", "d", "6x", "-3d", "0d", "201y", "6m1y"])
def test_period_parse_refuses(text: str) -> None:
    with pytest.raises(RuleError):
        Period.parse(text)


def test_calendar_months_clamp_to_the_month_end() -> None:
    jan31 = datetime(2024, 1, 31, 9, 30, tzinfo=UTC)
    assert Period(months=1).after(jan31) == datetime(2024, 2, 29, 9, 30, tzinfo=UTC)
    assert Period(months=1).after(jan31.replace(year=2025)) == datetime(
        2025, 2, 28, 9, 30, tzinfo=UTC
    )
    leap = datetime(2024, 2, 29, tzinfo=UTC)
    assert Period(years=6).after(leap) == datetime(2030, 2, 28, tzinfo=UTC)
    assert Period(days=31).after(datetime(2026, 11, 20, tzinfo=UTC)) == datetime(
        2026, 12, 21, tzinfo=UTC
    )


@given(start=UTC_TIMES, period=periods())
def test_period_is_never_shorter_than_its_days(start: datetime, period: Period) -> None:
    end = period.after(start)
    assert end > start
    # A calendar month is 28 to 31 days; a year 365 or 366.
    low = period.days + 28 * period.months + 365 * period.years
    high = period.days + 31 * period.months + 366 * period.years
    assert timedelta(days=low) <= end - start <= timedelta(days=high)


@given(a=UTC_TIMES, b=UTC_TIMES, period=periods())
def test_period_is_monotonic(a: datetime, b: datetime, period: Period) -> None:
    if a <= b:
        assert period.after(a) <= period.after(b)


@given(period=periods())
def test_period_text_round_trips(period: Period) -> None:
    assert Period.parse(str(period)) == period


# --- effective retention -------------------------------------------------------------------


@given(f=facts(), as_of=UTC_TIMES)
def test_longest_rule_wins(f: Facts, as_of: datetime) -> None:
    ret = effective_retention(f, as_of=as_of, default=DEFAULT)
    ends = _expiries(f, as_of)
    if any(e is None for e in ends):
        assert ret.due_at is None and ret.at_expiry == KEEP
    else:
        assert ret.due_at == max(ends)  # type: ignore[type-var]
        assert ret.at_expiry in (DELETE, REVIEW)


@given(f=facts(), as_of=UTC_TIMES)
def test_nothing_held_is_ever_due(f: Facts, as_of: datetime) -> None:
    ret = effective_retention(f, as_of=as_of, default=DEFAULT)
    active = [h for h in f.holds if h.released_at is None or h.released_at > as_of]
    assert ret.held == bool(active)
    if active:
        assert not ret.due(as_of)
        assert ret.action(as_of) == "hold"


@given(f=facts(), as_of=UTC_TIMES, extra=st.tuples(st.just("new"), st.one_of(st.none(), rules())))
def test_adding_a_category_never_shortens_retention(
    f: Facts, as_of: datetime, extra: tuple[str, Rule | None]
) -> None:
    assume(f.categories)  # from none to one is the default's business, tested below
    before = effective_retention(f, as_of=as_of, default=DEFAULT)
    more = Facts(f.recorded_at, (*f.categories, extra), f.triggers, f.holds, f.keep_until)
    after = effective_retention(more, as_of=as_of, default=DEFAULT)
    if before.due_at is None:
        assert after.due_at is None
    elif after.due_at is not None:
        assert after.due_at >= before.due_at


@given(f=facts(), as_of=UTC_TIMES)
def test_nothing_is_due_before_its_date(f: Facts, as_of: datetime) -> None:
    ret = effective_retention(f, as_of=as_of, default=DEFAULT)
    if ret.due(as_of):
        assert ret.due_at is not None and ret.due_at <= as_of
        assert ret.due_at > f.recorded_at  # every period is at least a day


@given(f=facts(), as_of=UTC_TIMES)
def test_a_trigger_in_the_future_has_not_happened(f: Facts, as_of: datetime) -> None:
    later = {k: max(v, as_of + timedelta(seconds=1)) for k, v in f.triggers.items()}
    none = Facts(f.recorded_at, f.categories, {}, f.holds, f.keep_until)
    future = Facts(f.recorded_at, f.categories, later, f.holds, f.keep_until)
    assert effective_retention(future, as_of=as_of, default=DEFAULT) == effective_retention(
        none, as_of=as_of, default=DEFAULT
    )


@given(f=facts(), as_of=UTC_TIMES)
def test_uncategorised_footage_gets_the_default(f: Facts, as_of: datetime) -> None:
    bare = Facts(f.recorded_at, (), f.triggers, (), None)
    ret = effective_retention(bare, as_of=as_of, default=DEFAULT)
    assert ret.uncategorised
    assert ret.due_at == DEFAULT.period.after(f.recorded_at)
    assert ret.at_expiry == REVIEW


@given(f=facts(), as_of=UTC_TIMES, keep=UTC_TIMES)
def test_a_review_decision_only_lengthens(f: Facts, as_of: datetime, keep: datetime) -> None:
    before = effective_retention(f, as_of=as_of, default=DEFAULT)
    kept = Facts(f.recorded_at, f.categories, f.triggers, f.holds, keep)
    after = effective_retention(kept, as_of=as_of, default=DEFAULT)
    if before.due_at is None:
        assert after.due_at is None
    else:
        assert after.due_at is not None and after.due_at >= min(before.due_at, keep)
        assert after.due_at >= keep


def test_review_beats_delete_on_the_same_date() -> None:
    recorded = datetime(2026, 1, 1, tzinfo=UTC)
    delete = Rule("Delete", Period(days=365), "recorded", DELETE)
    review = Rule("Review", Period(years=1), "recorded", REVIEW)
    for order in [(("a", delete), ("b", review)), (("a", review), ("b", delete))]:
        ret = effective_retention(Facts(recorded, order), as_of=recorded, default=DEFAULT)
        assert ret.at_expiry == REVIEW and ret.policy == "Review"


def test_a_category_without_a_policy_keeps_footage() -> None:
    recorded = datetime(2020, 1, 1, tzinfo=UTC)
    short = Rule("Non-evidential", Period(days=31), "recorded", DELETE)
    ret = effective_retention(
        Facts(recorded, (("Firearms", None), ("Non-evidential", short))),
        as_of=datetime(2030, 1, 1, tzinfo=UTC),
        default=DEFAULT,
    )
    assert ret.due_at is None and "no retention policy" in ret.explain()


def test_trigger_policy_waits_for_its_event_then_counts_from_it() -> None:
    recorded = datetime(2025, 3, 1, tzinfo=UTC)
    case = Rule("Case closed", Period(days=90), "case-closed", DELETE)
    as_of = datetime(2026, 1, 1, tzinfo=UTC)
    waiting = effective_retention(Facts(recorded, (("Case", case),)), as_of=as_of, default=DEFAULT)
    assert waiting.due_at is None and waiting.waiting_for == ("case-closed",)
    assert "the case was closed" in waiting.explain()
    closed = datetime(2025, 6, 1, tzinfo=UTC)
    ret = effective_retention(
        Facts(recorded, (("Case", case),), {"case-closed": closed}), as_of=as_of, default=DEFAULT
    )
    assert ret.due_at == closed + timedelta(days=90)
    assert ret.due(as_of)


def test_a_released_hold_no_longer_counts_but_a_later_release_does() -> None:
    recorded = datetime(2025, 1, 1, tzinfo=UTC)
    short = Rule("Non-evidential", Period(days=31), "recorded", DELETE)
    released = datetime(2025, 6, 1, tzinfo=UTC)
    f = Facts(recorded, (("N", short),), {}, (HoldFact("legal", released),))
    assert effective_retention(f, as_of=released + timedelta(days=1), default=DEFAULT).due(
        released + timedelta(days=1)
    )
    # As of a date before the release, the hold was in force.
    assert effective_retention(f, as_of=released - timedelta(days=1), default=DEFAULT).held


def test_bad_rules_are_refused() -> None:
    with pytest.raises(RuleError):
        Rule("x", Period(days=1), "case-opened", DELETE)
    with pytest.raises(RuleError):
        Rule("x", Period(days=1), "recorded", "archive")
    with pytest.raises(RuleError):
        Period()


@settings(max_examples=50)
@given(f=facts(), as_of=UTC_TIMES)
def test_explanations_are_plain_words(f: Facts, as_of: datetime) -> None:
    text = effective_retention(f, as_of=as_of, default=DEFAULT).explain()
    assert text and "None" not in text
