"""The rules a plan version must satisfy, in one place, for the admin and the API alike.

Each function takes plain data (built from admin forms or API payloads) and returns the problems found,
each naming where it is ("metric 2 · target") and what is wrong, in words HR can act on. An empty list
means valid. The admin calls the section functions from each inline formset's ``clean``; the API calls
``version_problems`` on the whole payload; both therefore refuse exactly the same plans.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import pairwise

from django.utils.translation import gettext as _

from calls.metrics import DOWN, METRICS

HUNDRED = Decimal(100)


def _n(value: Decimal | None) -> str:
    """A number as people write it: 90, 4.5, 0.25 (no trailing zeros, no exponent)."""
    if value is None:
        return "—"
    text = f"{Decimal(value):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


@dataclass(frozen=True)
class Problem:
    section: str  # "version", "metrics", "tiers", "gates"
    index: int | None  # row within the section (0-based), or None for the section as a whole
    field: str | None
    message: str

    def __str__(self) -> str:
        where = self.section if self.index is None else f"{self.section} {self.index + 1}"
        return f"{where}{' · ' + self.field if self.field else ''}: {self.message}"


@dataclass
class MetricSpec:
    metric: str
    weight: Decimal
    threshold: Decimal
    target: Decimal
    threshold_payout: Decimal = Decimal(50)
    excellence: Decimal | None = None
    excellence_payout: Decimal | None = None
    scope: str = "agent"
    measure: str = "value"
    baseline: str = ""
    no_data: str = "zero"
    params: dict = field(default_factory=dict)


@dataclass
class TierSpec:
    from_score: Decimal
    rate: Decimal
    kicker: Decimal = Decimal(0)


@dataclass
class GateSpec:
    metric: str
    comparison: str
    value: Decimal
    effect: str
    factor: Decimal | None = None
    score_cap: Decimal | None = None
    scope: str = "agent"
    params: dict = field(default_factory=dict)


@dataclass
class VersionSpec:
    effective_from: dt.date
    effective_to: dt.date | None
    target_bonus_kind: str
    target_bonus: Decimal | None
    target_bonus_percent: Decimal | None
    payout_cap_kind: str
    payout_cap: Decimal | None
    metrics: list[MetricSpec] = field(default_factory=list)
    tiers: list[TierSpec] = field(default_factory=list)
    gates: list[GateSpec] = field(default_factory=list)


def metric_direction(metric: str, measure: str) -> str:
    """Improvement is always "higher is better": it is measured in the metric's good direction."""
    return "up" if measure == "improvement" else METRICS[metric].direction


def header_problems(spec: VersionSpec) -> list[Problem]:
    problems = []

    def add(field_name: str, message: str) -> None:
        problems.append(Problem("version", None, field_name, message))

    if spec.effective_to is not None and spec.effective_to < spec.effective_from:
        add("effective_to", _("ends before it starts (%(start)s)") % {"start": spec.effective_from})
    if spec.target_bonus_kind == "fixed":
        if spec.target_bonus is None or spec.target_bonus <= 0:
            add("target_bonus", _("a fixed target bonus needs an amount above 0"))
    elif spec.target_bonus_kind == "percent":
        if spec.target_bonus_percent is None or not 0 < spec.target_bonus_percent <= 1000:
            add(
                "target_bonus_percent",
                _("a target bonus as % of base pay needs a % above 0 and at most 1000"),
            )
    if spec.payout_cap_kind == "percent":
        if spec.payout_cap is None or spec.payout_cap < HUNDRED:
            add("payout_cap", _("a cap in % of the target bonus must be at least 100%"))
    elif spec.payout_cap_kind == "amount":
        if spec.payout_cap is None:
            add("payout_cap", _("a cap amount is needed"))
        elif (
            spec.target_bonus_kind == "fixed"
            and spec.target_bonus
            and spec.payout_cap < spec.target_bonus
        ):
            add(
                "payout_cap",
                _(
                    "the cap (%(cap)s) is below the target bonus (%(bonus)s): caps are at least 100%%"
                )
                % {"cap": _n(spec.payout_cap), "bonus": _n(spec.target_bonus)},
            )
    elif spec.payout_cap is not None:
        add("payout_cap", _("there is a cap value but the cap is set to 'no cap'"))
    return problems


