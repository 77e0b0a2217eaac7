"""Targets: per-period overrides for a team or an agent, and proposals from history."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from django.db import transaction

from calls.errors import Conflict, DomainError
from calls.metrics import DOWN, metric, metric_values
from calls.months import center_tz
from calls.numbers import rounded
from incentives.models import Agent, Period, TargetOverride, Team
from incentives.selectors import agents_in_teams_on
from incentives.validation import ladder_problems

MIN_AGENTS_FOR_PROPOSAL = 3


class TargetInvalid(DomainError):
    """The targets break a rule; the message says which."""


class TargetsClosed(Conflict):
    """The period is closed: its targets can no longer change."""


def target_override_delete_refusal(override: TargetOverride) -> TargetsClosed | None:
    """Why ``override`` may not be deleted, or None: a closed period's targets are history."""
    if override.period.status == Period.Status.CLOSED:
        return TargetsClosed(f"{override.period} is closed: its targets can no longer change.")
    return None


def target_override_delete(*, override: TargetOverride) -> None:
    """Delete a period's override, unless the period is closed (the API and the admin)."""
    with transaction.atomic():
        override.period = Period.objects.select_for_update().get(pk=override.period_id)
        refusal = target_override_delete_refusal(override)
        if refusal is not None:
            raise refusal
        override.delete()


def target_problem(
    metric_code: str, threshold: Decimal, target: Decimal, excellence: Decimal | None
) -> str | None:
    """What is wrong with these targets for this metric, or None: the plan metric's own rule (ordered in
    the metric's direction, within its range), said in one sentence."""
    problems = ladder_problems(metric_code, "value", threshold, target, excellence)
    if not problems:
        return None
    field_name, message = problems[0]
    return f"the {field_name} {message}"


@transaction.atomic
def target_override_set(
    *,
    period: Period,
    metric_code: str,
    threshold: Decimal,
    target: Decimal,
    excellence: Decimal | None = None,
    team: Team | None = None,
    agent: Agent | None = None,
    note: str = "",
    user=None,
) -> TargetOverride:
    """Set a team's or an agent's targets for one metric in a period (replacing earlier ones)."""
    if (team is None) == (agent is None):
        raise TargetInvalid("A target override is for a team or for an agent, exactly one of them.")
    if period.status == Period.Status.CLOSED:
        raise TargetInvalid(f"{period} is closed: its targets can no longer change.")
    problem = target_problem(metric_code, threshold, target, excellence)
    if problem:
        raise TargetInvalid(problem)
    override, _created = TargetOverride.objects.update_or_create(
        period=period,
        metric=metric_code,
        team=team,
        agent=agent,
        defaults={
            "threshold": threshold,
            "target": target,
            "excellence": excellence,
            "note": note,
            "created_by": user,
        },
    )
    override.full_clean()
    return override


@dataclass(frozen=True)
class TargetProposal:
    team: Team
    metric: str
    start: dt.date
    end: dt.date  # exclusive
    agents: int
    threshold: Decimal
    target: Decimal
    excellence: Decimal
    method: str


def _percentile(values: list[Decimal], share: Decimal) -> Decimal:
    """Linear interpolation between closest ranks (the spreadsheet PERCENTILE.INC)."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * share
    lower = int(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def targets_propose(
    *, team: Team, metric_code: str, end: dt.date, weeks: int = 12, params: dict | None = None
) -> TargetProposal:
    """Propose threshold / target / excellence for a team from its agents' last ``weeks`` weeks.

    The field's advice is to derive targets from 12-24 weeks of history. From the agents' values over
    that window: the threshold is what three agents in four reach (25th percentile for a higher-is-better
    metric), the target the median, excellence what the best tenth reach (90th percentile); mirrored for a
    lower-is-better metric. HR accepts or edits the proposal.
    """
    if not 12 <= weeks <= 24:
        raise TargetInvalid("Targets are proposed from 12 to 24 weeks of history.")
    definition = metric(metric_code)
    start = end - dt.timedelta(weeks=weeks)
    tz = center_tz()
    agents = list(
        agents_in_teams_on([team.pk], end - dt.timedelta(days=1)).values_list("pk", flat=True)
    )
    values = [
        value.value
        for value in metric_values(
            metric_code,
            agent_ids=agents,
            start=dt.datetime.combine(start, dt.time(), tz),
            end=dt.datetime.combine(end, dt.time(), tz),
            params=params,
        ).values()
        if value.value is not None
    ]
    if len(values) < MIN_AGENTS_FOR_PROPOSAL:
        raise TargetInvalid(
            f"Only {len(values)} agents of {team} have {definition.name_en} data from {start} to {end}; "
            f"at least {MIN_AGENTS_FOR_PROPOSAL} are needed to propose targets."
        )
    down = definition.direction == DOWN
    low, mid, high = Decimal("0.25"), Decimal("0.5"), Decimal("0.9")
    if down:
        low, high = Decimal("0.75"), Decimal("0.1")
    places = Decimal("0.01")

    def at(share):
        # The agents' values are exact (Fractions): the percentile too, rounded once, to the cent.
        return rounded(_percentile(values, Fraction(share)), 2)

    threshold, target, excellence = at(low), at(mid), at(high)
    # Identical values would give a flat curve: nudge so the ladder still climbs.
    step = places if not down else -places
    if target == threshold:
        target = threshold + step
    if excellence == target or (excellence < target if not down else excellence > target):
        excellence = target + step
    return TargetProposal(
        team=team,
        metric=metric_code,
        start=start,
        end=end,
        agents=len(values),
        threshold=threshold,
        target=target,
        excellence=excellence,
        method="threshold P25, target median, excellence P90 of the agents' values"
        if not down
        else "threshold P75, target median, excellence P10 of the agents' values",
    )
