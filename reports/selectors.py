"""Reads for the dashboards: aggregated in the database, a fixed number of queries per page."""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from django.conf import settings
from django.db.models import Count, F, Max, Q, QuerySet, Sum, Window
from django.db.models.functions import RowNumber
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from calls.metrics import (
    metric,
    metric_ratios_by_day,
    metric_ratios_many,
    ratio_values,
    rollup,
    shown_ratio,
)
from calls.months import center_tz, month_bounds, month_first_last_day, shift_month
from calls.numbers import MOST_PLACES, Exact, plain, rounded
from calls.rational import Rational
from incentives import selectors as incentive_selectors
from incentives import services
from incentives.models import (
    Adjustment,
    Agent,
    Period,
    PlanVersion,
    Run,
    RunChunk,
    Statement,
    StatementLine,
    Team,
)
from incentives.models import Review as PerformanceReview  # the dataclass Review is HR's check
from incentives.money import round_money
from incentives.scoring import meets_target
from incentives.services import runs
from reports.sparklines import Sparklines


def team_totals(runs: list[Run]) -> dict[int, list[dict]]:
    """Per run, per team: agents, payout total, mean weighted score — one query for all the runs. The
    mean is exact (a Fraction: the sum of the statements' scores over their number), rounded only where
    it is shown, once."""
    rows = (
        Statement.objects.filter(run__in=runs)
        .values("run_id", "team__code", "team__name", "currency")
        .annotate(agents=Count("id"), total=Sum("amount"), score=Sum("weighted_score"))
        .order_by("run_id", "team__code")
    )
    totals: dict[int, list[dict]] = {}
    for row in rows:
        # SQLite sums decimals as floats: the money as PostgreSQL gives it.
        row["total"] = round_money(row["total"], row["currency"])
        row["mean_score"] = Fraction(row.pop("score")) / row["agents"]
        totals.setdefault(row["run_id"], []).append(row)
    return totals


def run_problems(runs: list[Run]) -> dict[int, list[RunChunk]]:
    """Per run, the chunks that left something for HR to fix (no plan, two plans) or failed."""
    problems: dict[int, list[RunChunk]] = {}
    for chunk in (
        RunChunk.objects.filter(run__in=runs).exclude(problem="").prefetch_related("teams")
    ):
        problems.setdefault(chunk.run_id, []).append(chunk)
    return problems


def latest_approved_period() -> Period | None:
    return (
        Period.objects.filter(approved_run__isnull=False)
        .select_related("approved_run")
        .order_by("-year", "-month")
        .first()
    )


def paying_run(period: Period) -> Run | None:
    """The run that speaks for a month: the approved one, else the latest finished one (what-if, the
    comparison of plans, the scores across months). Reads the period's runs from a prefetch
    (``periods_with_runs``) when there is one."""
    if period.approved_run_id is not None:
        return period.approved_run
    done = (run for run in period.runs.all() if run.status == Run.Status.DONE)
    return max(done, key=lambda run: run.number, default=None)


def team_statements(*, team_ids, period: Period | None) -> QuerySet[Statement]:
    """Approved statements of a period for the given teams, ranked by score within the team."""
    if period is None:
        return Statement.objects.none()
    return (
        Statement.objects.filter(team_id__in=team_ids, run=period.approved_run)
        .select_related("agent", "team")
        .order_by("team__code", F("weighted_score").desc(), "agent__employee_id")
    )


# --- before approval: the review, the comparison of two runs, what-if ------------------------------

SCORE_BANDS = ((Decimal(0), Decimal(60)), (Decimal(60), Decimal(85)), (Decimal(85), Decimal(100)),
               (Decimal(100), Decimal(120)), (Decimal(120), None))  # fmt: skip
LARGEST_CHANGES = 10


def band_label(low: Decimal, high: Decimal | None) -> str:
    return f"{low:.0f}–{high:.0f}" if high is not None else f"≥ {low:.0f}"


def score_distribution(runs: list[Run]) -> dict[int, list[tuple[str, int]]]:
    """Per run, how many statements fall in each band of weighted score (``SCORE_BANDS``, a band
    holding its lower bound): one query for all the runs, counted in the database."""
    counts = {}
    for n, (low, high) in enumerate(SCORE_BANDS):
        condition = Q(weighted_score__gte=low)
        if high is not None:
            condition &= Q(weighted_score__lt=high)
        counts[f"band{n}"] = Count("id", filter=condition)
    found = {
        row["run_id"]: row
        for row in Statement.objects.filter(run__in=runs)
        .values("run_id")
        .annotate(**counts)
        .order_by()
    }
    return {
        run.pk: [
            (band_label(low, high), found.get(run.pk, {}).get(f"band{n}", 0))
            for n, (low, high) in enumerate(SCORE_BANDS)
        ]
        for run in runs
    }


