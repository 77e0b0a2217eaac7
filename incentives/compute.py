"""What a month's values and scores are: the targets that apply, the teams' values, and ``score_agents``.

Nothing here writes. A metric request is keyed by a small frozen dataclass (``LineKey`` for a plan
metric's line, ``GateKey`` for a gate), the key of its value in ``Scored.measured`` and the ``code`` of
its scoring rule; its ``str`` is the text the statements' fingerprints have always hashed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from decimal import Decimal
from functools import partial

from django.db.models import Q

from calls.metrics import (
    MetricValue,
    Ratio,
    baseline_months,
    improvement,
    improvement_values,
    metric_ratios,
    metric_values_many,
    rollup,
)
from calls.months import center_tz, month_bounds, month_first_last_day
from incentives import scoring
from incentives.models import (
    Agent,
    Period,
    Placement,
    PlanGate,
    PlanMetric,
    PlanVersion,
    Scope,
    TargetOverride,
)
from incentives.validation import metric_direction

Params = tuple[tuple[str, int | str], ...]  # a metric's parameters, sorted by name


def _params(params: dict) -> Params:
    return tuple(sorted(params.items()))


@dataclass(frozen=True, slots=True)
class LineKey:
    """The value of one line of a plan: a metric, measured as a value or an improvement, on the agent
    or on their team (a plan has one line per such triple)."""

    metric: str
    measure: str
    scope: str

    @classmethod
    def of(cls, pm: PlanMetric) -> LineKey:
        return cls(pm.metric, pm.measure, pm.scope)

    def __str__(self) -> str:
        return f"{self.metric}:{self.measure}:{self.scope}"


@dataclass(frozen=True, slots=True)
class GateKey:
    """The value a gate compares: a metric's value with its own parameters, on the agent or the team."""

    metric: str
    scope: str
    params: Params

    @classmethod
    def of(cls, gate: PlanGate | PlanMetric) -> GateKey:
        return cls(gate.metric, gate.scope, _params(gate.params))

    def __str__(self) -> str:
        # The text fingerprints have hashed since gates were keyed by strings: keep it byte for byte.
        return f"gate:{self.metric}:{self.scope}:{list(self.params)}"


MetricKey = LineKey | GateKey


@dataclass
class Targets:
    threshold: Decimal
    target: Decimal
    excellence: Decimal | None
    source: str


def period_overrides(period: Period, *, team_id: int | None = None) -> dict:
    """The period's target overrides keyed by (metric, "agent" | "team", id): read once per chunk.
    With ``team_id``, only that team's and those of the agents placed in it on any day of the period."""
    found = TargetOverride.objects.filter(period=period)
    if team_id is not None:
        first_day, last_day = month_first_last_day(period.year, period.month)
        placed = Placement.objects.filter(team_id=team_id, valid_from__lte=last_day).filter(
            Q(valid_to__isnull=True) | Q(valid_to__gte=first_day)
        )
        found = found.filter(Q(team_id=team_id) | Q(agent_id__in=placed.values("agent_id")))
    overrides = {}
    for override in found:
        key = (
            (override.metric, "agent", override.agent_id)
            if override.agent_id
            else (override.metric, "team", override.team_id)
        )
        overrides[key] = override
    return overrides


def targets_for(pm: PlanMetric, agent_id: int | None, team_id: int, overrides) -> Targets:
    """Plan targets, unless HR set this period's targets for the agent (first) or the team. Overrides
    apply to a metric's value, not to its improvement (which has its own scale). Without an agent, the
    team's (the lead's dashboard reads a team's and its groups' rows against them)."""
    if pm.measure == PlanMetric.Measure.VALUE:
        for key, source in (
            ((pm.metric, "agent", agent_id), "agent"),
            ((pm.metric, "team", team_id), "team"),
        ):
            override = overrides.get(key)
            if override is not None:
                # An override replaces the whole ladder: without excellence, the curve is flat at 100%
                # beyond the override's target (the plan's excellence may sit below it).
                return Targets(override.threshold, override.target, override.excellence, source)
    return Targets(pm.threshold, pm.target, pm.excellence, "plan")


def target_bonus(version: PlanVersion, agent: Agent) -> Decimal | None:
    """The agent's bonus at 100%: the plan's fixed amount, or its share of base pay (None: no base pay)."""
    if version.target_bonus_kind == PlanVersion.BonusKind.FIXED:
        return version.target_bonus
    if agent.base_pay is None:
        return None
    assert version.target_bonus_percent is not None  # a share of base pay has its percent
    return agent.base_pay * version.target_bonus_percent / 100


