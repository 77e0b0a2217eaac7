"""An oracle of our own: the rules of domain.md ("What a bonus plan is", scoring steps 1-9) computed with
``fractions.Fraction``, written from the brief and not from ``incentives.scoring``, against which the
project must agree to the cent — on 10,000 random plans and values (Hypothesis), and through a real run
where rounding the values to 4 places used to move the payout.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from dataclasses import dataclass
from decimal import Decimal as D
from fractions import Fraction as F

import pytest
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from incentives import scoring
from incentives.money import minor_unit

# --- the oracle --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Metric:
    key: str
    weight: F  # in % of the weighted score; a plan's add up to 100
    up: bool  # higher is better
    threshold: F
    threshold_pays: F  # % at the threshold
    target: F  # pays 100%
    excellence: F | None  # pays ``excellence_pays``, the metric's cap
    excellence_pays: F | None
    no_data: str  # "zero": score 0; "redistribute": the weight spread over the other metrics


@dataclass(frozen=True)
class Gate:
    key: str
    comparison: str  # gt, ge, lt, le
    level: F
    effect: str  # multiply, cap_score, void
    factor: F | None = None
    cap: F | None = None


@dataclass(frozen=True)
class Tier:
    lower: F
    rate: F
    kicker: F


@dataclass(frozen=True)
class Plan:
    bonus: F
    places: int  # the currency's minor unit
    metrics: tuple[Metric, ...]
    tiers: tuple[Tier, ...]
    gates: tuple[Gate, ...]
    cap: F | None  # the overall cap, as an amount


@dataclass(frozen=True)
class Paid:
    scores: tuple[F, ...]  # step 2, per metric
    weighted: F  # steps 3-4
    amount: D  # steps 5-9


def curve_up(v: F, low: F, low_pays: F, mid: F, high: F | None, high_pays: F | None) -> F:
    """Step 2 for a metric where higher is better, point by point."""
    if v < low:  # worse than the threshold
        return F(0)
    if v < mid:  # from (threshold, its payout) to (target, 100), linear
        return low_pays + (100 - low_pays) * (v - low) / (mid - low)
    if high is None:  # beyond the target without excellence: flat at 100
        return F(100)
    if v >= high:  # at or beyond excellence: flat at the cap
        return high_pays
    return 100 + (high_pays - 100) * (v - mid) / (high - mid)


def metric_score(m: Metric, v: F) -> F:
    """Step 2. A lower-is-better metric is the same curve read in its own direction: mirrored, so
    "worse" and "beyond" swap (ASA threshold 40 s, target 20 s, excellence 10 s)."""
    if m.up:
        return curve_up(v, m.threshold, m.threshold_pays, m.target, m.excellence, m.excellence_pays)
    return curve_up(
        -v,
        -m.threshold,
        m.threshold_pays,
        -m.target,
        None if m.excellence is None else -m.excellence,
        m.excellence_pays,
    )


def gate_hit(g: Gate, v: F | None) -> bool:
    if v is None:  # no data: no evidence, so no gate
        return False
    return {"gt": v > g.level, "ge": v >= g.level, "lt": v < g.level, "le": v <= g.level}[
        g.comparison
    ]


def half_up(x: F, places: int) -> D:
    """Step 9: half-up to the minor unit, away from zero on a tie."""
    scaled = abs(x) * 10**places
    units = math.floor(scaled + F(1, 2))
    return D(-units if x < 0 else units).scaleb(-places)


def pay(plan: Plan, values: dict[str, F | None]) -> Paid:
    """Steps 1-9 of domain.md for one agent."""
    # 1. A metric with no data scores 0, or gives its weight to the other metrics in proportion.
    spread = [m for m in plan.metrics if values.get(m.key) is None and m.no_data == "redistribute"]
    others = [m for m in plan.metrics if m not in spread]
    freed = sum((m.weight for m in spread), F(0))
    others_total = sum((m.weight for m in others), F(0))
    weights = {}
    for m in plan.metrics:
        if m in spread:
            weights[m.key] = F(0)
        else:
            weights[m.key] = m.weight + (freed * m.weight / others_total if freed else 0)
    # 2. Each metric's score on its curve.
    scores = tuple(
        F(0) if values.get(m.key) is None else metric_score(m, values[m.key]) for m in plan.metrics
    )
    # 3. S = Σ weight × score, the weights as fractions.
    s = sum(
        (weights[m.key] / 100 * score for m, score in zip(plan.metrics, scores, strict=True)), F(0)
    )
    hits = [g for g in plan.gates if gate_hit(g, values.get(g.key))]
    # 4. Score gates cap S.
    for g in hits:
        if g.effect == "cap_score":
            s = min(s, g.cap)
    # 5. The highest tier whose lower bound is ≤ S; below the lowest, nothing.
    reached = [t for t in plan.tiers if t.lower <= s]
    if not reached:
        amount = F(0)
    else:
        tier = max(reached, key=lambda t: t.lower)
        # 6. Amount = target bonus × r × S / 100 + k.
        amount = plan.bonus * tier.rate * s / 100 + tier.kicker
    # 7. Payout gates multiply the amount (void: × 0).
    for g in hits:
        if g.effect == "void":
            amount *= 0
        elif g.effect == "multiply":
            amount *= g.factor
    # 8. The overall cap.
    if plan.cap is not None and amount > plan.cap:
        amount = plan.cap
    # 9. Money rounded once.
    return Paid(scores, s, half_up(amount, plan.places))


# --- the same plan for the project ------------------------------------------------------------------


def exact(x: D | None) -> F | None:
    return None if x is None else F(x)


@dataclass(frozen=True)
class Case:
    """A plan as the project holds it (Decimals, as the database keeps them) and the agent's exact
    values; ``oracle`` is the same plan read by the oracle."""

    rules: scoring.PlanRules
    values: dict[str, F | None]

    @property
    def oracle(self) -> Plan:
        r = self.rules
        return Plan(
            bonus=F(r.target_bonus),
            places=minor_unit(r.currency),
            metrics=tuple(
                Metric(
                    m.code,
                    F(m.weight),
                    m.direction == "up",
                    F(m.threshold),
                    F(m.threshold_payout),
                    F(m.target),
                    exact(m.excellence),
                    exact(m.excellence_payout),
                    m.no_data,
                )
                for m in r.metrics
            ),
            tiers=tuple(Tier(F(t.from_score), F(t.rate), F(t.kicker)) for t in r.tiers),
            gates=tuple(
                Gate(
                    g.code, g.comparison, F(g.value), g.effect, exact(g.factor), exact(g.score_cap)
                )
                for g in r.gates
            ),
            cap=exact(r.payout_cap),
        )


def decimals(low: int, high: int, places: int) -> st.SearchStrategy[D]:
    """Decimals from ``low`` to ``high`` with ``places`` decimals, as the plan's columns hold them."""
    return st.integers(low * 10**places, high * 10**places).map(lambda i: D(i).scaleb(-places))


