"""Scoring: a pure function of (plan rules, metric values). No database, no clock.

The steps are those of ``docs/scoring.md`` (and ``domain.md``): metric score on the curve, no-data rule,
weighted score, score gates, tier, amount, payout gates, overall cap, one rounding of money at the end.

Exact from the values to the payout: a metric's value comes in exact (``calls.metrics`` gives it as
numerator × scale ÷ denominator of its counts, never a rounded decimal), the plan's levels, weights,
rates and amounts are Decimals, which convert without loss, and every step computes with exact
rationals — a Decimal quotient would round (1 ÷ 3). Nothing is rounded until the money, once, half-up
to the currency's minor unit (``round_money``): a gate "> 2.94" is hit by 2.94003, and a steep curve
pays for every digit of the value. What a statement stores or a page shows is rounded from these
results (``calls.numbers``) and never fed back into them.

The rationals are ``calls.rational.Rational``: the same exact numbers as ``fractions.Fraction``,
without its cost on a run's thousands of statements (its module has the figures); a Fraction, a
Decimal or an int is taken as well.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from functools import cached_property
from typing import NamedTuple

from calls.rational import Rational
from incentives.money import round_money

Exact = Rational | Fraction | Decimal | int  # a number that converts to a Rational without loss
exact = Rational.of
ZERO, ONE, HUNDRED = Rational(0), Rational(1), Rational(100)


_COMPARISONS = {"gt": operator.gt, "ge": operator.ge, "lt": operator.lt, "le": operator.le}


def compare(actual: Exact, comparison: str, threshold: Exact) -> bool:
    """``actual`` against ``threshold`` by "gt", "ge", "lt" or "le" (gates, alert rules and the
    dashboard's targets alike). Exact whatever the mix of exact numbers (Rational, Fraction, Decimal,
    int): each pair compares by its exact values, so a true 2.94003 is "gt" 2.94."""
    return _COMPARISONS[comparison](actual, threshold)


def meets_target(value: Exact, target: Exact, direction: str) -> bool:
    """At or beyond the target in the metric's own direction ("up" or "down"): where its score reaches
    100% on the curve of ``metric_score``."""
    return compare(value, "ge" if direction == "up" else "le", target)


class Segment(NamedTuple):
    """A straight piece of a curve, from its point (x0, y0) on with its slope, in either direction."""

    x0: Rational
    y0: Rational
    slope: Rational

    @classmethod
    def between(cls, x0: Rational, y0: Rational, x1: Rational, y1: Rational) -> Segment:
        return cls(x0, y0, (y1 - y0) / (x1 - x0))

    def at(self, x: Rational) -> Rational:
        return self.y0 + (x - self.x0) * self.slope


class Curve(NamedTuple):
    """A metric rule's levels as exact numbers, and how a value reaches one in the rule's direction."""

    reached: Callable[[Rational, Rational], bool]  # value at or beyond a level: ≥ up, ≤ down
    threshold: Rational
    target: Rational
    excellence: Rational | None
    cap: Rational | None  # the payout at excellence
    to_target: Segment  # from (threshold, its payout) to (target, 100)
    to_excellence: Segment | None  # from (target, 100) to (excellence, cap)
    weight: Rational  # the share of the weighted score: 30% is 3/10
    percent: Rational  # the same in %: 30


@dataclass(frozen=True)
class MetricRule:
    code: Hashable  # the key of its value in ``values``: one per line of the plan
    weight: Decimal  # % of the weighted score; a plan's weights add up to 100
    direction: str  # "up" or "down"
    threshold: Decimal
    threshold_payout: Decimal  # % earned at the threshold, e.g. 50
    target: Decimal  # earns 100%
    excellence: Decimal | None = None
    excellence_payout: Decimal | None = None  # % earned at excellence: also the metric's cap
    no_data: str = "zero"  # "zero" or "redistribute"

    @cached_property
    def curve(self) -> Curve:
        """The levels as exact numbers, converted once per rule: a run scores all of a plan's agents
        on the same rules."""
        threshold, target = exact(self.threshold), exact(self.target)
        to_target = Segment.between(threshold, exact(self.threshold_payout), target, HUNDRED)
        excellence = cap = to_excellence = None
        if self.excellence is not None and self.excellence_payout is not None:
            excellence, cap = exact(self.excellence), exact(self.excellence_payout)
            to_excellence = Segment.between(target, HUNDRED, excellence, cap)
        reached = Rational.__ge__ if self.direction == "up" else Rational.__le__
        percent = exact(self.weight)
        return Curve(
            reached,
            threshold,
            target,
            excellence,
            cap,
            to_target,
            to_excellence,
            percent / HUNDRED,
            percent,
        )


@dataclass(frozen=True)
class GateRule:
    code: Hashable  # the key of its value in ``values``
    comparison: str  # "gt", "ge", "lt", "le"
    value: Decimal
    effect: str  # "multiply", "cap_score", "void"
    factor: Decimal | None = None
    score_cap: Decimal | None = None

    def hit(self, actual: Exact | None) -> bool:
        """A gate with no data is not hit: a gate cuts pay on evidence, never on its absence."""
        if actual is None:
            return False
        return compare(actual, self.comparison, self.level)

    @cached_property
    def level(self) -> Rational:
        """``value`` as an exact number, converted once."""
        return exact(self.value)


@dataclass(frozen=True)
class Tier:
    from_score: Decimal
    rate: Decimal
    kicker: Decimal = Decimal(0)

    @cached_property
    def exact(self) -> tuple[Rational, Rational, Rational]:
        """(from_score, rate, kicker) as exact numbers, converted once."""
        return exact(self.from_score), exact(self.rate), exact(self.kicker)


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
    """One line of a result, exact (a tuple: a run makes one per agent and metric, and a frozen
    dataclass costs five times as much to build)."""

    rule: MetricRule
    value: Exact | None  # as it came in
    no_data: bool
    score: Rational  # % on the curve
    effective_weight: Rational  # % of the weighted score, after a no-data metric's is spread
    points: Rational  # what the line adds to the weighted score


@dataclass(frozen=True)
class GateHit:
    rule: GateRule
    value: Exact  # as it came in


@dataclass(frozen=True)
class Result:
    """An agent's statement, exact but for ``amount``, the money, rounded once."""

    lines: tuple[LineResult, ...]
    weighted_score: Rational  # after score gates
    raw_score: Rational  # before score gates
    gates_hit: tuple[GateHit, ...]
    score_cap: Decimal | None
    tier: Tier | None
    payout_factor: Rational
    amount_before_cap: Rational
    capped: bool
    amount: Decimal


