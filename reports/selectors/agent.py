"""The agent's own page: the month so far, scored live from the data imported until today."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext as _

from calls.metrics import metric
from calls.numbers import MOST_PLACES, rounded
from incentives import selectors as incentive_selectors
from incentives import services
from incentives.models import Agent, Period, PlanVersion
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
