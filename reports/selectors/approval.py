"""HR's pages around a run: the totals and problems of runs (the overview), the review before approval,
the comparison of two runs, what-if, and the scores and plans compared across months."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from django.conf import settings
from django.db.models import Count, F, Q, Sum, Window
from django.db.models.functions import RowNumber
from django.utils.translation import gettext as _

from calls.metrics import metric, rollup, shown_ratio
from calls.months import month_first_last_day, shift_month
from calls.numbers import MOST_PLACES, rounded
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
from incentives.money import round_money
from incentives.services import runs


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


def paying_run(period: Period) -> Run | None:
    """The run that speaks for a month: the approved one, else the latest finished one (what-if, the
    comparison of plans, the scores across months). Reads the period's runs from a prefetch
    (``periods_with_runs``) when there is one."""
    if period.approved_run_id is not None:
        return period.approved_run
    done = (run for run in period.runs.all() if run.status == Run.Status.DONE)
    return max(done, key=lambda run: run.number, default=None)


# --- before approval: the review, the comparison of two runs, what-if ------------------------------

SCORE_BANDS = (
    (Decimal(0), Decimal(60)),
    (Decimal(60), Decimal(85)),
    (Decimal(85), Decimal(100)),
    (Decimal(100), Decimal(120)),
    (Decimal(120), None),
)
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
        if previous and previous.approved_run_id is not None
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
        period=period,
        run=run,
        previous=previous,
        total=sum((s.amount for s in statements), Decimal(0)),
        teams=list(teams.values()),
        bands=bands,
        changes=changes,
        gated=[s for s in statements if s.gates_hit.all()],
        no_data=[s for s in statements if any(line.no_data for line in s.lines.all())],
        problems=run_problems([run]).get(run.pk, []),
        unpaid_adjustments=[
            a
            for a in Adjustment.objects.filter(period=period).select_related("agent", "corrects")
            if a.agent_id not in paid
        ],
        currency=statements[0].currency if statements else settings.CURRENCY,
    )


@dataclass
class Difference:
    """One agent's statements in two runs, and why they differ: data, plan, targets, adjustments."""

    agent: Agent
    before: Statement | None
    after: Statement | None
    reasons: list[str] = field(default_factory=list)

    @property
    def currency(self) -> str:
        either = self.after or self.before
        assert either is not None  # a difference has a statement on one side at least
        return either.currency

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
        version=version,
        agents=in_scope,
        team_of=team_of,
        year=period.year,
        month=period.month,
        overrides=overrides,
        problems=problems,
    ):
        before = real.get(one.agent.pk)
        # The month's corrections of earlier months are paid whatever the plan: the real statement's
        # adjustments go on the simulated amount too, so only the plan makes the difference.
        corrections = before.adjustments if before is not None else Decimal(0)
        # The score as a statement would keep it (rounded from the exact one for display only).
        simulated = Statement(
            agent=one.agent,
            team_id=one.team_id,
            plan_version=version,
            currency=version.currency,
            weighted_score=rounded(one.result.weighted_score, MOST_PLACES),
            amount=one.result.amount + corrections,
        )
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
        ScoreMonth(period, run, bands[run.pk])
        for period in periods
        if (run := runs[period.pk]) is not None
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
            position=Window(
                RowNumber(),
                partition_by=[F("plan_version_id")],
                order_by=[F("weighted_score").asc(), F("id").asc()],
            ),
            in_version=Window(Count("id"), partition_by=[F("plan_version_id")]),
        )
        .annotate(twice=F("position") * 2)
        .filter(twice__gte=F("in_version"), twice__lte=F("in_version") + 2)
        .values_list("plan_version_id", "weighted_score")
    )
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
        .annotate(
            agents=Count("id"),
            teams=Count("team_id", distinct=True),
            score=Sum("weighted_score"),
            total=Sum("amount"),
        )
        .order_by()
    )
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
        for row in StatementLine.objects.filter(
            statement__run=run, scope="agent", metric__in=shared
        )
        .values("statement__plan_version_id", "metric")
        .annotate(numerator=Sum("numerator"), denominator=Sum("denominator"))
        .order_by()
    }
    medians = _medians(run)
    rows = []
    for row in totals:
        version, n = versions[row["plan_version_id"]], row["agents"]
        rows.append(
            PlanRow(
                version=version,
                currency=row["currency"],
                agents=n,
                teams=row["teams"],
                mean_score=Fraction(row["score"]) / n,
                median_score=medians[version.pk],
                mean_payout=round_money(row["total"] / n, row["currency"]),
                total=round_money(row["total"], row["currency"]),
                values=[
                    rollup(code, [sums[version.pk, code]]) if (version.pk, code) in sums else None
                    for code in shared
                ],
            )
        )
    rows.sort(
        key=lambda r: (-r.agents, r.version.plan.code, r.version.number)
    )  # the main plan first
    return PlanComparison(period, run, [(code, metric(code).name) for code in shared], rows)
