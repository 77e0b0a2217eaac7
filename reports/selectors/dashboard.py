"""The lead's pages: the team's approved statements and alerts, and the dashboard (team → group →
agent → calls) against the targets of the team's plan, with its last days as trends.

Plain data only: the dashboard's table is written by the template ``reports/team_dashboard.html`` and
the tags of ``reports/templatetags/dashboard.py``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from calls.metrics import metric, metric_ratios_by_day, metric_ratios_many, ratio_values, rollup
from calls.months import center_tz, month_bounds
from calls.numbers import Exact, plain
from calls.rational import Rational
from incentives import selectors as incentive_selectors
from incentives.models import Agent, Period, PlanMetric, Statement, Team
from incentives.models import Review as PerformanceReview  # beside the approval's dataclass Review
from incentives.scoring import meets_target
from incentives.services import runs


def latest_approved_period() -> Period | None:
    return (
        Period.objects.filter(approved_run__isnull=False)
        .select_related("approved_run")
        .order_by("-year", "-month")
        .first()
    )


def team_statements(*, team_ids, period: Period | None) -> QuerySet[Statement]:
    """Approved statements of a period for the given teams, ranked by score within the team."""
    if period is None:
        return Statement.objects.none()
    return (
        Statement.objects.filter(team_id__in=team_ids, run=period.approved_run)
        .select_related("agent", "team")
        .order_by("team__code", F("weighted_score").desc(), "agent__employee_id")
    )


def team_alerts(team: Team, *, acknowledged: int = 20) -> list:
    """A team's open alerts, newest first, then its last acknowledged ones (kept, for the record)."""
    from reports.models import Alert

    alerts = Alert.objects.filter(team=team).select_related("rule", "acknowledged_by")
    return [
        *alerts.filter(acknowledged_at__isnull=True),
        *alerts.filter(acknowledged_at__isnull=False)[:acknowledged],
    ]


# --- the lead's dashboard: team → group → agent → calls ----------------------------------------------


WINDOWS = ("today", "week", "month")
TREND_DAYS = 14  # two weeks: each weekday is seen beside the same day a week before
# A cell at or beyond its target in the metric's direction, or short of it.
OK, BELOW = "ok", "below"
MARKS = {OK: "✓", BELOW: "✗", "": "—"}  # shown with the colour: the mark alone must say it