def to_places(x: F, places: int) -> D:
    """The nearest number with ``places`` decimals (rounded down): a level beside an exact value."""
    return D(math.floor(x * 10**places)).scaleb(-places)


# The strategies, made once (Hypothesis checks each strategy it is given: made afresh in every example
# they cost more than the scoring they test), and few draws an example: several choices are read off
# one integer (a "shape"), so that 10,000 examples take well under a minute on a quiet machine.
NEAR = st.integers(0, 11 * 6 - 1)  # a step of -5 to 5, over one of 5 denominators or any
DENOMINATORS, ANY_DENOMINATOR = (1, 3, 7, 100_000, 1_000_000), st.integers(1, 10_000_000)
VALUE_KINDS = ("none", "level", "level", "level", "counts", "percent")
METRIC_SHAPE = st.integers(0, 2**4 * len(VALUE_KINDS) * 3 - 1)
MEAN = st.integers(0, 2_000_000_001 * 10_000_000 - 1)  # seconds (to 2e9) over 1 to 1e7 calls
RATE_OF_CALLS = st.integers(0, 100_000 * 100_001 - 1)  # events over 1 to 100,000 calls
# The three levels in ten-thousandths: the lowest from 0 to 150, then two gaps, a ten-thousandth to 5
# apart on a steep curve, to 50 apart on another.
STEEP_LEVELS = st.integers(0, 1_500_001 * 5 * 5 - 1)
LEVELS = st.integers(0, 1_500_001 * 500_000 * 500_000 - 1)
PAYOUTS = st.integers(0, 1_000_001 * 2_000_001 - 1)  # at the threshold 0-100, at excellence 100-300
METRICS, CUTS = st.integers(1, 6), st.integers(0, 9_999**5 - 1)
GATES = st.integers(0, 3)
GATE_SHAPE = st.integers(0, 2 * 4 * 3 * 4 * 6 - 1)
COMPARISONS, EFFECTS, OFFSETS = (
    ("gt", "ge", "lt", "le"),
    ("multiply", "cap_score", "void"),
    (-1, 0, 0, 1),
)
GATE_LEVEL, FACTOR, SCORE_CAP = decimals(0, 150, 4), decimals(0, 1, 4), decimals(0, 200, 4)
BONUS = st.integers(0, 5_000_001 * 2 - 1)  # 0-50,000.00 CNY, or 0-5,000,000 JPY
TIERS = st.integers(1, 4)
# A tier's kind (any lower bound, a round one, or one beside the score) with its rate (0-3, 4 places)
# and step bonus (0-500.00).
TIER_SHAPE = st.integers(0, 3 * 5 * 3 * 30_001 * 50_001 - 1)
ROUND_LOWERS = (D(0), D(60), D(85), D(100), D(120))
TIER_LOWER = decimals(0, 150, 4)
CAP_SHAPE = st.integers(0, 4 * 3 - 1)
CAP_PERCENT, CAP_AMOUNT = decimals(100, 300, 2), decimals(0, 100_000, 2)
UNIT = D("0.0001")  # the smallest step of a plan's level (4 decimals)


