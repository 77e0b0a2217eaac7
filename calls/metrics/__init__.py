"""The metric catalogue: every KPI of the field, and its formula, here and only here.

Every KPI is a ratio of two sums over the facts — answered ÷ offered, total wait ÷ answered calls,
promoters − detractors ÷ responses — so a formula returns, per agent, a numerator and a denominator, and
any roll-up (a team, a group, a region, a pilot against the rest) adds numerators and denominators:
rates over calls are ratios of counts, never averages of per-agent rates. Each formula answers for many
agents with one set-based query (conditional aggregation grouped by agent), never a query per agent.

HR chooses metrics and their parameters (``MetricDefinition.params``); code is never needed for that.

One module per part, each importing only those above it, every public name re-exported here
(``from calls.metrics import metric_values`` is the way in):

- ``ratios``: ``Ratio`` and ``MetricValue``, the directions and scales;
- ``sql``: the facts of some agents over a period and the grouped conditional aggregates over them
  (``Aggregate``, ``Rows``, the ``= ANY`` array of ids);
- ``definitions``: ``Param`` and ``MetricDefinition``;
- ``formulas``: the per-agent formulas; ``queues``: the per-queue figures and the queue metrics;
- ``catalogue``: ``CATALOGUE``, ``METRICS``, ``METRIC_CHOICES`` and ``metric(code)``;
- ``values``: values over a window, many metrics at once, roll-ups; ``days``: the same day by day;
  ``baselines``: improvement over the months before.
"""

from calls.metrics.baselines import baseline_months, improvement, improvement_values
from calls.metrics.catalogue import CATALOGUE, METRIC_CHOICES, METRICS, metric
from calls.metrics.days import metric_ratios_by_day
from calls.metrics.definitions import MetricDefinition, Param
from calls.metrics.formulas import (
    ANSWERED,
    CUSTOMER_ENDED,
    HANDLING_KNOWN,
    INBOUND,
    TALK_KNOWN,
    UNANSWERED,
    WAIT_KNOWN,
    effective_call,
)
from calls.metrics.queues import OFFERED, REFUSED, QueueFigures, queue_figures
from calls.metrics.ratios import DOWN, ONE, PERCENT, UP, Facts, Formula, MetricValue, Ratio
from calls.metrics.sql import Aggregate, Rows
from calls.metrics.values import (
    Request,
    metric_ratios,
    metric_ratios_many,
    metric_values,
    metric_values_many,
    ratio_values,
    rollup,
    shown_ratio,
)

__all__ = [
    "ANSWERED",
    "CATALOGUE",
    "CUSTOMER_ENDED",
    "DOWN",
    "HANDLING_KNOWN",
    "INBOUND",
    "METRICS",
    "METRIC_CHOICES",
    "OFFERED",
    "ONE",
    "PERCENT",
    "REFUSED",
    "TALK_KNOWN",
    "UNANSWERED",
    "UP",
    "WAIT_KNOWN",
    "Aggregate",
    "Facts",
    "Formula",
    "MetricDefinition",
    "MetricValue",
    "Param",
    "QueueFigures",
    "Ratio",
    "Request",
    "Rows",
    "baseline_months",
    "effective_call",
    "improvement",
    "improvement_values",
    "metric",
    "metric_ratios",
    "metric_ratios_by_day",
    "metric_ratios_many",
    "metric_values",
    "metric_values_many",
    "queue_figures",
    "ratio_values",
    "rollup",
    "shown_ratio",
]
