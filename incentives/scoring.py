"""Scoring: a pure function of (plan rules, metric values). No database, no clock.

The steps are those of ``docs/scoring.md`` (and ``domain.md``): metric score on the curve, no-data rule,
weighted score, score gates, tier, amount, payout gates, overall cap, one rounding of money at the end.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from incentives.money import round_money

SCORE_PLACES = Decimal("0.0001")  # enough that rounding a score never moves a payout by a cent
HUNDRED = Decimal(100)
ZERO = Decimal(0)


def _score(value: Decimal) -> Decimal:
    return value.quantize(SCORE_PLACES, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class MetricRule:
    code: str  # the key of its value in ``values``: one per line of the plan
    weight: Decimal  # % of the weighted score; a plan's weights add up to 100
    direction: str  # "up" or "down"
    threshold: Decimal
    threshold_payout: Decimal  # % earned at the threshold, e.g. 50
    target: Decimal  # earns 100%
    excellence: Decimal | None = None
    excellence_payout: Decimal | None = None  # % earned at excellence: also the metric's cap
    no_data: str = "zero"  # "zero" or "redistribute"


_COMPARISONS = {"gt": operator.gt, "ge": operator.ge, "lt": operator.lt, "le": operator.le}


def compare(actual: Decimal, comparison: str, threshold: Decimal) -> bool:
    """``actual`` against ``threshold`` by "gt", "ge", "lt" or "le" (gates, alert rules and the
    dashboard's targets alike)."""
    return _COMPARISONS[comparison](actual, threshold)


def meets_target(value: Decimal, target: Decimal, direction: str) -> bool:
    """At or beyond the target in the metric's own direction ("up" or "down"): where its score reaches
    100% on the curve of ``metric_score``."""
    return compare(value, "ge" if direction == "up" else "le", target)


@dataclass(frozen=True)
class GateRule:
    code: str  # the key of its value in ``values``
    comparison: str  # "gt", "ge", "lt", "le"
    value: Decimal
    effect: str  # "multiply", "cap_score", "void"
    factor: Decimal | None = None
    score_cap: Decimal | None = None

    def hit(self, actual: Decimal | None) -> bool:
        """A gate with no data is not hit: a gate cuts pay on evidence, never on its absence."""
        if actual is None:
            return False
        return compare(actual, self.comparison, self.value)


@dataclass(frozen=True)
class Tier:
    from_score: Decimal
    rate: Decimal
    kicker: Decimal = ZERO


@dataclass(frozen=True)
class PlanRules:
    target_bonus: Decimal
    currency: str
    metrics: Sequence[MetricRule]
    tiers: Sequence[Tier]
    payout_cap: Decimal | None = (
        None  # an amount: a % cap is resolved against the target bonus first
    )
    gates: Sequence[GateRule] = ()


class LineResult(NamedTuple):
    """One line of a result (a tuple: a run makes one per agent and metric, and a frozen dataclass
    costs five times as much to build)."""

    rule: MetricRule
    value: Decimal | None
    no_data: bool
    score: Decimal
    effective_weight: Decimal
    points: Decimal


@dataclass(frozen=True)
class GateHit:
    rule: GateRule
    value: Decimal


@dataclass(frozen=True)
class Result:
    lines: tuple[LineResult, ...]
    weighted_score: Decimal  # after score gates
    raw_score: Decimal  # before score gates
    gates_hit: tuple[GateHit, ...]
    score_cap: Decimal | None
    tier: Tier | None
    payout_factor: Decimal
    amount_before_cap: Decimal
    capped: bool
    amount: Decimal


def metric_score(rule: MetricRule, value: Decimal) -> Decimal:
    """The % a value earns on the curve (threshold, payout) → (target, 100) → (excellence, cap).

    0 when worse than the threshold; linear between the points; flat at the cap at or beyond
    excellence, flat at 100 beyond the target when there is no excellence level. For a "down" metric
    "worse" and "beyond" read in its own direction: the same curve with the axis mirrored, written
    out for each direction (a run scores tens of thousands of lines; negating every operand cost a
    third of this function).
    """
    threshold, target, excellence = rule.threshold, rule.target, rule.excellence
    if rule.direction == "up":
        if value < threshold:
            return ZERO
        if value < target:
            share = (value - threshold) / (target - threshold)
            return _score(rule.threshold_payout + share * (HUNDRED - rule.threshold_payout))
        if excellence is None or rule.excellence_payout is None:
            return HUNDRED
        if value >= excellence:
            return _score(rule.excellence_payout)
        share = (value - target) / (excellence - target)
    else:
        if value > threshold:
            return ZERO
        if value > target:
            share = (threshold - value) / (threshold - target)
            return _score(rule.threshold_payout + share * (HUNDRED - rule.threshold_payout))
        if excellence is None or rule.excellence_payout is None:
            return HUNDRED
        if value <= excellence:
            return _score(rule.excellence_payout)
        share = (target - value) / (target - excellence)
    return _score(HUNDRED + share * (rule.excellence_payout - HUNDRED))


def _effective_weights(
    rules: Sequence[MetricRule], values: Mapping[str, Decimal | None]
) -> dict[str, Decimal]:
    """Weights as fractions; a "redistribute" metric with no data gives its weight to the metrics
    that have data, in proportion to their own weights."""
    weights = {rule.code: rule.weight / HUNDRED for rule in rules}
    dropped = [r for r in rules if values.get(r.code) is None and r.no_data == "redistribute"]
    if not dropped:
        return weights
    keep = [r for r in rules if r not in dropped]
    freed = sum((weights[r.code] for r in dropped), ZERO)
    kept_total = sum((weights[r.code] for r in keep), ZERO)
    for rule in dropped:
        weights[rule.code] = ZERO
    if kept_total > 0:
        for rule in keep:
            weights[rule.code] += freed * weights[rule.code] / kept_total
    return weights


def score(plan: PlanRules, values: Mapping[str, Decimal | None]) -> Result:
    """The statement of one agent: every line and the amount, from the plan and the values of its
    metrics and gates (keyed by ``MetricRule.code`` / ``GateRule.code``; None or absent: no data)."""
    weights = _effective_weights(plan.metrics, values)
    lines = []
    raw = ZERO
    for rule in plan.metrics:
        value = values.get(rule.code)
        line_score = ZERO if value is None else metric_score(rule, value)
        weight = weights[rule.code]
        weighted = weight * line_score
        raw += weighted
        lines.append(
            LineResult(
                rule, value, value is None, line_score, _score(weight * HUNDRED), _score(weighted)
            )
        )
    raw = _score(raw)
    hits = tuple(
        GateHit(gate, values[gate.code]) for gate in plan.gates if gate.hit(values.get(gate.code))
    )
    caps = [hit.rule.score_cap for hit in hits if hit.rule.effect == "cap_score"]
    score_cap = min(caps) if caps else None
    weighted = min(raw, score_cap) if score_cap is not None else raw
    tier = None
    for candidate in plan.tiers:  # the highest lower bound ≤ the score (of equal ones, the last)
        if candidate.from_score <= weighted and (
            tier is None or candidate.from_score >= tier.from_score
        ):
            tier = candidate
    amount = (
        ZERO if tier is None else plan.target_bonus * tier.rate * weighted / HUNDRED + tier.kicker
    )
    factor = Decimal(1)
    for hit in hits:
        if hit.rule.effect == "void":
            factor = ZERO
        elif hit.rule.effect == "multiply":
            factor *= hit.rule.factor
    amount *= factor
    capped = plan.payout_cap is not None and amount > plan.payout_cap
    final = plan.payout_cap if capped else amount
    return Result(
        lines=tuple(lines),
        weighted_score=weighted,
        raw_score=raw,
        gates_hit=hits,
        score_cap=score_cap,
        tier=tier,
        payout_factor=factor,
        amount_before_cap=amount,
        capped=capped,
        amount=round_money(final, plan.currency),
    )
