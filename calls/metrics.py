"""KPI formulas over the facts: each formula lives here and only here.

A formula answers for many agents at once with one set-based query (conditional aggregation grouped by
agent): never a query per agent. Rates are ratios of counts, never averages of per-agent rates, so the
counts are returned with the value and a statement can say "answered 1,204 of 1,251 offered".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _

from calls.models import Call

VALUE_PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class MetricValue:
    """A metric's value for one agent and period; ``value`` is None when there is no data."""

    value: Decimal | None
    numerator: int
    denominator: int


@dataclass(frozen=True)
class MetricDefinition:
    code: str
    name: str
    unit: str
    direction: str  # "up": higher is better; "down": lower is better
    compute: Callable[..., dict[int, MetricValue]]


def _ratio_percent(numerator: int, denominator: int) -> MetricValue:
    if denominator == 0:
        return MetricValue(value=None, numerator=0, denominator=0)
    value = (Decimal(numerator) * 100 / Decimal(denominator)).quantize(VALUE_PLACES, ROUND_HALF_UP)
    return MetricValue(value=value, numerator=numerator, denominator=denominator)


def answer_rate(
    *, agent_ids: Iterable[int], start: dt.datetime, end: dt.datetime
) -> dict[int, MetricValue]:
    """Answered ÷ offered (inbound) or connected ÷ dialled (outbound), in %, per agent.

    Agents without a single offered call are absent from the result: "no data", which the plan's
    no-data rule decides about, never a silent 100%.
    """
    rows = (
        Call.objects.filter(agent_id__in=list(agent_ids), started_at__gte=start, started_at__lt=end)
        .values("agent_id")
        .annotate(
            offered=Count("id"),
            answered=Count("id", filter=Q(answered_at__isnull=False)),
        )
    )
    return {row["agent_id"]: _ratio_percent(row["answered"], row["offered"]) for row in rows}


METRICS: dict[str, MetricDefinition] = {
    "answer_rate": MetricDefinition(
        code="answer_rate",
        name=_("Answer rate"),
        unit="%",
        direction="up",
        compute=answer_rate,
    ),
}
METRIC_CHOICES = [(code, definition.name) for code, definition in METRICS.items()]


def metric_values(
    code: str, *, agent_ids: Iterable[int], start: dt.datetime, end: dt.datetime
) -> dict[int, MetricValue]:
    """Values of metric ``code`` for these agents over ``[start, end)``."""
    try:
        definition = METRICS[code]
    except KeyError:
        raise ValueError(f"Unknown metric {code!r}; known: {', '.join(METRICS)}") from None
    return definition.compute(agent_ids=agent_ids, start=start, end=end)