@dataclass
class TeamTotal:
    team: Team
    agents: int
    total: Decimal
    budget: Decimal | None

    @property
    def over_budget(self) -> Decimal | None:
        return None if self.budget is None else self.total - self.budget


@dataclass
class Change:
    statement: Statement
    previous: Decimal

    @property
    def delta(self) -> Decimal:
        return self.statement.amount - self.previous


@dataclass
class Review:
    """What HR looks at before approving a run (issue: approval)."""

    period: Period
    run: Run
    previous: Period | None
    total: Decimal
    teams: list[TeamTotal]
    bands: list[tuple[str, int]]
    changes: list[Change]
    gated: list[Statement]
    no_data: list[Statement]
    problems: list[RunChunk]
    unpaid_adjustments: list[Adjustment]
    currency: str  # of the run's statements (a company pays in one)


def _previous_period(period: Period) -> Period | None:
    year, month = shift_month(period.year, period.month, -1)
    return Period.objects.filter(year=year, month=month, approved_run__isnull=False).first()


def approval_review(*, period: Period, run: Run) -> Review:
    """Totals per team against budget, the distribution of scores, the largest changes from last
    month's approved run, the agents who hit a gate, those with no plan or no data, and adjustments no
    statement paid. A fixed number of queries, whatever the number of agents."""
    statements = list(
        Statement.objects.filter(run=run)
        .select_related("agent", "team")
        .prefetch_related("gates_hit", "lines")
        .order_by("team__code", "agent__employee_id")
    )
    teams: dict[int, TeamTotal] = {}
    for s in statements:
        row = teams.setdefault(s.team_id, TeamTotal(s.team, 0, Decimal(0), s.team.monthly_budget))
        row.agents += 1
        row.total += s.amount
    bands = score_distribution([run])[run.pk]
    previous = _previous_period(period)
    before = (
        dict(
            Statement.objects.filter(run_id=previous.approved_run_id).values_list(
                "agent_id", "amount"
            )
        )
        if previous
        else {}
    )
    changes = sorted(
        (
            Change(s, before[s.agent_id])
            for s in statements
            if before.get(s.agent_id, s.amount) != s.amount
        ),
        key=lambda c: (-abs(c.delta), c.statement.agent.employee_id),
    )[:LARGEST_CHANGES]
    paid = {s.agent_id for s in statements}
    return Review(
        period=period, run=run, previous=previous, total=sum((s.amount for s in statements), Decimal(0)),
        teams=list(teams.values()), bands=bands, changes=changes,
        gated=[s for s in statements if s.gates_hit.all()],
        no_data=[s for s in statements if any(line.no_data for line in s.lines.all())],
        problems=run_problems([run]).get(run.pk, []),
        unpaid_adjustments=[
            a for a in Adjustment.objects.filter(period=period).select_related("agent", "corrects")
            if a.agent_id not in paid
        ],
        currency=statements[0].currency if statements else settings.CURRENCY,
    )  # fmt: skip


@dataclass
class Difference:
    """One agent's statements in two runs, and why they differ: data, plan, targets, adjustments."""

    agent: Agent
    before: Statement | None
    after: Statement | None
    reasons: list[str] = field(default_factory=list)

    @property
    def currency(self) -> str:
        return (self.after or self.before).currency

    @property
    def delta(self) -> Decimal:
        return (self.after.amount if self.after else Decimal(0)) - (
            self.before.amount if self.before else Decimal(0)
        )


def _targets_of(statement: Statement) -> list[tuple]:
    return [
        (line.metric, line.threshold, line.target, line.excellence)
        for line in statement.lines.all()
    ]


def _facts_of(statement: Statement) -> object:
    """The fingerprint, or (for statements older than fingerprints) the sums on the lines."""
    if statement.facts_fingerprint:
        return statement.facts_fingerprint
    return [(line.metric, line.numerator, line.denominator) for line in statement.lines.all()]