def payout_cap(version: PlanVersion, bonus: Decimal) -> Decimal | None:
    if version.payout_cap_kind == PlanVersion.CapKind.AMOUNT:
        return version.payout_cap
    if version.payout_cap_kind == PlanVersion.CapKind.PERCENT:
        assert version.payout_cap is not None  # a cap in percent has its percent
        return bonus * version.payout_cap / 100
    return None


def team_value(team_id: int, code: str, params: dict, year: int, month: int) -> MetricValue:
    """A team's value for a month: the calls of each agent while placed in the team (by date, so an
    agent who moved mid-month counts for each team for their days there), summed as ratios."""
    start, end = month_bounds(year, month)
    first_day, last_day = month_first_last_day(year, month)
    windows: dict[tuple, list[int]] = {}
    placements = Placement.objects.filter(team_id=team_id, valid_from__lte=last_day).filter(
        Q(valid_to__isnull=True) | Q(valid_to__gte=first_day)
    )
    tz = center_tz()
    for placement in placements:
        w_start = max(start, dt.datetime.combine(placement.valid_from, dt.time(), tz))
        w_end = end
        if placement.valid_to is not None:
            w_end = min(
                end, dt.datetime.combine(placement.valid_to + dt.timedelta(days=1), dt.time(), tz)
            )
        windows.setdefault((w_start, w_end), []).append(placement.agent_id)
    ratios: list[Ratio] = []
    for (w_start, w_end), agent_ids in windows.items():
        ratios.extend(
            metric_ratios(
                code, agent_ids=agent_ids, start=w_start, end=w_end, params=params
            ).values()
        )
    return rollup(code, ratios)


def team_improvement(team_id: int, code: str, params: dict, year: int, month: int, baseline: str):
    """A team's improvement over its baseline months (each month's team value, as ``team_value``)."""
    past = [
        team_value(team_id, code, params, y, m).value
        for y, m in baseline_months(year, month, baseline)
    ]
    return improvement(code, team_value(team_id, code, params, year, month), past)


@dataclass
class Scored:
    """One agent scored under one plan version: what a statement is written from (or a what-if shown)."""

    agent: Agent
    team_id: int
    version: PlanVersion
    rules: scoring.PlanRules
    result: scoring.Result
    measured: dict[Hashable, MetricValue | None]  # by LineKey and GateKey
    plan_metrics: list[PlanMetric]
    targets: list[Targets]
    gates: list


@dataclass(frozen=True)
class _Month:
    """The agents being scored and the month: what every value is asked for."""

    ids: list[int]
    team_of: dict[int, int]
    year: int
    month: int

    def per_team(self, compute: Callable[[int], MetricValue]) -> dict[int, MetricValue]:
        """A team's value, given to each of its agents (computed once per team)."""
        by_team = {
            team_id: compute(team_id) for team_id in sorted(set(self.team_of[i] for i in self.ids))
        }
        return {agent_id: by_team[self.team_of[agent_id]] for agent_id in self.ids}


def _values(
    month: _Month, plan_metrics: list[PlanMetric], gates: list[PlanGate]
) -> dict[MetricKey, dict[int, MetricValue]]:
    """Every line's and gate's value for every agent, by key: what the agents are measured on
    themselves in one query per table; a team's value once per team; a gate on a metric the plan
    already measures (same scope and parameters) reads the line's value."""
    year, mon = month.year, month.month
    start, end = month_bounds(year, mon)
    value = PlanMetric.Measure.VALUE
    requests: list[tuple[MetricKey, str, dict]] = [
        (LineKey.of(pm), pm.metric, pm.params)
        for pm in plan_metrics
        if pm.scope != Scope.TEAM and pm.measure == value
    ]
    line_of_gate = {GateKey.of(pm): LineKey.of(pm) for pm in plan_metrics if pm.measure == value}
    requests += [
        (GateKey.of(g), g.metric, g.params)
        for g in gates
        if g.scope != Scope.TEAM and GateKey.of(g) not in line_of_gate
    ]
    values: dict = metric_values_many(requests, agent_ids=month.ids, start=start, end=end)
    for pm in plan_metrics:
        key = LineKey.of(pm)
        if pm.scope == Scope.TEAM and pm.measure == value:
            values[key] = month.per_team(
                partial(team_value, code=pm.metric, params=pm.params, year=year, month=mon)
            )
        elif pm.scope == Scope.TEAM:
            values[key] = month.per_team(
                partial(
                    team_improvement,
                    code=pm.metric,
                    params=pm.params,
                    year=year,
                    month=mon,
                    baseline=pm.baseline,
                )
            )
        elif pm.measure != value:
            values[key] = improvement_values(
                pm.metric,
                agent_ids=month.ids,
                year=year,
                month=mon,
                baseline=pm.baseline,
                params=pm.params,
            )
    for gate_key, line_key in line_of_gate.items():
        values.setdefault(gate_key, values[line_key])
    for gate in gates:
        gate_key = GateKey.of(gate)
        if gate_key not in values:  # a team-scope gate: the team's value, once per team
            values[gate_key] = month.per_team(
                partial(team_value, code=gate.metric, params=gate.params, year=year, month=mon)
            )
    return values


