"""How a metric is described: its parameters (``Param``) and its definition (``MetricDefinition``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property

from django.db.models import Q
from django.utils.translation import get_language

from calls.metrics.ratios import Formula
from calls.metrics.sql import Aggregate, Rows, _calls
from calls.models import Queue


@dataclass(frozen=True)
class Param:
    """A parameter HR sets on a plan metric: a whole number in a range (``kind="number"``), or the code
    of a queue (``kind="queue"``: empty for every queue; once HR has listed the queues, one of them)."""

    code: str
    name_en: str
    name_zh: str
    default: int | str
    minimum: int | None
    maximum: int | None
    unit: str
    kind: str = "number"


@dataclass(frozen=True)
class MetricDefinition:
    code: str
    name_en: str
    name_zh: str
    unit: str  # "%", "s", "h", "score", "points"
    direction: str  # UP: higher is better; DOWN: lower is better
    facts: tuple[str, ...]
    formula: Formula
    scale: Decimal  # value = numerator × scale ÷ denominator; a whole number (100 for a %)
    minimum: Decimal  # the range a value (and a gate's value) can take
    maximum: Decimal | None
    definition_en: str
    params: tuple[Param, ...] = field(default=())
    # The value is a queue's, the same for every agent it is given to: a roll-up (a team) keeps it
    # rather than adding the agents' counts, which would count the queue's calls once per agent.
    shared: bool = False
    # The numerator as counted per unit it is shown in: time to convert sums seconds and shows hours
    # (3,600 a unit). Counted in whole seconds, the value stays exact: an hour's thirds have no end
    # in decimals.
    per_unit: int = 1

    @cached_property
    def exact_scale(self) -> tuple[int, int]:
        """(scale, per_unit) as integers: a value is numerator × scale ÷ (denominator × per_unit)."""
        return int(self.scale), self.per_unit

    @property
    def aggregate(self) -> Aggregate | None:
        """The formula as a declared aggregate, or None when it needs more than one grouped query."""
        return self.formula if isinstance(self.formula, Aggregate) else None

    def calls_behind(self, given: Mapping[str, int | str] | None = None) -> tuple[Q, bool]:
        """Which of an agent's calls of a period a value of this metric rests on, for a person to look
        through them: the condition on the calls, and whether they are exactly the calls it counts.

        A count of calls (answer rate, ASA, AHT, complaint rate…) counts, in its denominator, the
        calls its own formula's condition keeps: that condition, read from the formula so the two never
        differ, and True (an agent's line "193 of 200" lists those 200 calls). Any other metric
        (surveys, sales, quality checks, logged-in time, repeat contacts, a queue's figures) is not
        counted call by call: the calls of its queue when its parameters name one, else every call,
        and False."""
        params = self.param_values(given, known_queue=False)
        aggregate = self.aggregate
        if aggregate is not None and aggregate.facts is _calls:
            denominator = aggregate.terms(params)[1]
            if isinstance(denominator, Rows):  # COUNT(*) FILTER (WHERE condition)
                return denominator.filter or Q(), True
        queue = params.get("queue")
        return (Q(queue=queue) if queue else Q()), False

    @property
    def name(self) -> str:
        return self.name_zh if (get_language() or "").startswith("zh") else self.name_en

    def param_values(
        self, given: Mapping[str, int | str] | None = None, *, known_queue: bool = True
    ) -> dict[str, int | str]:
        """The parameters with the field's defaults filled in; unknown or out-of-range ones refused.
        A queue must be one HR has listed (when HR has listed any): checked when a plan or a rule is
        saved; ``known_queue=False`` skips that look-up when a metric is computed (a queue that has
        gone has no calls: no data)."""
        given = dict(given or {})
        unknown = set(given) - {param.code for param in self.params}
        if unknown:
            raise ValueError(f"{self.code} has no parameter {', '.join(sorted(unknown))}")
        values: dict[str, int | str] = {}
        for param in self.params:
            value = given.get(param.code, param.default)
            if param.kind == "queue":
                values[param.code] = _queue_code(self.code, value, known_queue)
                continue
            assert param.minimum is not None and param.maximum is not None  # a number's range
            if (
                isinstance(value, bool)
                or not isinstance(value, int)
                or not param.minimum <= value <= param.maximum
            ):
                raise ValueError(
                    f"{self.code}: {param.code} must be a whole number from {param.minimum} "
                    f"to {param.maximum} {param.unit}, got {value!r}"
                )
            values[param.code] = value
        return values


def _queue_code(metric_code: str, value, known: bool) -> str:
    if not isinstance(value, str) or len(value.strip()) > 100:
        raise ValueError(
            f"{metric_code}: queue must be a queue's code (at most 100 characters), got {value!r}"
        )
    value = value.strip()
    if known and value and Queue.objects.exists() and not Queue.objects.filter(code=value).exists():
        raise ValueError(f"{metric_code}: no queue has the code {value!r}")
    return value