def near(draw, level: D | F) -> F:
    """An exact value at ``level`` or a hair around it, as a ratio of counts would give it (2.94003 is
    294003/100000): the level ± k/q for small k and q up to ten million."""
    shape = draw(NEAR)
    step, which = shape % 11 - 5, shape // 11
    q = DENOMINATORS[which] if which < len(DENOMINATORS) else draw(ANY_DENOMINATOR)
    return F(level) + F(step, q)


def value_for(draw, kind: str, level: D) -> F | None:
    """A metric's value: no data, at or around ``level``, or any ratio of counts."""
    if kind == "none":
        return None
    if kind == "level":
        return near(draw, level)
    if kind == "counts":  # a mean: seconds over calls, scores over surveys
        seconds, calls = divmod(draw(MEAN), 10_000_000)
        return F(seconds, calls + 1)
    events, calls = divmod(draw(RATE_OF_CALLS), 100_000)  # a rate: 100 × events ÷ calls
    return F(100 * (events % (calls + 2)), calls + 1)


def metric_rule(draw, key: str, weight: D) -> tuple[scoring.MetricRule, F | None]:
    """A metric of either direction, with or without excellence, on a curve that may be steep (levels
    a ten-thousandth apart), and its value."""
    shape = draw(METRIC_SHAPE)
    up, with_excellence, redistribute, steep = (bool(shape >> bit & 1) for bit in range(4))
    kind, level = VALUE_KINDS[(shape >> 4) % 6], (shape >> 4) // 6
    gap = 5 if steep else 500_000
    gaps, base = divmod(draw(STEEP_LEVELS if steep else LEVELS), 1_500_001)
    first, second = divmod(gaps, gap)
    middle = base + first + 1
    low, mid, high = (D(n).scaleb(-4) for n in (base, middle, middle + second + 1))
    threshold, target, excellence = (low, mid, high) if up else (high, mid, low)
    at_excellence, at_threshold = divmod(draw(PAYOUTS), 1_000_001)
    rule = scoring.MetricRule(
        code=key,
        weight=weight,
        direction="up" if up else "down",
        threshold=threshold,
        threshold_payout=D(at_threshold).scaleb(-4),
        target=target,
        excellence=excellence if with_excellence else None,
        excellence_payout=D(1_000_000 + at_excellence).scaleb(-4) if with_excellence else None,
        no_data="redistribute" if redistribute else "zero",
    )
    return rule, value_for(draw, kind, (threshold, target, excellence)[level])


