"""The top fifth of a team against the rest, metric by metric: what the best agents of a month do
differently (telemarketing evaluation practice compares the best 20% with the others to find it).

A team's month is its approved run: its agents ranked by weighted score (ties by employee id), the
top fifth — a fifth of the agents rounded up, at least one — against the others. For each metric of
their statements, the mean of the agents' own values in each group (a line with no data is left
out), with the number of agents behind each mean. Three queries whatever the team's size."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from calls.metrics import METRICS
from incentives.models import Agent, Period, Statement, StatementLine, Team


@dataclass(frozen=True)
class Group:
    """The values of one metric over a group of agents: their sum and how many there are."""

    total: Fraction = Fraction(0)
    agents: int = 0

    def add(self, value: Decimal) -> Group:
        return Group(self.total + Fraction(value), self.agents + 1)

    @property
    def mean(self) -> Fraction | None:
        return self.total / self.agents if self.agents else None


@dataclass(frozen=True)
class MetricSplit:
    metric: str  # the metric's code, as on the statement's line
    direction: str  # "up" or "down": which way is better
    top: Group
    rest: Group

    @property
    def label(self) -> str:
        definition = METRICS.get(self.metric)
        return str(definition.name) if definition else self.metric

    @property
    def difference(self) -> Fraction | None:
        """The top fifth's mean less the rest's (None when a group has no value)."""
        if self.top.mean is None or self.rest.mean is None:
            return None
        return self.top.mean - self.rest.mean

    @property
    def top_better(self) -> bool | None:
        """Whether the top fifth does better on this metric, in its own direction."""
        difference = self.difference
        if difference is None or difference == 0:
            return None
        return difference > 0 if self.direction == "up" else difference < 0


@dataclass(frozen=True)
class TopFifth:
    period: Period | None  # the team's latest approved month, or the one asked for
    agents: int  # how many agents the month compares
    top: list[Agent] = field(default_factory=list)  # the top fifth, best first
    metrics: list[MetricSplit] = field(default_factory=list)


def top_size(agents: int) -> int:
    """A fifth of ``agents``, rounded up: 1 of 1–5, 2 of 6–10, 20 of 100."""
    return -(-agents // 5)


def top_fifth(team: Team, *, period: Period | None = None) -> TopFifth:
    """The team's top fifth against the rest on its latest approved month (or ``period``, if
    approved); an empty comparison with fewer than two agents."""
    if period is None:
        period = (
            Period.objects.filter(approved_run__statements__team=team)
            .distinct()
            .order_by("-year", "-month")
            .first()
        )
    if period is None or period.approved_run_id is None:
        return TopFifth(period=None, agents=0)
    statements = list(
        Statement.objects.filter(run_id=period.approved_run_id, team=team)
        .select_related("agent")
        .order_by("-weighted_score", "agent__employee_id")
    )
    if len(statements) < 2:
        return TopFifth(period=period, agents=len(statements))
    top_ids = {s.pk for s in statements[: top_size(len(statements))]}
    splits: dict[str, dict] = {}
    lines = StatementLine.objects.filter(
        statement_id__in=[s.pk for s in statements], no_data=False, value__isnull=False
    ).values_list("statement_id", "metric", "direction", "value")
    for statement_id, metric, direction, value in lines.order_by("id"):
        split = splits.setdefault(metric, {"direction": direction, "top": Group(), "rest": Group()})
        side = "top" if statement_id in top_ids else "rest"
        split[side] = split[side].add(value)
    return TopFifth(
        period=period,
        agents=len(statements),
        top=[s.agent for s in statements if s.pk in top_ids],
        metrics=[MetricSplit(metric, **s) for metric, s in splits.items()],
    )