def window_bounds(window: str, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """Today, this week (from Monday) or this month so far, on the center's clock."""
    local = now.astimezone(center_tz())
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if window == "today":
        return midnight, now
    if window == "week":
        return midnight - dt.timedelta(days=local.weekday()), now
    return month_bounds(local.year, local.month)[0], now


# A cell of the dashboard as plain text, escaped where it is written into the page: (CSS class: OK,
# BELOW or "" without data; the mark, the value and its counts, the row's own target), see ``_cells``.
# A bare tuple, not a NamedTuple: 3,000 NamedTuples took 16 ms to build against 0.5 ms for tuples
# (timeit, on the busy benchmark machine), a few per cent of the page.
Cell = tuple[str, str]


@dataclass
class Trend:
    """A row's daily values of the dashboard's trend metric, oldest day first (None: no data), drawn
    over the dashboard's ``days`` by the ``sparkline`` tag."""

    values: Sequence[Exact | None]
    target: Decimal | None


@dataclass
class DashboardRow:
    label: str
    values: list  # a MetricValue per metric of the plan
    targets: list[Decimal]  # per metric: the plan's target, or this month's team or agent override
    marks: list[str]  # per metric: OK, BELOW, or "" when there is no data
    cells: list[Cell]  # per metric, see ``_cells``
    trend: Trend | None = None
    agent: Agent | None = None
    group_id: int | None = None


@dataclass
class Dashboard:
    team: Team
    window: str
    metrics: list  # (code, name, target, direction) of the plan most of the team is on
    team_row: DashboardRow
    groups: list[DashboardRow]
    agents: list[DashboardRow]
    trend_metric: str = ""  # the name of the metric the sparklines draw
    days: list[dt.date] = field(default_factory=list)


def agents_with_own_targets(overrides: dict) -> set[int]:
    """The ids of the agents who have a target of their own this month, among the ``overrides`` that
    ``incentives.services.runs.period_overrides`` returns.

    The one place in the reports that reads the keys of that mapping, and it reads them by position:
    today a key is the tuple ``(metric code, "agent" | "team", id)``. When runs.py gives its keys
    another shape, this is the function to change (``runs.targets_for`` reads the values)."""
    return {key[2] for key in overrides if key[1] == "agent"}


def _mark(value: Rational | None, target: Rational, direction: str) -> str:
    if value is None:
        return ""
    return OK if meets_target(value, target, direction) else BELOW


def _cells(values, marks, targets, column_targets, own: str) -> list[Cell]:
    """Each value with its mark and the counts behind it, and the row's own target where it is not
    the column's (an agent's agreed target; ``own`` says so, translated once for the table). Formatted
    once here, as text: a 500-agent table is thousands of cells, too many for template filters to
    format in time."""
    cells = []
    for v, mark, target, column in zip(values, marks, targets, column_targets, strict=True):
        if v.value is None:
            cells.append(("", MARKS[""]))
            continue
        text = f"{MARKS[mark]} {plain(v.value, 2)} ({v.numerator.normalize():f}/{v.denominator.normalize():f})"
        if target != column:
            text += " · " + own % {"target": f"{target.normalize():f}"}
        cells.append((mark, text))
    return cells


@dataclass
class _TeamPlan:
    """What a team's dashboard reads its agents against today."""

    placements: dict  # agent id → today's placement in the team (its agent and group selected)
    metrics: list[PlanMetric]  # the value lines of the plan most of the team is on
    directions: list[str]  # per metric
    overrides: dict  # this month's targets of the team and its agents (``runs.period_overrides``)
    targets: list[Decimal]  # per metric: the team's target this month


def _team_plan(team: Team, local: dt.datetime) -> _TeamPlan:
    """The agents employed and placed in the team on the center's day, the plan most of them are on,
    and its targets for the month: the plan's, unless HR (or an agreed review) set the team's."""
    today = local.date()
    placements = {
        p.agent_id: p
        for p in incentive_selectors.placements_on(today)
        .filter(team=team, agent__in=Agent.objects.filter(incentive_selectors.employed_on(today)))
        .select_related("agent", "group")
    }
    agents = [p.agent for p in placements.values()]
    resolved = incentive_selectors.plan_resolve(agents, today, placements=placements)
    versions = [found[0] for found in resolved.values() if len(found) == 1]
    version = max(set(versions), key=versions.count) if versions else None
    plan_metrics = [pm for pm in version.metrics.all() if pm.measure == "value"] if version else []
    period = Period.objects.filter(year=local.year, month=local.month).first()
    overrides = runs.period_overrides(period, team_id=team.pk) if period and plan_metrics else {}
    return _TeamPlan(
        placements=placements,
        metrics=plan_metrics,
        directions=[metric(pm.metric).direction for pm in plan_metrics],
        overrides=overrides,
        targets=[runs.targets_for(pm, None, team.pk, overrides).target for pm in plan_metrics],
    )


class _Rows:
    """Makes the dashboard's rows from the ratios of the whole team, read once: the window's per
    metric, and the trend metric's per day. A row adds the counts of its agents."""

    def __init__(self, plan: _TeamPlan, ratios: dict, heaviest, daily: dict, days: list[dt.date]):
        self.plan, self.ratios, self.heaviest, self.daily, self.days = (
            plan,
            ratios,
            heaviest,
            daily,
            days,
        )
        self.trend_index = plan.metrics.index(heaviest) if heaviest is not None else None
        self.own = _("own target %(target)s")
        # Each row's targets as exact numbers, for the marks (exact, as the values): converted once per
        # list, and most rows share the team's. The lists live as long as the rows: their ids stay theirs.
        self.exact_targets: dict[int, list[Rational]] = {}

    def row(self, label: str, ids: list[int], *, targets: list[Decimal], **extra) -> DashboardRow:
        plan, ratios = self.plan, self.ratios
        values = [
            rollup(pm.metric, [ratios[pm.metric][i] for i in ids if i in ratios[pm.metric]])
            for pm in plan.metrics
        ]
        levels = self.exact_targets.get(id(targets))
        if levels is None:
            levels = self.exact_targets[id(targets)] = [Rational.of(target) for target in targets]
        marks = [
            _mark(v.value, level, direction)
            for v, level, direction in zip(values, levels, plan.directions, strict=True)
        ]
        cells = _cells(values, marks, targets, plan.targets, self.own)
        trend = self._trend(ids, targets)
        return DashboardRow(label, values, targets, marks, cells, trend, **extra)

    def _trend(self, ids: list[int], targets: list[Decimal]) -> Trend | None:
        if self.heaviest is None or self.trend_index is None:
            return None
        code, days = self.heaviest.metric, self.days
        by_agent = [self.daily[i] for i in ids if i in self.daily]
        if len(ids) == 1:  # an agent's row: each day's own value, or a gap
            own_days = ratio_values(code, by_agent[0]) if by_agent else {}
            values = [own_days.get(d) for d in days]
        else:
            values = [rollup(code, [a[d] for a in by_agent if d in a]).value for d in days]
        return Trend(values, targets[self.trend_index])


def team_dashboard(
    team: Team, *, window: str, now: dt.datetime, group_id: int | None = None
) -> Dashboard:
    """The team, its groups and its agents against the targets of their plan, over a window, each with
    the last ``TREND_DAYS`` days of the plan's heaviest metric. One query per fact table for all the
    team's agents, and one for their days; groups and the team add their agents' counts.

    Targets are this month's: the plan's, unless HR (or an agreed review) set the team's or an agent's
    for the month — the targets its statements will be scored against."""
    local = now.astimezone(center_tz())
    plan = _team_plan(team, local)
    placements = plan.placements
    start, end = window_bounds(window, now)
    ratios = metric_ratios_many(
        [(pm.metric, pm.metric, pm.params) for pm in plan.metrics],
        agent_ids=list(placements),
        start=start,
        end=end,
    )
    # The sparklines draw the metric that weighs most in the plan (the first of equals).
    heaviest = max(plan.metrics, key=lambda pm: pm.weight, default=None)
    today = local.date()
    days = [today - dt.timedelta(days=back) for back in range(TREND_DAYS - 1, -1, -1)]
    daily: dict = {}
    if heaviest is not None:
        daily = metric_ratios_by_day(
            [("trend", heaviest.metric, heaviest.params)],
            agent_ids=list(placements),
            start=dt.datetime.combine(days[0], dt.time(), center_tz()),
            end=now,
        )["trend"]
    rows = _Rows(plan, ratios, heaviest, daily, days)
    agent_rows = _agent_rows(team, plan, rows, group_id)
    by_group: dict[int, list[int]] = {}
    for agent_id, p in placements.items():
        if p.group_id:
            by_group.setdefault(p.group_id, []).append(agent_id)
    names = {p.group_id: p.group.name for p in placements.values() if p.group_id}
    return Dashboard(
        team=team,
        window=window,
        metrics=[
            (pm.metric, metric(pm.metric).name, target, direction)
            for pm, target, direction in zip(
                plan.metrics, plan.targets, plan.directions, strict=True
            )
        ],
        team_row=rows.row(team.name, list(placements), targets=plan.targets),
        groups=[
            rows.row(names[g], ids, targets=plan.targets, group_id=g)
            for g, ids in sorted(by_group.items(), key=lambda x: names[x[0]])
        ],
        agents=agent_rows,
        trend_metric=metric(heaviest.metric).name if heaviest else "",
        days=days,
    )


def _agent_rows(
    team: Team, plan: _TeamPlan, rows: _Rows, group_id: int | None
) -> list[DashboardRow]:
    """The agents' rows (of one group when ``group_id`` is given) by employee id, each against the
    agent's own targets where the month sets some, else the team's."""
    placements = plan.placements
    shown = sorted(
        (a for a in placements if group_id is None or placements[a].group_id == group_id),
        key=lambda a: placements[a].agent.employee_id,
    )
    with_own = agents_with_own_targets(plan.overrides)
    agent_rows = []
    for a in shown:
        agent = placements[a].agent
        targets = plan.targets
        if a in with_own:
            targets = [
                runs.targets_for(pm, a, team.pk, plan.overrides).target for pm in plan.metrics
            ]
        agent_rows.append(
            rows.row(
                f"{agent.name} ({agent.employee_id})",
                [a],
                targets=targets,
                agent=agent,
                group_id=placements[a].group_id,
            )
        )
    return agent_rows


@dataclass
class TeamReviews:
    """Where a team's interviews about the latest approved month stand, and its open actions."""

    period: Period | None
    stages: list[tuple[object, int]]  # (stage's label, reviews in it), in the interview's order
    overdue: int  # open actions past their date, of any month's review
    due_soon: int  # open actions due from today to ``within_days`` on
    within_days: int


def team_reviews(team: Team, *, user, within_days: int = 7) -> TeamReviews:
    """The review progress on a team's dashboard: the selectors HR's review page reads, for one team."""
    period = latest_approved_period()
    progress = incentive_selectors.reviews_progress(period, team_ids=[team.pk]) if period else []
    counts = progress[0].stages if progress else {}
    actions = incentive_selectors.actions_due(user, within_days=within_days, team_ids=[team.pk])
    today = timezone.localdate()
    return TeamReviews(
        period=period,
        stages=[(label, counts.get(stage, 0)) for stage, label in PerformanceReview.Stage.choices],
        overdue=sum(1 for action in actions if action.due < today),
        due_soon=sum(1 for action in actions if action.due >= today),
        within_days=within_days,
    )


def agent_calls(agent: Agent, *, window: str, now: dt.datetime, limit: int | None = 200):
    """The agent's calls in the window, newest first: the bottom of the drill-down (every one of
    them with ``limit=None``, for a list that pages)."""
    from calls.models import Call

    start, end = window_bounds(window, now)
    calls = Call.objects.filter(agent=agent, started_at__gte=start, started_at__lt=end).order_by(
        "-started_at"
    )
    return calls if limit is None else calls[:limit]