def weights(draw) -> list[D]:
    """1 to 6 weights with 2 decimals, each at least 0.01, adding up to 100 (fewer when two of the
    cuts fall together)."""
    count, cuts = draw(METRICS), draw(CUTS)
    points = {cuts // 9_999**n % 9_999 + 1 for n in range(count - 1)}
    bounds = [0, *sorted(points), 10_000]
    return [D(b - a).scaleb(-2) for a, b in itertools.pairwise(bounds)]


def gate_rule(draw, key: str, value: F | None, number: int) -> tuple[scoring.GateRule, F | None]:
    """A gate of any effect and comparison on ``key`` (one of the plan's metrics, whose value is
    ``value``) or on a metric of its own (a value at or around its level, or no data); the level at,
    or a ten-thousandth around, the value. Returns the gate, and the value of its own metric."""
    shape = draw(GATE_SHAPE)
    own, shape = value is None or shape % 2 == 0, shape // 2
    comparison, shape = COMPARISONS[shape % 4], shape // 4
    effect, shape = EFFECTS[shape % 3], shape // 3
    offset, no_data = OFFSETS[shape % 4], shape // 4 == 0  # no data: 1 in 6
    if own:
        key = f"gate-{number}"
        level = draw(GATE_LEVEL)
        value = None if no_data else near(draw, level)
    else:
        level = to_places(value, 4) + offset * UNIT
    rule = scoring.GateRule(
        code=key,
        comparison=comparison,
        value=level,
        effect=effect,
        factor=draw(FACTOR) if effect == "multiply" else None,
        score_cap=draw(SCORE_CAP) if effect == "cap_score" else None,
    )
    return rule, value if own else None


def tier(draw, s: F) -> scoring.Tier:
    """A tier from any score, a round one, or one at or a hair around the agent's ``s``."""
    shape = draw(TIER_SHAPE)
    shape, kind = divmod(shape, 3)
    shape, round_lower = divmod(shape, 5)
    shape, beside = divmod(shape, 3)
    kicker, rate = divmod(shape, 30_001)
    if kind == 0:
        lower = draw(TIER_LOWER)
    elif kind == 1:
        lower = ROUND_LOWERS[round_lower]
    else:
        lower = max(D(0), to_places(s, 4) + (beside - 1) * UNIT)
    return scoring.Tier(lower, D(rate).scaleb(-4), D(kicker).scaleb(-2))


@st.composite
def cases(draw) -> Case:
    """A plan and an agent's values: metrics, gates, tiers (some at or a hair around the agent's
    weighted score), kickers, a cap (some at or a cent around the amount), CNY or JPY."""
    units, yen = divmod(draw(BONUS), 2)
    currency, bonus = ("JPY", D(units)) if yen else ("CNY", D(units).scaleb(-2))
    metrics, values = [], {}
    for n, weight in enumerate(weights(draw)):
        rule, value = metric_rule(draw, f"metric-{n}", weight)
        metrics.append(rule)
        values[rule.code] = value
    gates = []
    for n in range(draw(GATES)):
        key = metrics[n % len(metrics)].code
        rule, own_value = gate_rule(draw, key, values[key], n)
        if rule.code not in values:
            values[rule.code] = own_value
        gates.append(rule)
    # Tiers: the agent's weighted score without them, from the oracle, gives lower bounds at and a
    # ten-thousandth around it, among round ones and any others.
    probe = Case(scoring.PlanRules(bonus, currency, metrics, (), None, gates), values).oracle
    s = pay(probe, values).weighted
    drawn = {t.from_score: t for t in (tier(draw, s) for _ in range(draw(TIERS)))}  # distinct
    lowers = sorted(drawn)
    # A higher tier never pays a lower rate or step bonus (the plan's rule).
    rates = sorted(t.rate for t in drawn.values())
    kickers = sorted(t.kicker for t in drawn.values())
    tiers = tuple(map(scoring.Tier, lowers, rates, kickers))
    # The overall cap: none, a % of the target bonus (resolved to an amount, as a run does), or an
    # amount at or a cent around what the plan pays without it.
    cap_shape = draw(CAP_SHAPE)
    cap_kind, beside = cap_shape % 4, cap_shape // 4 - 1
    cap = None
    if cap_kind == 1:
        cap = bonus * draw(CAP_PERCENT) / 100
    elif cap_kind == 2:
        cap = draw(CAP_AMOUNT)
    elif cap_kind == 3:
        uncapped = Case(scoring.PlanRules(bonus, currency, metrics, tiers, None, gates), values)
        amount = pay(uncapped.oracle, values).amount
        cap = max(D(0), amount + beside * D("0.01"))
    return Case(scoring.PlanRules(bonus, currency, metrics, tiers, cap, gates), values)


@settings(
    max_examples=10_000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(cases())
def test_the_project_pays_what_the_oracle_pays_to_the_cent(case):
    expected = pay(case.oracle, case.values)
    result = scoring.score(case.rules, case.values)
    assert result.amount == expected.amount
    assert result.weighted_score == expected.weighted
    assert [line.score for line in result.lines] == list(expected.scores)


# --- the cases the issue names, by hand ----------------------------------------------------------------


def test_a_gate_over_2_94_is_hit_by_a_true_2_94003():
    gate = scoring.GateRule("complaint_rate", "gt", D("2.94"), "void")
    assert gate.hit(F(294003, 100000)) and not gate.hit(F(294, 100))
    assert scoring.compare(F(294003, 100000), "gt", D("2.94"))
    assert scoring.meets_target(F(9499999, 100000), D(95), "up") is False  # 94.99999 is short of 95
    assert scoring.meets_target(F(294003, 100000), D("2.94"), "down") is False


# --- through a real run: where rounding used to move the payout ------------------------------------


def _old_pay(plan: Plan, values: dict[str, F | None]) -> D:
    """What the project paid before values were exact: each value rounded half-up to 4 places first."""
    return pay(plan, {k: None if v is None else F(half_up(v, 4)) for k, v in values.items()}).amount


@pytest.mark.django_db
def test_a_run_pays_what_the_oracle_pays_where_rounding_used_to_move_it(
    people, django_capture_on_commit_callbacks, client
):
    from calls.metrics import metric
    from calls.models import Call
    from incentives import services
    from incentives.models import Period, Statement
    from incentives.presets import Preset
    from incentives.validation import GateSpec, MetricSpec, TierSpec
    from tests.factories import AgentFactory, BatchFactory, TeamFactory, plan_from_preset

    team = TeamFactory(code="exact", name="Exact")
    steep, gated = (AgentFactory(employee_id=e, team=team) for e in ("X1", "X2"))
    # Answer rate on a steep curve (95 → 50%, 95.01 → 100%, 95.02 → 150%), complaints against a gate
    # "complaint rate > 2.94 ⇒ void"; 10,000.00 paid at the rate 1 from a score of 0.
    preset = Preset(
        code="exact",
        name="Exact",
        description="",
        metrics=(
            MetricSpec("answer_rate", D(60), D(95), D("95.01"), D(50), D("95.02"), D(150)),
            MetricSpec("complaint_rate", D(40), D(5), D(1), D(50)),
        ),
        tiers=(TierSpec(D(0), D(1)),),
        gates=(GateSpec("complaint_rate", "gt", D("2.94"), "void"),),
        target_bonus=D("10000.00"),
        payout_cap_percent=D(300),
    )
    plan_from_preset(code="exact", teams=[team], preset=preset)
    batch = BatchFactory()
    start = dt.datetime(2026, 10, 10, 2, 0, tzinfo=dt.UTC)
    # X1: 1,901 of 2,001 calls answered, 95.0024987…%, no complaint. X2: 74 complaints in 2,517 calls,
    # 2.9400079…%, which 4 places made 2.9400: not over 2.94.
    counts = {steep: (2001, 1901, 0), gated: (2517, 2517, 74)}
    Call.objects.bulk_create(
        Call(
            source="test",
            external_id=f"{agent.employee_id}-{n}",
            agent=agent,
            batch=batch,
            direction=Call.Direction.INBOUND,
            started_at=start + dt.timedelta(seconds=n),
            answered_at=start + dt.timedelta(seconds=n + 5) if n < answered else None,
            wait_seconds=5,
            complaint=n < complaints,
        )
        for agent, (calls, answered, complaints) in counts.items()
        for n in range(calls)
    )
    period = Period.objects.create(year=2026, month=10)
    with django_capture_on_commit_callbacks(execute=True):
        run = services.run_start(period=period)
    paid = {s.agent_id: s for s in Statement.objects.filter(run=run).prefetch_related("gates_hit")}

    oracle = Case(
        scoring.PlanRules(
            D("10000.00"),
            "CNY",
            (
                scoring.MetricRule(
                    "answer_rate", D(60), "up", D(95), D(50), D("95.01"), D("95.02"), D(150)
                ),
                scoring.MetricRule("complaint_rate", D(40), "down", D(5), D(50), D(1)),
            ),
            (scoring.Tier(D(0), D(1)),),
            D("30000.00"),
            (scoring.GateRule("complaint_rate", "gt", D("2.94"), "void"),),
        ),
        {},
    ).oracle
    percent = metric("answer_rate").scale
    for agent, (calls, answered, complaints) in counts.items():
        values = {
            "answer_rate": F(int(percent) * answered, calls),
            "complaint_rate": F(int(percent) * complaints, calls),
        }
        expected = pay(oracle, values).amount
        assert paid[agent.pk].amount == expected
        assert _old_pay(oracle, values) != expected  # rounding the values moved this payout
    # X1: S = 0.6 × (50 + 0.0024987…/0.01 × 50) + 0.4 × 100 = 77.4962…: 7,749.63, not 7,750.00.
    assert paid[steep.pk].amount == D("7749.63")
    # X2: the gate voids it (rounded to 2.9400 it paid in full); the statement shows why.
    assert paid[gated.pk].amount == D("0.00")
    gate = paid[gated.pk].gates_hit.get()
    assert gate.value == D("2.9400079460")  # kept for display to 10 places, from the exact value
    # Whoever reads the statement sees why it was hit: the value with the places that tell it from 2.94.
    client.force_login(people.hr)
    with translation.override("en"):
        page = client.get(f"/statements/{paid[gated.pk].pk}/").content.decode()
    assert "Complaint rate was 2.94001 (&gt; 2.94)" in page
