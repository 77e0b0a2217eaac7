"""What a formula gives and a metric is worth: ``Ratio`` (the sums), ``MetricValue`` (the exact value
and its sums), the two directions and the scales."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, NamedTuple

from django.db.models import QuerySet

from calls.rational import Rational

UP, DOWN = "up", "down"
PERCENT, ONE = Decimal(100), Decimal(1)


# Ratio and MetricValue are tuples: a month's computation makes one of each per agent and metric,
# and a frozen dataclass costs five times as much to build.
class Ratio(NamedTuple):
    """The sums a formula gives for one agent (or day, or group): exact Decimals, in the units the
    facts are counted in (``MetricDefinition.per_unit``)."""

    numerator: Decimal
    denominator: Decimal


class MetricValue(NamedTuple):
    """A metric's value for one agent (or team) and period, and the sums behind it.

    ``value`` is exact — numerator × scale ÷ denominator as a ``calls.rational.Rational`` (a fraction;
    equal to the ``Fraction`` of the same value), never rounded — or None when there is no data; the
    curve, the gates and every comparison read it as it is, and only what is shown or stored for
    display is rounded from it (``calls.numbers``). ``numerator`` and ``denominator`` are the sums as
    a statement shows them ("1,204 of 1,251")."""

    value: Rational | None
    numerator: Decimal
    denominator: Decimal


# A metric's parameters as ``Definition.param_values`` gives them: a whole number, or a queue's code
# (the kind of each is in the metric's ``Param``).
Params = Mapping[str, Any]
Formula = Callable[[list[int], dt.datetime, dt.datetime, Params], dict[int, Ratio]]
Facts = Callable[[list[int], dt.datetime, dt.datetime], QuerySet]
