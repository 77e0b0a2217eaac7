"""The agent's own page: the month so far, scored live from the data imported until today; each line of
their statements with its questions, and the calls behind it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Prefetch, QuerySet, prefetch_related_objects
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from calls.metrics import metric
from calls.models import Call
from calls.months import month_bounds
from calls.numbers import MOST_PLACES, rounded
from incentives import selectors as incentive_selectors
from incentives import services
from incentives.models import (
    Agent,
    Dispute,
    Period,
    PlanMetric,
    PlanVersion,
    Statement,
    StatementLine,
)
from incentives.services import runs


@dataclass
class SoFarLine:
    """A line of the month so far, its figures as a statement would keep them (``StatementLine``)."""

    name: str
    value: Decimal | None
    numerator: Decimal
    denominator: Decimal
    direction: str
    target: Decimal
    score: Decimal
    weight: Decimal
    points: Decimal
    no_data: bool


@dataclass
class MonthSoFar:
    """The agent's month as the data imported so far would pay it: provisional, never stored."""

    year: int
    month: int
    through: dt.date
    version: PlanVersion | None = None
    lines: list[SoFarLine] = field(default_factory=list)
    weighted_score: Decimal | None = None
    amount: Decimal | None = None
    currency: str = ""
    problem: str = ""

    @property
    def label(self) -> str:
        return f"{self.year}-{self.month:02d}"


def month_so_far(agent: Agent, *, day: dt.date) -> MonthSoFar | None:
    """The month of ``day`` scored live for one agent, with the plan and targets in force that day and
    the facts imported so far (the same scoring as a run, writing nothing). None once the month is
    approved: its statement says it all."""
    period = Period.objects.filter(year=day.year, month=day.month).first()
    if period is not None and period.approved_run_id is not None:
        return None
    so_far = MonthSoFar(year=day.year, month=day.month, through=day)
    placement = incentive_selectors.placement_map([agent.pk], day).get(agent.pk)
    if placement is None:
        so_far.problem = _("You are not placed in a team today.")
        return so_far
    versions = incentive_selectors.plan_resolve([agent], day, placements={agent.pk: placement})
    found = versions.get(agent.pk, [])
    if len(found) != 1:
        so_far.problem = _("No single plan applies to you today; HR has been told.")
        return so_far
    version = found[0]
    problems: list[str] = []
    overrides = runs.period_overrides(period, team_id=placement.team_id) if period else {}
    scored = services.score_agents(
        version=version,
        agents=[agent],
        team_of={agent.pk: placement.team_id},
        year=day.year,
        month=day.month,
        overrides=overrides,
        problems=problems,
    )
    if not scored:
        so_far.problem = " ".join(problems)
        return so_far
    one = scored[0]
    so_far.version, so_far.currency = version, version.currency
    # What a run would keep of the exact results (rounded to MOST_PLACES), so the page reads them
    # as it reads a statement and the approved month's statement shows the same figures.
    so_far.weighted_score = rounded(one.result.weighted_score, MOST_PLACES)
    so_far.amount = one.result.amount
    for line, pm, targets in zip(one.result.lines, one.plan_metrics, one.targets, strict=True):
        measured = one.measured.get(line.rule.code)
        so_far.lines.append(
            SoFarLine(
                name=metric(pm.metric).name,
                value=None if line.value is None else rounded(line.value, MOST_PLACES),
                numerator=measured.numerator if measured else Decimal(0),
                denominator=measured.denominator if measured else Decimal(0),
                direction=line.rule.direction,
                target=targets.target,
                score=rounded(line.score, MOST_PLACES),
                weight=rounded(line.effective_weight, MOST_PLACES),
                points=rounded(line.points, MOST_PLACES),
                no_data=line.no_data,
            )
        )
    return so_far


def with_questions(statement: Statement) -> Statement:
    """The statement, each of its lines with its questions newest first (``line.disputes.all``): one
    query whatever the lines, for My pay to show a line's question, or the button to ask one."""
    prefetch_related_objects(
        [statement], Prefetch("lines__disputes", queryset=Dispute.objects.order_by("-created_at"))
    )
    return statement


def own_line(user, line_id: int) -> StatementLine:
    """A line of one of the user's own statements that they may see (``statements_visible_to``, then
    their own agent's only: a lead who is also an agent sees their team's statements, never its
    calls), with what questioning it reads; 404 for any other line, whoever's it is (no leak of
    which)."""
    agent = incentive_selectors.agent_of_user(user)
    own = (
        incentive_selectors.statements_visible_to(user).filter(agent=agent)
        if agent is not None
        else Statement.objects.none()
    )
    lines = StatementLine.objects.select_related("statement__run__period", "statement__agent")
    return get_object_or_404(
        lines, pk=line_id, statement__in=own.prefetch_related(None).values("pk")
    )


@dataclass(frozen=True)
class LineCalls:
    """The calls behind one line of a statement: the statement's agent's own, of its month."""

    line: StatementLine
    calls: QuerySet[Call]  # oldest first, as the month went
    counted: bool  # exactly the calls the line's metric counts (``MetricDefinition.calls_behind``)
    queue: str  # the queue the plan's metric is measured on; "" for every queue

    @property
    def statement(self) -> Statement:
        return self.line.statement


def line_calls(line: StatementLine) -> LineCalls:
    """The calls behind ``line``: the agent's calls of the statement's month that its metric counts,
    with the parameters the plan measured it with (its queue, its thresholds in seconds). Never
    anyone else's: a team line lists the agent's own part of the team's calls."""
    statement = line.statement
    period = statement.run.period
    params = (
        PlanMetric.objects.filter(
            version_id=statement.plan_version_id,
            metric=line.metric,
            measure=line.measure,
            scope=line.scope,
        )
        .values_list("params", flat=True)
        .first()
    ) or {}
    condition, counted = metric(line.metric).calls_behind(params)
    start, end = month_bounds(period.year, period.month)
    calls = Call.objects.filter(
        condition, agent_id=statement.agent_id, started_at__gte=start, started_at__lt=end
    ).order_by("started_at", "pk")
    return LineCalls(line=line, calls=calls, counted=counted, queue=str(params.get("queue") or ""))