def metrics_problems(metrics: Sequence[MetricSpec]) -> list[Problem]:
    problems = []
    if not metrics:
        return [Problem("metrics", None, None, _("a plan needs at least one metric"))]
    total = sum((m.weight for m in metrics), Decimal(0))
    if total != HUNDRED:
        problems.append(
            Problem(
                "metrics",
                None,
                "weight",
                _("the weights add up to %(total)s%%, not 100%%") % {"total": _n(total)},
            )
        )
    seen: set[tuple] = set()
    for index, m in enumerate(metrics):

        def add(field_name: str, message: str, index=index) -> None:
            problems.append(Problem("metrics", index, field_name, message))

        definition = METRICS.get(m.metric)
        if definition is None:
            add("metric", _("unknown metric %(code)s") % {"code": m.metric})
            continue
        key = (m.metric, m.measure, m.scope)
        if key in seen:
            add(
                "metric",
                _("%(name)s appears twice with the same measure and scope")
                % {"name": definition.name},
            )
        seen.add(key)
        if not 0 <= m.weight <= HUNDRED:
            add("weight", _("must be from 0 to 100"))
        try:
            definition.param_values(m.params)
        except ValueError as exc:
            add("params", str(exc))
        if m.measure == "improvement" and m.baseline not in ("previous", "trailing3"):
            add("baseline", _("improvement needs a baseline: previous month or trailing 3 months"))
        if m.measure == "value" and m.baseline:
            add("baseline", _("a baseline only goes with improvement"))
        problems.extend(_curve_problems(m, index, definition))
    return problems


def ladder_problems(
    metric: str, measure: str, threshold: Decimal, target: Decimal, excellence: Decimal | None
) -> list[tuple[str, str]]:
    """(field, message) for threshold → target → excellence out of the metric's direction or range:
    the rule a plan metric's ladder and a period's target override share."""
    definition = METRICS[metric]
    problems = []
    down = metric_direction(metric, measure) == DOWN
    word = _("below") if down else _("above")

    def better(a: Decimal, b: Decimal) -> bool:
        return a < b if down else a > b

    if not better(target, threshold):
        problems.append(
            (
                "target",
                _(
                    "must be %(word)s the threshold (%(threshold)s) for %(name)s, where %(direction)s"
                )
                % {
                    "word": word,
                    "threshold": _n(threshold),
                    "name": definition.name,
                    "direction": _("lower is better") if down else _("higher is better"),
                },
            )
        )
    if excellence is not None and not better(excellence, target):
        problems.append(
            (
                "excellence",
                _("must be %(word)s the target (%(target)s)")
                % {"word": word, "target": _n(target)},
            )
        )
    if measure == "value":
        for field_name, value in (
            ("threshold", threshold),
            ("target", target),
            ("excellence", excellence),
        ):
            if value is None:
                continue
            if value < definition.minimum or (
                definition.maximum is not None and value > definition.maximum
            ):
                problems.append(
                    (
                        field_name,
                        _("%(value)s is outside the range of %(name)s (%(range)s)")
                        % {
                            "value": _n(value),
                            "name": definition.name,
                            "range": _range(definition),
                        },
                    )
                )
    return problems


def _curve_problems(m: MetricSpec, index: int, definition) -> list[Problem]:
    problems = [
        Problem("metrics", index, field_name, message)
        for field_name, message in ladder_problems(
            m.metric, m.measure, m.threshold, m.target, m.excellence
        )
    ]

    def add(field_name: str, message: str) -> None:
        problems.append(Problem("metrics", index, field_name, message))

    if (m.excellence is None) != (m.excellence_payout is None):
        add("excellence", _("excellence and its payout (the metric's cap) go together"))
    if not 0 <= m.threshold_payout <= HUNDRED:
        add(
            "threshold_payout",
            _(
                "the payout at the threshold must be from 0 to 100%: it may not exceed the "
                "100% earned at the target"
            ),
        )
    if m.excellence_payout is not None and m.excellence_payout < HUNDRED:
        add(
            "excellence_payout",
            _("the cap must be at least 100%: the payout may not fall along the curve"),
        )
    return problems


