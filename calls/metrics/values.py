"""Values from the formulas: per agent over a window, many metrics at once, and roll-ups of groups."""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from calls.metrics.catalogue import metric
from calls.metrics.definitions import MetricDefinition
from calls.metrics.ratios import Facts, MetricValue, Params, Ratio
from calls.metrics.sql import Aggregate, _grouped_many
from calls.rational import Rational


def _exact(definition: MetricDefinition, ratio: Ratio) -> Rational:
    """numerator × scale ÷ denominator, exactly: the sums are exact Decimals, divided as integers."""
    n, d = ratio.numerator.as_integer_ratio()
    m, e = ratio.denominator.as_integer_ratio()
    scale, per_unit = definition.exact_scale
    return Rational(n * e * scale, d * m * per_unit)


def _value(definition: MetricDefinition, ratio: Ratio | None) -> MetricValue:
    if ratio is None or ratio.denominator == 0:
        return MetricValue(None, Decimal(0), Decimal(0))
    numerator = ratio.numerator
    if definition.per_unit != 1:
        numerator = numerator / definition.per_unit  # as shown (hours): the value keeps the seconds
    return MetricValue(_exact(definition, ratio), numerator, ratio.denominator)


def ratio_values(code: str, ratios: Mapping[Any, Ratio]) -> dict[Any, Rational]:
    """Each ratio's exact value, by the same keys (an agent's days): what ``rollup(code, [ratio]).value``
    gives, for many ratios at once and without the counts; a ratio over 0 is absent (no data)."""
    definition = metric(code)
    return {key: _exact(definition, ratio) for key, ratio in ratios.items() if ratio.denominator}


def shown_ratio(code: str, numerator: Decimal, denominator: Decimal) -> Ratio:
    """The Ratio of sums as statements show and keep them (time to convert in hours), in the units
    ``rollup`` adds: for roll-ups of stored lines (the comparison of plans)."""
    return Ratio(numerator * metric(code).per_unit, denominator)


def metric_ratios(
    code: str,
    *,
    agent_ids: Iterable[int],
    start: dt.datetime,
    end: dt.datetime,
    params: Params | None = None,
) -> dict[int, Ratio]:
    definition = metric(code)
    return definition.formula(
        list(agent_ids), start, end, definition.param_values(params, known_queue=False)
    )


def metric_values(
    code: str,
    *,
    agent_ids: Iterable[int],
    start: dt.datetime,
    end: dt.datetime,
    params: Params | None = None,
) -> dict[int, MetricValue]:
    """Values of metric ``code`` per agent over ``[start, end)``. An agent with no data is absent:
    "no data", which the plan's no-data rule decides about, never a silent 100%."""
    definition = metric(code)
    ratios = metric_ratios(code, agent_ids=agent_ids, start=start, end=end, params=params)
    return {agent: _value(definition, ratio) for agent, ratio in ratios.items()}


Request = tuple[Hashable, str, Params | None]  # (the caller's key, metric code, parameters)
_Wanted = tuple[
    str, tuple[tuple[str, int | str], ...]
]  # (metric code, parameters with defaults, sorted)


def aggregate_of(code: str) -> Aggregate:
    """The aggregate of a metric computed by one (grouped with the others over the same facts)."""
    aggregate = metric(code).aggregate
    assert aggregate is not None, code
    return aggregate


def _requests_checked(
    requests: Sequence[Request],
) -> tuple[dict[Hashable, _Wanted], dict[_Wanted, dict[str, int | str]]]:
    """Each request's key → what it wants (code and parameters, defaults filled in), and each distinct
    want → its parameters; unknown codes, bad parameters and a key given twice refused."""
    keys: dict[Hashable, _Wanted] = {}
    params: dict[_Wanted, dict[str, int | str]] = {}
    for key, code, given in requests:
        if key in keys:
            raise ValueError(f"Metric request key {key!r} given twice")
        values = metric(code).param_values(given, known_queue=False)
        wanted = (code, tuple(sorted(values.items())))
        keys[key] = wanted
        params[wanted] = values
    return keys, params


def metric_ratios_many(
    requests: Sequence[Request],
    *,
    agent_ids: Iterable[int],
    start: dt.datetime,
    end: dt.datetime,
) -> dict[Hashable, dict[int, Ratio]]:
    """``metric_ratios`` for many metrics at once, by the requests' keys. The metrics declared as an
    aggregate over the same table share one grouped query (all the call-table rates and means, the
    survey scores, …); the others run their own formula. A metric asked for twice with the same
    parameters (the defaults filled in) is computed once. Codes and parameters are checked first."""
    agent_ids = list(agent_ids)
    keys, params = _requests_checked(requests)
    if not agent_ids:
        return {key: {} for key in keys}
    ratios: dict[_Wanted, dict[int, Ratio]] = {}
    by_facts: dict[Facts, list[_Wanted]] = {}
    for wanted, values in params.items():
        definition = metric(wanted[0])
        if definition.aggregate is None:
            ratios[wanted] = definition.formula(agent_ids, start, end, values)
        else:
            by_facts.setdefault(definition.aggregate.facts, []).append(wanted)
    for facts, group in by_facts.items():
        terms = [aggregate_of(code).terms(params[(code, p)]) for code, p in group]
        ratios.update(zip(group, _grouped_many(facts(agent_ids, start, end), terms), strict=True))
    return {key: dict(ratios[wanted]) for key, wanted in keys.items()}  # a dict of its own per key


def metric_values_many(
    requests: Sequence[Request],
    *,
    agent_ids: Iterable[int],
    start: dt.datetime,
    end: dt.datetime,
) -> dict[Hashable, dict[int, MetricValue]]:
    """``metric_values`` for many metrics at once (see ``metric_ratios_many``): for each request's key,
    exactly what ``metric_values(code, …, params=params)`` gives, with one query per table for the
    metrics that are one aggregate over it. Agents with no data are absent."""
    codes = {key: code for key, code, _ in requests}
    ratios = metric_ratios_many(requests, agent_ids=agent_ids, start=start, end=end)
    return {
        key: {agent: _value(metric(codes[key]), ratio) for agent, ratio in by_agent.items()}
        for key, by_agent in ratios.items()
    }


def rollup(code: str, ratios: Iterable[Ratio]) -> MetricValue:
    """One value for a group of agents (a team, a pilot group): sums of numerators and denominators.
    A shared metric (a queue's value given to each agent) is the queue's: the ratio over the widest
    window among the agents' (the same ratio for all when their windows are the same)."""
    ratios = list(ratios)
    if len(ratios) == 1:  # one agent, one day: a dashboard asks thousands of these
        return _value(metric(code), ratios[0])
    if ratios and metric(code).shared:
        return _value(metric(code), max(ratios, key=lambda r: r.denominator))
    total = Ratio(
        sum((r.numerator for r in ratios), Decimal(0)),
        sum((r.denominator for r in ratios), Decimal(0)),
    )
    return _value(metric(code), total)