def runs_compare(*, before: Run, after: Run) -> list[Difference]:
    """What changed between two runs of a period and why, largest change first; agents whose
    statements are the same in both are left out."""
    statements = (
        Statement.objects.filter(run__in=[before, after])
        .select_related("agent", "plan_version__plan")
        .prefetch_related("lines", "adjustment_lines")
    )
    pairs: dict[int, Difference] = {}
    for s in statements:
        row = pairs.setdefault(s.agent_id, Difference(s.agent, None, None))
        if s.run_id == before.pk:
            row.before = s
        else:
            row.after = s
    differences = []
    for row in pairs.values():
        a, b = row.before, row.after
        if a is None or b is None:
            row.reasons.append(
                _("only in run v%(n)s") % {"n": (after if a is None else before).number}
            )
        else:
            if a.plan_version_id != b.plan_version_id:
                row.reasons.append(
                    _("plan: %(a)s → %(b)s") % {"a": a.plan_version, "b": b.plan_version}
                )
            if _facts_of(a) != _facts_of(b):
                row.reasons.append(_("data"))
            if _targets_of(a) != _targets_of(b):
                row.reasons.append(_("targets"))
            if a.adjustments != b.adjustments:
                row.reasons.append(_("adjustments"))
        if row.reasons or row.delta:
            differences.append(row)
    return sorted(differences, key=lambda d: (-abs(d.delta), d.agent.employee_id))


@dataclass
class WhatIf:
    """A plan version run over a past month's data, beside what was really paid. Nothing is written."""

    version: PlanVersion
    period: Period
    compared_with: Run | None
    rows: list[Difference]
    problems: list[str]

    @property
    def real_total(self) -> Decimal:
        return sum((r.before.amount for r in self.rows if r.before), Decimal(0))

    @property
    def whatif_total(self) -> Decimal:
        return sum((r.after.amount for r in self.rows if r.after), Decimal(0))

    @property
    def winners(self) -> list[Difference]:
        return [r for r in self.rows if r.delta > 0]

    @property
    def losers(self) -> list[Difference]:
        return sorted((r for r in self.rows if r.delta < 0), key=lambda r: r.delta)


def whatif(*, version: PlanVersion, period: Period) -> WhatIf:
    """Score the agents in the version's scope (on the month's last day, or a leaver's last working
    day) under it, with the month's data and targets, and set the result beside their real statements
    (the approved run, else the latest finished one). Scoring is the same function that writes
    statements; here its results are only shown."""
    first_day, last_day = month_first_last_day(period.year, period.month)
    compared = paying_run(period)
    real = {}
    if compared is not None:
        real = {
            s.agent_id: s for s in Statement.objects.filter(run=compared).select_related("agent")
        }
    placements: dict = {}  # each agent's placement on the day their month is attributed to
    roster = incentive_selectors.period_roster(first_day, last_day, placements_out=placements)
    overrides = runs.period_overrides(period)
    problems: list[str] = []
    scope = incentive_selectors.version_scope(version)  # read once, not per agent
    team_of = {
        agent.pk: team_id
        for team_id, agents in roster.items()
        for agent in agents
        if incentive_selectors.scope_applies(
            **scope, agent=agent, placement=placements.get(agent.pk)
        )
    }
    in_scope = [agent for agents in roster.values() for agent in agents if agent.pk in team_of]
    rows = []
    for one in services.score_agents(
        version=version, agents=in_scope, team_of=team_of, year=period.year, month=period.month,
        overrides=overrides, problems=problems,
    ):  # fmt: skip
        before = real.get(one.agent.pk)
        # The month's corrections of earlier months are paid whatever the plan: the real statement's
        # adjustments go on the simulated amount too, so only the plan makes the difference.
        corrections = before.adjustments if before is not None else Decimal(0)
        # The score as a statement would keep it (rounded from the exact one for display only).
        simulated = Statement(
            agent=one.agent, team_id=one.team_id, plan_version=version, currency=version.currency,
            weighted_score=rounded(one.result.weighted_score, MOST_PLACES),
            amount=one.result.amount + corrections,
        )  # fmt: skip
        rows.append(Difference(one.agent, before, simulated))
    rows.sort(key=lambda r: (-abs(r.delta), r.agent.employee_id))
    return WhatIf(
        version=version, period=period, compared_with=compared, rows=rows, problems=problems
    )


# --- HR's overview across months: the scores, the plans compared -------------------------------------