def metric_score(rule: MetricRule, value: Exact) -> Rational:
    """The % a value earns on the curve (threshold, payout) → (target, 100) → (excellence, cap).

    0 when worse than the threshold; linear between the points; flat at the cap at or beyond
    excellence, flat at 100 beyond the target when there is no excellence level. For a "down" metric
    "worse" and "beyond" read in its own direction (a value reaches a level at or below it).
    """
    curve, value = rule.curve, exact(value)
    reached = curve.reached
    if not reached(value, curve.threshold):
        return ZERO
    if not reached(value, curve.target):
        return curve.to_target.at(value)
    if curve.excellence is None:
        return HUNDRED
    assert curve.cap is not None and curve.to_excellence is not None  # set with excellence
    if reached(value, curve.excellence):
        return curve.cap
    return curve.to_excellence.at(value)


def _effective_weights(
    rules: Sequence[MetricRule], values: Mapping[Hashable, Exact | None]
) -> dict[Hashable, Rational]:
    """Weights as fractions; a "redistribute" metric with no data gives its weight to the other
    metrics, in proportion to their own weights: every metric not itself spread, so a "zero" metric
    with no data takes its share too (and scores 0 on it)."""
    weights = {rule.code: rule.curve.weight for rule in rules}
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


def score(plan: PlanRules, values: Mapping[Hashable, Exact | None]) -> Result:
    """The statement of one agent: every line and the amount, from the plan and the exact values of its
    metrics and gates (keyed by ``MetricRule.code`` / ``GateRule.code``; None or absent: no data)."""
    weights = _effective_weights(plan.metrics, values)
    lines = []
    raw = ZERO
    for rule in plan.metrics:
        value = values.get(rule.code)
        line_score = ZERO if value is None else metric_score(rule, value)
        weight, curve = weights[rule.code], rule.curve
        points = weight * line_score
        raw += points
        # The weight in %: the plan's own, unless a no-data metric's weight was spread over it.
        percent = curve.percent if weight is curve.weight else weight * HUNDRED
        lines.append(LineResult(rule, value, value is None, line_score, percent, points))
    hits = tuple(
        GateHit(gate, value)
        for gate in plan.gates
        if (value := values.get(gate.code)) is not None and gate.hit(value)
    )
    # A plan's validation gives every cap_score gate its cap, every multiply gate its factor.
    caps = [hit.rule.score_cap for hit in hits if hit.rule.effect == "cap_score"]
    score_cap = min(caps) if caps else None  # type: ignore[type-var]
    weighted = min(raw, exact(score_cap)) if score_cap is not None else raw
    tier = None
    for candidate in plan.tiers:  # the highest lower bound ≤ the score (of equal ones, the last)
        if weighted >= candidate.exact[0] and (
            tier is None or candidate.from_score >= tier.from_score
        ):
            tier = candidate
    amount = ZERO
    if tier is not None:
        _from_score, rate, kicker = tier.exact
        amount = exact(plan.target_bonus) * rate * weighted / HUNDRED + kicker
    factor = ONE
    for hit in hits:
        if hit.rule.effect == "void":
            factor = ZERO
        elif hit.rule.effect == "multiply":
            factor *= exact(hit.rule.factor)  # type: ignore[arg-type]
    amount *= factor
    cap = None if plan.payout_cap is None else exact(plan.payout_cap)
    capped = cap is not None and amount > cap
    final = cap if capped else amount
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
