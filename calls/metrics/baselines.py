"""Improvement over a baseline: a month's value against the mean of the months before."""

from __future__ import annotations

from collections.abc import Iterable

from calls.metrics.catalogue import metric
from calls.metrics.ratios import UP, MetricValue, Params
from calls.metrics.values import metric_values
from calls.months import month_bounds, shift_month
from calls.rational import Rational


def baseline_months(year: int, month: int, baseline: str) -> list[tuple[int, int]]:
    """The months a baseline averages: "previous" (last month) or "trailing3" (the three before)."""
    months = {"previous": 1, "trailing3": 3}.get(baseline)
    if months is None:
        raise ValueError(f"Unknown baseline {baseline!r}; use 'previous' or 'trailing3'")
    return [shift_month(year, month, -back) for back in range(1, months + 1)]


def improvement(code: str, current: MetricValue, past: Iterable[Rational | None]) -> MetricValue:
    """The month's value less the mean of the baseline months' values, in the metric's good direction
    (a fall of ASA from 30 s to 25 s is +5), exact like the values. No data this month, or in every
    baseline month, is no data."""
    known = [value for value in past if value is not None]
    if current.value is None or not known:
        return MetricValue(None, current.numerator, current.denominator)
    base = sum(known, Rational(0)) / len(known)
    sign = 1 if metric(code).direction == UP else -1
    return MetricValue((current.value - base) * sign, current.numerator, current.denominator)


def improvement_values(
    code: str,
    *,
    agent_ids: Iterable[int],
    year: int,
    month: int,
    baseline: str,
    params: Params | None = None,
) -> dict[int, MetricValue]:
    """Improvement of a metric per agent in a month over a baseline (see ``improvement``); agents with
    no data are absent."""
    agent_ids = list(agent_ids)
    start, end = month_bounds(year, month)
    current = metric_values(code, agent_ids=agent_ids, start=start, end=end, params=params)
    history = [
        metric_values(code, agent_ids=agent_ids, start=b_start, end=b_end, params=params)
        for b_start, b_end in (
            month_bounds(y, m) for y, m in baseline_months(year, month, baseline)
        )
    ]
    result = {}
    for agent, value in current.items():
        moved = improvement(
            code,
            value,
            (month_values[agent].value for month_values in history if agent in month_values),
        )
        if moved.value is not None:
            result[agent] = moved
    return result