def _metric_rule(pm: PlanMetric, key: LineKey, direction: str, t: Targets) -> scoring.MetricRule:
    """A plan metric's scoring rule on a ladder of targets (the plan's or an override's)."""
    return scoring.MetricRule(
        code=key,
        weight=pm.weight,
        direction=direction,
        threshold=t.threshold,
        threshold_payout=pm.threshold_payout,
        target=t.target,
        excellence=t.excellence,
        excellence_payout=pm.excellence_payout if t.excellence is not None else None,
        no_data=pm.no_data,
    )


def score_agents(
    *,
    version: PlanVersion,
    agents: list[Agent],
    team_of: dict[int, int],
    year: int,
    month: int,
    overrides: dict,
    problems: list[str],
) -> list[Scored]:
    """Score ``agents`` (of any teams: ``team_of`` maps each to the team their month is attributed to)
    under ``version`` for a month, writing nothing. One query per metric (and window) for all of them,
    whatever their number; a team-scope value once per team. Agents who cannot be scored are named in
    ``problems``."""
    plan_metrics = list(version.metrics.all())
    gates = list(version.gates.all())
    tiers = tuple(scoring.Tier(t.from_score, t.rate, t.kicker) for t in version.tiers.all())
    values = _values(_Month([a.pk for a in agents], team_of, year, month), plan_metrics, gates)
    gate_rules = tuple(
        scoring.GateRule(
            code=GateKey.of(g),
            comparison=g.comparison,
            value=g.value,
            effect=g.effect,
            factor=g.factor,
            score_cap=g.score_cap,
        )
        for g in gates
    )
    per_metric = []  # the plan's own ladder: one rule shared by all its agents
    for pm in plan_metrics:
        key, direction = LineKey.of(pm), metric_direction(pm.metric, pm.measure)
        plan_targets = Targets(pm.threshold, pm.target, pm.excellence, "plan")
        per_metric.append(
            (pm, key, direction, _metric_rule(pm, key, direction, plan_targets), plan_targets)
        )
    scored = []
    values_by_key = list(values.items())
    for agent in agents:
        bonus = target_bonus(version, agent)
        if bonus is None:
            problems.append(
                f"{agent}: the plan pays a % of base pay and the agent has no base pay."
            )
            continue
        agent_id = agent.id  # not .pk: a property, and this loop runs for every agent and metric
        team_id = team_of[agent_id]
        measured: dict[Hashable, MetricValue | None] = {
            k: v.get(agent_id) for k, v in values_by_key
        }
        rules, targets = [], []
        for pm, key, direction, plan_rule, plan_targets in per_metric:
            t = targets_for(pm, agent_id, team_id, overrides) if overrides else plan_targets
            if t.source == "plan":
                targets.append(plan_targets)
                rules.append(plan_rule)
            else:
                targets.append(t)
                rules.append(_metric_rule(pm, key, direction, t))
        plan_rules = scoring.PlanRules(
            target_bonus=bonus,
            currency=version.currency,
            metrics=tuple(rules),
            tiers=tiers,
            payout_cap=payout_cap(version, bonus),
            gates=gate_rules,
        )
        result = scoring.score(
            plan_rules,
            {k: (v.value if v else None) for k, v in measured.items()},
        )
        scored.append(
            Scored(
                agent, team_id, version, plan_rules, result, measured, plan_metrics, targets, gates
            )
        )
    return scored