@dataclass
class ScoreMonth:
    period: Period
    run: Run
    bands: list[tuple[str, int]]  # (label, agents) per band of SCORE_BANDS

    @property
    def agents(self) -> int:
        return sum(count for _label, count in self.bands)


def score_months(periods: list[Period]) -> list[ScoreMonth]:
    """The distribution of weighted scores month by month, oldest first: the approved run of each
    period, or its latest finished one before approval; one query for all the months."""
    runs = {period.pk: paying_run(period) for period in periods}
    bands = score_distribution([run for run in runs.values() if run is not None])
    months = [
        ScoreMonth(period, runs[period.pk], bands[runs[period.pk].pk])
        for period in periods
        if runs[period.pk] is not None
    ]
    return sorted(months, key=lambda m: (m.period.year, m.period.month))


@dataclass
class PlanRow:
    """The agents one plan version paid in a run, summed up."""

    version: PlanVersion
    currency: str
    agents: int
    teams: int
    mean_score: Fraction  # exact, of the statements' weighted scores: rounded where shown
    median_score: Fraction
    mean_payout: Decimal
    total: Decimal
    values: list  # a MetricValue (or None: not measured on the agents) per metric of the comparison


@dataclass
class PlanComparison:
    period: Period
    run: Run | None
    metrics: list[tuple[str, str]]  # (code, name) of the metrics the plans share
    rows: list[PlanRow]


def _medians(run: Run) -> dict[int, Fraction]:
    """The median weighted score per plan version, in one query that returns only the middle one or
    two statements of each version (rows numbered by score within the version, then the middle kept:
    of n rows, those with n ≤ 2 × row ≤ n + 2), whatever the number of agents."""
    middle = (
        Statement.objects.filter(run=run)
        .annotate(
            position=Window(RowNumber(), partition_by=[F("plan_version_id")],
                            order_by=[F("weighted_score").asc(), F("id").asc()]),
            in_version=Window(Count("id"), partition_by=[F("plan_version_id")]),
        )
        .annotate(twice=F("position") * 2)
        .filter(twice__gte=F("in_version"), twice__lte=F("in_version") + 2)
        .values_list("plan_version_id", "weighted_score")
    )  # fmt: skip
    scores: dict[int, list[Decimal]] = {}
    for version_id, score in middle:
        scores.setdefault(version_id, []).append(score)
    return {
        version_id: Fraction(sum(found, Decimal(0))) / len(found)
        for version_id, found in scores.items()
    }


def plan_comparison(*, period: Period) -> PlanComparison:
    """The plan versions that pay in a month's run (the approved one, else the latest finished one)
    side by side: agents, teams, mean and median weighted score, mean and total payout, and the value
    of each metric that more than one of them measures — so a pilot team on a new plan reads against
    the others. A metric's value is the field's rule for a group, the sums of its agents' counts
    (``calls.metrics.rollup``: 1,000 answered of 1,100 offered), never a mean of their rates; only
    lines measured on the agent count, since a team-measured line carries the whole team's counts,
    agents on other plans included. A fixed number of queries, whatever the number of agents."""
    run = paying_run(period)
    if run is None:
        return PlanComparison(period, None, [], [])
    totals = list(
        Statement.objects.filter(run=run)
        .values("plan_version_id", "currency")
        .annotate(agents=Count("id"), teams=Count("team_id", distinct=True),
                  score=Sum("weighted_score"), total=Sum("amount"))
        .order_by()
    )  # fmt: skip
    versions = (
        PlanVersion.objects.select_related("plan")
        .prefetch_related("metrics")
        .in_bulk([row["plan_version_id"] for row in totals])
    )
    measured: dict[str, int] = {}  # metric code → how many versions measure it
    for version in versions.values():
        for code in {pm.metric for pm in version.metrics.all()}:
            measured[code] = measured.get(code, 0) + 1
    shared = [code for code, n in measured.items() if n > 1 or len(versions) == 1]
    shared.sort(key=lambda code: (-measured[code], metric(code).name))
    sums = {
        (row["statement__plan_version_id"], row["metric"]): shown_ratio(
            row["metric"], row["numerator"], row["denominator"]
        )
        for row in StatementLine.objects.filter(statement__run=run, scope="agent", metric__in=shared)
        .values("statement__plan_version_id", "metric")
        .annotate(numerator=Sum("numerator"), denominator=Sum("denominator"))
        .order_by()
    }  # fmt: skip
    medians = _medians(run)
    rows = []
    for row in totals:
        version, n = versions[row["plan_version_id"]], row["agents"]
        rows.append(PlanRow(
            version=version, currency=row["currency"], agents=n, teams=row["teams"],
            mean_score=Fraction(row["score"]) / n,
            median_score=medians[version.pk],
            mean_payout=round_money(row["total"] / n, row["currency"]),
            total=round_money(row["total"], row["currency"]),
            values=[
                rollup(code, [sums[version.pk, code]]) if (version.pk, code) in sums else None
                for code in shared
            ],
        ))  # fmt: skip
    rows.sort(
        key=lambda r: (-r.agents, r.version.plan.code, r.version.number)
    )  # the main plan first
    return PlanComparison(period, run, [(code, metric(code).name) for code in shared], rows)