def _range(definition) -> str:
    upper = "∞" if definition.maximum is None else _n(definition.maximum)
    return f"{_n(definition.minimum)}–{upper} {definition.unit}"


def tiers_problems(tiers: Sequence[TierSpec]) -> list[Problem]:
    """Tiers are lower bounds on the weighted score: each runs up to the next, so distinct bounds never
    overlap. At least one tier is needed, or nothing could ever be paid."""
    problems = []
    if not tiers:
        return [
            Problem("tiers", None, None, _("a plan needs at least one tier (e.g. from 0 rate 1)"))
        ]
    seen: dict[Decimal, int] = {}
    for index, tier in enumerate(tiers):
        if tier.from_score in seen:
            problems.append(
                Problem(
                    "tiers",
                    index,
                    "from_score",
                    _("the same score as tier %(n)s: tiers may not overlap")
                    % {"n": seen[tier.from_score] + 1},
                )
            )
        seen[tier.from_score] = index
        if tier.from_score < 0:
            problems.append(Problem("tiers", index, "from_score", _("may not be negative")))
        if tier.rate < 0:
            problems.append(Problem("tiers", index, "rate", _("may not be negative")))
        if tier.kicker < 0:
            problems.append(Problem("tiers", index, "kicker", _("may not be negative")))
    ordered = sorted(tiers, key=lambda t: t.from_score)
    for lower, higher in pairwise(ordered):
        if higher.rate < lower.rate or (higher.rate == lower.rate and higher.kicker < lower.kicker):
            index = list(tiers).index(higher)
            problems.append(
                Problem(
                    "tiers",
                    index,
                    "rate",
                    _(
                        "pays less than the tier below it (from %(s)s): "
                        "a higher score must never pay less"
                    )
                    % {"s": _n(lower.from_score)},
                )
            )
    return problems


def gates_problems(gates: Sequence[GateSpec]) -> list[Problem]:
    problems = []
    for index, gate in enumerate(gates):

        def add(field_name: str, message: str, index=index) -> None:
            problems.append(Problem("gates", index, field_name, message))

        definition = METRICS.get(gate.metric)
        if definition is None:
            add("metric", _("unknown metric %(code)s") % {"code": gate.metric})
            continue
        if gate.comparison not in ("gt", "ge", "lt", "le"):
            add("comparison", _("must be >, ≥, < or ≤"))
        if gate.value < definition.minimum or (
            definition.maximum is not None and gate.value > definition.maximum
        ):
            add(
                "value",
                _("%(value)s is outside the range of %(name)s (%(range)s)")
                % {"value": _n(gate.value), "name": definition.name, "range": _range(definition)},
            )
        try:
            definition.param_values(gate.params)
        except ValueError as exc:
            add("params", str(exc))
        if gate.effect == "multiply":
            if gate.factor is None or not 0 <= gate.factor <= 1:
                add("factor", _("a factor from 0 to 1 is needed (0 voids, 0.5 halves)"))
            if gate.score_cap is not None:
                add("score_cap", _("only a 'cap the score' gate has a score cap"))
        elif gate.effect == "cap_score":
            if gate.score_cap is None or gate.score_cap < 0:
                add(
                    "score_cap", _("a score cap of 0 or more is needed (e.g. 100: no accelerators)")
                )
            if gate.factor is not None:
                add("factor", _("only a 'multiply' gate has a factor"))
        elif gate.effect == "void":
            if gate.factor is not None or gate.score_cap is not None:
                add("effect", _("a void gate has neither factor nor score cap"))
        else:
            add("effect", _("must be multiply, cap the score, or void"))
    return problems


def version_problems(spec: VersionSpec) -> list[Problem]:
    """Every rule of a plan version, except the one across plans (``services`` checks overlaps)."""
    return (
        header_problems(spec)
        + metrics_problems(spec.metrics)
        + tiers_problems(spec.tiers)
        + gates_problems(spec.gates)
    )
