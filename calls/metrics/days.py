"""Metrics day by day (days of the center's calendar): the trends of dashboards."""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Iterable, Sequence

from django.db.models import Case, IntegerField, Value, When

from calls.metrics.catalogue import metric
from calls.metrics.ratios import Facts, Ratio
from calls.metrics.sql import _WHEN, _columns, _decimal
from calls.metrics.values import Request, _requests_checked, _Wanted, aggregate_of
from calls.months import center_tz, local_day


def _days(start: dt.datetime, end: dt.datetime) -> list[tuple[dt.date, dt.datetime, dt.datetime]]:
    """The days of the center's calendar that ``[start, end)`` touches, each with its part of it."""
    tz = center_tz()
    days: list[tuple[dt.date, dt.datetime, dt.datetime]] = []
    day = local_day(start)
    while True:
        day_start = max(start, dt.datetime.combine(day, dt.time(), tz))
        if day_start >= end:
            return days
        following = day + dt.timedelta(days=1)
        days.append((day, day_start, min(end, dt.datetime.combine(following, dt.time(), tz))))
        day = following


def metric_ratios_by_day(
    requests: Sequence[Request],
    *,
    agent_ids: Iterable[int],
    start: dt.datetime,
    end: dt.datetime,
) -> dict[Hashable, dict[int, dict[dt.date, Ratio]]]:
    """``metric_ratios_many`` day by day (days of the center's calendar) over ``[start, end)``: per
    request's key, per agent, per day with data; a day without data is absent, never a zero. Days add
    up as agents do — every formula is a ratio of sums — so ``rollup`` makes a week of days, or a team
    of agents on one day. The metrics declared as an aggregate over one table share one query grouped
    by agent and day, whatever the number of agents and days (trends of a 500-agent team); the others
    run their formula once per day, for all the agents at once."""
    agent_ids = list(agent_ids)
    keys, params = _requests_checked(requests)
    if not agent_ids:
        return {key: {} for key in keys}
    ratios: dict[_Wanted, dict[int, dict[dt.date, Ratio]]] = {}
    by_facts: dict[Facts, list[_Wanted]] = {}
    for wanted, values in params.items():
        definition = metric(wanted[0])
        if definition.aggregate is not None:
            by_facts.setdefault(definition.aggregate.facts, []).append(wanted)
            continue
        per_agent: dict[int, dict[dt.date, Ratio]] = {}
        for day, day_start, day_end in _days(start, end):
            for agent, ratio in definition.formula(agent_ids, day_start, day_end, values).items():
                per_agent.setdefault(agent, {})[day] = ratio
        ratios[wanted] = per_agent
    days = _days(start, end)
    for facts, group in by_facts.items():
        queryset = facts(agent_ids, start, end)
        # Each fact's day by the instants where the center's days end, computed here (zoneinfo, as
        # month boundaries are): a call at 00:30 in Shanghai is that day's though the day before in
        # UTC, and a day of 23 or 25 hours is right. Cheaper for the database than converting every
        # row's time to the local date, and the same on PostgreSQL and SQLite.
        when = _WHEN[queryset.model]
        day_index = Case(
            *[
                When(**{f"{when}__lt": day_end}, then=Value(i))
                for i, (*_, day_end) in enumerate(days)
            ],
            output_field=IntegerField(),
        )
        annotations, pairs = _columns(
            [aggregate_of(code).terms(params[(code, p)]) for code, p in group]
        )
        rows = (
            queryset.annotate(day=day_index)
            .values("agent_id", "day")
            .annotate(**annotations)
            .values_list("agent_id", "day", *annotations)
        )
        found: list[dict[int, dict[dt.date, Ratio]]] = [{} for _ in group]
        position = {name: i for i, name in enumerate(annotations, start=2)}
        columns = [
            (per_agent, position[num], position[den])
            for per_agent, (num, den) in zip(found, pairs, strict=True)
        ]
        dates = [date for date, *_ in days]
        # Thousands of rows (500 agents × 14 days): read as tuples, into as few objects as will do.
        for row in rows.iterator(chunk_size=2000):
            agent, date = row[0], dates[row[1]]
            for per_agent, num, den in columns:
                if row[den]:
                    per_agent.setdefault(agent, {})[date] = Ratio(
                        _decimal(row[num]), _decimal(row[den])
                    )
        ratios.update(zip(group, found, strict=True))
    return {key: dict(ratios[wanted]) for key, wanted in keys.items()}  # a dict of its own per key