# --- leaderboards and recognition --------------------------------------------------------------------


@dataclass
class Ranked:
    rank: int  # competition ranking: two agents tied for first are both 1, the next is 3
    agent: Agent
    team: Team
    score: Exact  # the weighted score, or its exact mean over the quarter's approved months
    months: int = 1


def _ranked(rows: list[tuple[Agent, Team, Exact, int]]) -> list[Ranked]:
    ordered = sorted(rows, key=lambda r: (-r[2], r[0].employee_id))
    ranked, previous, rank = [], None, 0
    for position, (agent, team, score, months) in enumerate(ordered, start=1):
        if score != previous:
            rank, previous = position, score
        ranked.append(Ranked(rank, agent, team, score, months))
    return ranked


def best_of_month(period: Period) -> list[Ranked]:
    """The best agent(s) of an approved month: the highest weighted score; a tie names each of them."""
    if period.approved_run_id is None:
        return []
    statements = Statement.objects.filter(run_id=period.approved_run_id).select_related(
        "agent", "team"
    )
    ranked = _ranked([(s.agent, s.team, s.weighted_score, 1) for s in statements])
    return [r for r in ranked if r.rank == 1]


def quarter_top(year: int, quarter: int, *, top: int = 3) -> list[Ranked]:
    """The quarter's top agents by their mean weighted score over its approved months (every agent with
    a statement in at least one of them); ties at the cut-off are all in."""
    months = [3 * (quarter - 1) + m for m in (1, 2, 3)]
    periods = Period.objects.filter(year=year, month__in=months, approved_run__isnull=False)
    rows = (
        Statement.objects.filter(run_id__in=periods.values("approved_run_id"))
        .values("agent_id", "team_id")
        .annotate(score=Sum("weighted_score"), months=Count("id"))
        .order_by()
    )
    rows = list(rows)
    agents = Agent.objects.in_bulk([r["agent_id"] for r in rows])
    teams = Team.objects.in_bulk([r["team_id"] for r in rows])
    # An agent who moved team within the quarter: one entry, under the team of most of their months.
    merged: dict[int, list] = {}
    for r in sorted(rows, key=lambda r: -r["months"]):
        entry = merged.setdefault(
            r["agent_id"], [agents[r["agent_id"]], teams[r["team_id"]], Fraction(0), 0]
        )
        entry[2] += Fraction(r["score"])
        entry[3] += r["months"]
    # The mean of the stored scores, exact: ranked on it, rounded only where it is shown.
    ranked = _ranked([
        (agent, team, total / count, count) for agent, team, total, count in merged.values()
    ])  # fmt: skip
    return [r for r in ranked if r.rank <= top]


@dataclass
class Recognition:
    period: str  # "2026-10" or "2026 Q4"
    rank: int
    kind: str  # "month": best agent of the month; "quarter": the quarter's top 3
    order: tuple = ()  # (year, month): a quarter after its last month


def recognitions(agent: Agent, *, months: int = 12) -> list[Recognition]:
    """The agent's places on the leaderboards of the last ``months`` approved months, newest first:
    best agent of a month (ties share it), and the top 3 of a quarter (from its approved months)."""
    periods = list(
        Period.objects.filter(approved_run__isnull=False).order_by("-year", "-month")[:months]
    )
    runs_of = [p.approved_run_id for p in periods]
    best = dict(
        Statement.objects.filter(run_id__in=runs_of)
        .values("run_id")
        .annotate(top=Max("weighted_score"))
        .values_list("run_id", "top")
    )
    mine = dict(
        Statement.objects.filter(run_id__in=runs_of, agent=agent).values_list(
            "run_id", "weighted_score"
        )
    )
    found = []
    quarters: dict[tuple[int, int], None] = {}
    for p in periods:
        if p.approved_run_id in mine:
            quarters[(p.year, (p.month - 1) // 3 + 1)] = None
            if mine[p.approved_run_id] == best.get(p.approved_run_id):
                found.append(Recognition(str(p), 1, "month", (p.year, p.month, 0)))
    for year, quarter in quarters:  # a handful: at most one per three months shown
        for ranked in quarter_top(year, quarter):
            if ranked.agent.pk == agent.pk:
                found.append(
                    Recognition(
                        f"{year} Q{quarter}", ranked.rank, "quarter", (year, quarter * 3, 1)
                    )
                )
    return sorted(found, key=lambda r: r.order, reverse=True)


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


@dataclass
class Trend:
    """A row's daily values of the dashboard's trend metric, oldest day first (None: no data)."""

    values: list[Decimal | None]
    target: Decimal | None
    lines: Sparklines  # shared by the table's rows: the days and the metric's name

    @property
    def svg(self) -> SafeString:
        return self.lines.svg(self.values, target=self.target)


@dataclass
class DashboardRow:
    label: str
    values: list  # a MetricValue per metric of the plan
    targets: list[Decimal]  # per metric: the plan's target, or this month's team or agent override
    marks: list[str]  # per metric: OK, BELOW, or "" when there is no data
    cells: list[tuple[str, str]]  # per metric: (CSS class, text), see ``_cells``
    trend: Trend | None = None
    agent: Agent | None = None
    group_id: int | None = None

    @property
    def tds(self) -> SafeString:
        """The cells as ``<td>`` elements, joined here rather than in a template loop: a 500-agent
        table is 3,000 of them."""
        # The texts are numbers, marks and the escaped words of ``_cells``; the classes OK, BELOW or "".
        return mark_safe("".join(f'<td class="{css}">{text}</td>' for css, text in self.cells))  # noqa: S308


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


def _mark(value: Rational | None, target: Rational, direction: str) -> str:
    if value is None:
        return ""
    return OK if meets_target(value, target, direction) else BELOW


def _cells(values, marks, targets, column_targets, own: str) -> list[tuple[str, str]]:
    """Each value with its mark and the counts behind it, and the row's own target where it is not
    the column's (an agent's agreed target; ``own`` says so, translated and escaped once for the
    table): numbers and words that are safe in HTML as they are. Formatted once here: a 500-agent
    table is thousands of cells, too many for template filters to format in time."""
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


def team_dashboard(
    team: Team, *, window: str, now: dt.datetime, group_id: int | None = None
) -> Dashboard:
    """The team, its groups and its agents against the targets of their plan, over a window, each with
    the last ``TREND_DAYS`` days of the plan's heaviest metric. One query per fact table for all the
    team's agents, and one for their days; groups and the team add their agents' counts.

    Targets are this month's: the plan's, unless HR (or an agreed review) set the team's or an agent's
    for the month — the targets its statements will be scored against."""
    local = now.astimezone(center_tz())
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
    directions = [metric(pm.metric).direction for pm in plan_metrics]
    team_targets = [runs.targets_for(pm, None, team.pk, overrides).target for pm in plan_metrics]
    metrics = [
        (pm.metric, metric(pm.metric).name, target, direction)
        for pm, target, direction in zip(plan_metrics, team_targets, directions, strict=True)
    ]
    start, end = window_bounds(window, now)
    ratios = metric_ratios_many(
        [(pm.metric, pm.metric, pm.params) for pm in plan_metrics],
        agent_ids=list(placements),
        start=start,
        end=end,
    )
    # The sparklines draw the metric that weighs most in the plan (the first of equals).
    heaviest = max(plan_metrics, key=lambda pm: pm.weight, default=None)
    trend_index = plan_metrics.index(heaviest) if heaviest else None
    days = [today - dt.timedelta(days=back) for back in range(TREND_DAYS - 1, -1, -1)]
    daily, lines = {}, None
    if heaviest is not None:
        lines = Sparklines(days, name=metric(heaviest.metric).name)
        daily = metric_ratios_by_day(
            [("trend", heaviest.metric, heaviest.params)],
            agent_ids=list(placements),
            start=dt.datetime.combine(days[0], dt.time(), center_tz()),
            end=now,
        )["trend"]

    own = html.escape(_("own target %(target)s"))
    # Each row's targets as exact numbers, for the marks (exact, as the values): converted once per list,
    # and most rows share the team's. The lists live as long as the rows: their ids stay theirs.
    exact_targets: dict[int, list[Rational]] = {}

    def row(label, ids, *, targets, **extra) -> DashboardRow:
        values = [
            rollup(pm.metric, [ratios[pm.metric][i] for i in ids if i in ratios[pm.metric]])
            for pm in plan_metrics
        ]
        levels = exact_targets.get(id(targets))
        if levels is None:
            levels = exact_targets[id(targets)] = [Rational.of(target) for target in targets]
        marks = [
            _mark(v.value, level, direction)
            for v, level, direction in zip(values, levels, directions, strict=True)
        ]
        trend = None
        if heaviest is not None:
            code, by_agent = heaviest.metric, [daily[i] for i in ids if i in daily]
            if len(ids) == 1:  # an agent's row: each day's own value, or a gap
                own_days = ratio_values(code, by_agent[0]) if by_agent else {}
                trend_values = [own_days.get(d) for d in days]
            else:
                trend_values = [
                    rollup(code, [a[d] for a in by_agent if d in a]).value for d in days
                ]
            trend = Trend(trend_values, targets[trend_index], lines)
        cells = _cells(values, marks, targets, team_targets, own)
        return DashboardRow(label, values, targets, marks, cells, trend, **extra)

    by_group: dict[int, list[int]] = {}
    for agent_id, p in placements.items():
        if p.group_id:
            by_group.setdefault(p.group_id, []).append(agent_id)
    names = {p.group_id: p.group.name for p in placements.values() if p.group_id}
    shown = sorted(
        (a for a in placements if group_id is None or placements[a].group_id == group_id),
        key=lambda a: placements[a].agent.employee_id,
    )
    # The keys of period_overrides are (metric, "agent" | "team", id): who has a target of their own.
    with_own = {key[2] for key in overrides if key[1] == "agent"}
    agent_rows = []
    for a in shown:
        agent = placements[a].agent
        targets = team_targets
        if a in with_own:
            targets = [runs.targets_for(pm, a, team.pk, overrides).target for pm in plan_metrics]
        agent_rows.append(
            row(f"{agent.name} ({agent.employee_id})", [a], targets=targets, agent=agent,
                group_id=placements[a].group_id)
        )  # fmt: skip
    return Dashboard(
        team=team,
        window=window,
        metrics=metrics,
        team_row=row(team.name, list(placements), targets=team_targets),
        groups=[
            row(names[g], ids, targets=team_targets, group_id=g)
            for g, ids in sorted(by_group.items(), key=lambda x: names[x[0]])
        ],
        agents=agent_rows,
        trend_metric=metric(heaviest.metric).name if heaviest else "",
        days=days,
    )


@dataclass
class TeamReviews:
    """Where a team's interviews about the latest approved month stand, and its open actions."""

    period: Period | None
    stages: list[tuple[str, int]]  # (stage's label, reviews in it), in the interview's order
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


def agent_calls(agent: Agent, *, window: str, now: dt.datetime, limit: int = 200):
    """The agent's calls in the window, newest first: the bottom of the drill-down."""
    from calls.models import Call

    start, end = window_bounds(window, now)
    return Call.objects.filter(agent=agent, started_at__gte=start, started_at__lt=end).order_by(
        "-started_at"
    )[:limit]


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
        version=version, agents=[agent], team_of={agent.pk: placement.team_id}, year=day.year,
        month=day.month, overrides=overrides, problems=problems,
    )  # fmt: skip
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
        so_far.lines.append(SoFarLine(
            name=metric(pm.metric).name,
            value=None if line.value is None else rounded(line.value, MOST_PLACES),
            numerator=measured.numerator if measured else Decimal(0),
            denominator=measured.denominator if measured else Decimal(0),
            direction=line.rule.direction, target=targets.target,
            score=rounded(line.score, MOST_PLACES), weight=rounded(line.effective_weight, MOST_PLACES),
            points=rounded(line.points, MOST_PLACES), no_data=line.no_data,
        ))  # fmt: skip
    return so_far


def team_rank(statement: Statement) -> tuple[int, int]:
    """(rank, agents) of a statement in its team for its run by weighted score; agents tied share a rank."""
    same = Statement.objects.filter(run_id=statement.run_id, team_id=statement.team_id)
    ahead = same.filter(weighted_score__gt=statement.weighted_score).count()
    return ahead + 1, same.count()
