"""Everything that reads for a view or a job, already scoped to what the user may see.

Object access is decided here, once: HR sees everything, a team lead their teams, an agent themselves.
Pages and the API both call these, so the two can never disagree. The plan resolver lives here too: one
answer to "which plan version applies to this agent on this date".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Exists, F, Max, OuterRef, Prefetch, Q, QuerySet, Sum
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from calls.errors import Conflict
from calls.months import center_tz, shift_month
from calls.rational import Rational
from calls.roles import AGENT, HR, LEAD, user_roles
from incentives.models import (
    ActionItem,
    Agent,
    Period,
    PeriodReopening,
    Placement,
    PlanVersion,
    Review,
    Run,
    SharedSkill,
    Statement,
    StatementLine,
    Team,
)


def today() -> dt.date:
    return timezone.localtime(timezone.now(), center_tz()).date()


def placements_on(day: dt.date) -> QuerySet[Placement]:
    return Placement.objects.filter(valid_from__lte=day).filter(
        Q(valid_to__isnull=True) | Q(valid_to__gte=day)
    )


def employed_on(day: dt.date) -> Q:
    """Agents on the payroll on a day (no hire date: always were; no leave date: still are)."""
    return (Q(hire_date__isnull=True) | Q(hire_date__lte=day)) & (
        Q(leave_date__isnull=True) | Q(leave_date__gte=day)
    )


def agents_in_teams_on(team_ids: Iterable[int], day: dt.date) -> QuerySet[Agent]:
    placed = placements_on(day).filter(agent=OuterRef("pk"), team_id__in=list(team_ids))
    return Agent.objects.filter(employed_on(day)).filter(Exists(placed))


def placement_map(agent_ids: Iterable[int], day: dt.date) -> dict[int, Placement]:
    return {
        placement.agent_id: placement
        for placement in placements_on(day)
        .filter(agent_id__in=list(agent_ids))
        .select_related("team", "group")
    }


def attribution_day(agent: Agent, last_day: dt.date) -> dt.date:
    """The day an agent's month is attributed by: the month's last day, or their last working day."""
    if agent.leave_date is not None and agent.leave_date < last_day:
        return agent.leave_date
    return last_day


def period_roster(
    first_day: dt.date,
    last_day: dt.date,
    *,
    team_ids: Iterable[int] | None = None,
    placements_out: dict[int, Placement] | None = None,
) -> dict[int, list[Agent]]:
    """The agents to pay for a month, by team: everyone employed on any day of it, in the team where
    they sat on their attribution day (the month's last day, or their last working day). With
    ``team_ids``, only those teams' (a run's chunk reads its own teams, not the whole center); each is
    in the result, empty if nobody is attributed to it."""
    month = Q(valid_from__lte=last_day) & (Q(valid_to__isnull=True) | Q(valid_to__gte=first_day))
    agents = Agent.objects.filter(Q(hire_date__isnull=True) | Q(hire_date__lte=last_day)).filter(
        Q(leave_date__isnull=True) | Q(leave_date__gte=first_day)
    )
    if team_ids is not None:
        team_ids = list(team_ids)
        agents = agents.filter(
            Exists(Placement.objects.filter(month, agent=OuterRef("pk"), team_id__in=team_ids))
        )
    # Their placements through the same filter as a subquery: a chunk's thousands of agents as as
    # many parameters cost more to send and parse than the subquery costs to run.
    placements = Placement.objects.filter(month, agent__in=agents.values("pk"))
    by_agent: dict[int, list[Placement]] = {}
    for placement in placements:
        by_agent.setdefault(placement.agent_id, []).append(placement)
    roster: dict[int, list[Agent]] = {}
    for agent in agents.order_by("pk"):
        day = attribution_day(agent, last_day)
        for placement in by_agent.get(agent.pk, []):
            if placement.valid_from <= day and (
                placement.valid_to is None or placement.valid_to >= day
            ):
                roster.setdefault(placement.team_id, []).append(agent)
                if placements_out is not None:  # the placement that attributes the month
                    placements_out[agent.pk] = placement
                break
    if team_ids is not None:
        return {team_id: roster.get(team_id, []) for team_id in team_ids}
    return roster


def teams_visible_to(user) -> QuerySet[Team]:
    roles = user_roles(user)
    if HR in roles:
        return Team.objects.all()
    if LEAD in roles:
        return Team.objects.filter(leads=user)
    return Team.objects.none()


def agents_visible_to(user) -> QuerySet[Agent]:
    """HR: all agents; a lead: the agents placed in their teams today; an agent: themselves."""
    roles = user_roles(user)
    if HR in roles:
        return Agent.objects.all()
    condition = Q(pk__in=[])
    if LEAD in roles:
        led = placements_on(today()).filter(agent=OuterRef("pk"), team__leads=user)
        condition |= Q(Exists(led))
    if AGENT in roles:
        condition |= Q(user=user)
    return Agent.objects.filter(condition)


def agent_of_user(user) -> Agent | None:
    if AGENT not in user_roles(user):
        return None
    return Agent.objects.filter(user=user).first()


def statements_visible_to(user) -> QuerySet[Statement]:
    """HR: every statement of every run. A lead: the approved statements of their teams (the team the
    agent was in for that month). An agent: their own approved statements. A statement is not shown to
    agents before HR approves it."""
    statements = Statement.objects.select_related(
        "run__period", "agent", "team", "plan_version__plan"
    ).prefetch_related(
        Prefetch("lines", queryset=StatementLine.objects.order_by("id")),
        "gates_hit",
        "adjustment_lines",
    )
    condition = _team_or_own(user)
    if condition is None:
        return statements
    return statements.filter(condition, run__period__approved_run=F("run")).distinct()


def approved_statements_visible_to(user) -> QuerySet[Statement]:
    """``statements_visible_to``, of approved months only (each month's approved run) and without the
    lines: what a list of statements shows."""
    return (
        statements_visible_to(user)
        .prefetch_related(None)
        .filter(run__period__approved_run=F("run"))
    )


def _team_or_own(user) -> Q | None:
    """Rows with a ``team`` and an ``agent`` that ``user`` may see: None for HR (all of them); a lead's
    teams' and an agent's own otherwise (none for anyone else)."""
    roles = user_roles(user)
    if HR in roles:
        return None
    condition = Q(pk__in=[])
    if LEAD in roles:
        condition |= Q(team__leads=user)
    if AGENT in roles:
        condition |= Q(agent__user=user)
    return condition


def statement_get_for_user(user, statement_id: int) -> Statement:
    """The statement, or 404 when it does not exist *or* the user may not see it (no leak of which)."""
    return get_object_or_404(statements_visible_to(user), pk=statement_id)


def months_without_period(months: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Those of ``months`` (year, month) that have no period yet, in their order: months with imported
    data that nobody has computed."""
    opened = set(Period.objects.values_list("year", "month"))
    return [month for month in months if month not in opened]


def periods_with_runs() -> QuerySet[Period]:
    return Period.objects.select_related("approved_run").prefetch_related(
        Prefetch("runs", queryset=Run.objects.order_by("-number").prefetch_related("chunks")),
        Prefetch(
            "reopenings",
            queryset=PeriodReopening.objects.select_related("reopened_by", "approved_run"),
        ),
    )


@dataclass
class RunTotal:
    run: Run
    agents: int
    total: Decimal
    currency: str


@dataclass
class PeriodAction:
    """What approving, closing, reopening or computing a month again would change, for the page that
    asks HR to confirm it."""

    period: Period
    next_number: int  # the version a new run would get
    approved: RunTotal | None  # the run approved now (or, reopened, until then)
    run: RunTotal | None  # the run to approve
    changed_agents: int  # agents whose payout the run to approve changes against the approved one
    reopening: PeriodReopening | None  # the latest, while the month is reopened


def _run_total(run: Run | None) -> RunTotal | None:
    if run is None:
        return None
    sums = Statement.objects.filter(run=run).aggregate(agents=Count("pk"), total=Sum("amount"))
    currency = Statement.objects.filter(run=run).values_list("currency", flat=True).first()
    return RunTotal(run, sums["agents"], sums["total"] or Decimal("0.00"), currency or "")


def period_action(period: Period, run: Run | None = None) -> PeriodAction:
    """The facts a confirmation states: the run approved now and its total, the run to approve and how
    many agents' payouts it changes, the version a new run would get, the reopening under way."""
    changed = 0
    approved = period.approved_run_id
    if run is not None and approved is not None and approved != run.pk:
        before = dict(Statement.objects.filter(run_id=approved).values_list("agent_id", "amount"))
        after = dict(Statement.objects.filter(run=run).values_list("agent_id", "amount"))
        changed = sum(
            1 for agent in before.keys() | after.keys() if before.get(agent) != after.get(agent)
        )
    top = period.runs.aggregate(top=Max("number"))["top"] or 0
    return PeriodAction(
        period=period,
        next_number=top + 1,
        approved=_run_total(period.approved_run),
        run=_run_total(run),
        changed_agents=changed,
        reopening=period.reopenings.select_related("reopened_by").first()
        if period.reopened
        else None,
    )


# --- the plan resolver ---------------------------------------------------------------------------


def versions_in_force(day: dt.date) -> list[PlanVersion]:
    """Active plan versions effective on a day, with what the resolver and the scorer need."""
    return list(
        PlanVersion.objects.filter(status=PlanVersion.Status.ACTIVE, effective_from__lte=day)
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=day))
        .select_related("plan")
        .prefetch_related("teams", "groups", "metrics", "tiers", "gates")
    )


def scope_applies(
    *,
    team_ids: set[int],
    group_ids: set[int],
    levels,
    channels,
    agent: Agent,
    placement: Placement | None,
) -> bool:
    """Does a plan scope (teams, groups, levels, channels; each empty means all) take in this agent?"""
    if team_ids and (placement is None or placement.team_id not in team_ids):
        return False
    if group_ids and (placement is None or placement.group_id not in group_ids):
        return False
    if levels and agent.level not in levels:
        return False
    return not (channels and agent.channel not in channels)


def version_scope(version: PlanVersion) -> dict:
    """What ``scope_applies`` needs of a version, read once for many agents."""
    return {
        "team_ids": {team.pk for team in version.teams.all()},
        "group_ids": {group.pk for group in version.groups.all()},
        "levels": version.levels,
        "channels": version.channels,
    }


def version_applies(version: PlanVersion, agent: Agent, placement: Placement | None) -> bool:
    return scope_applies(**version_scope(version), agent=agent, placement=placement)


def plan_resolve(
    agents: Iterable[Agent], day: dt.date, *, placements: dict[int, Placement] | None = None
) -> dict[int, list[PlanVersion]]:
    """For each agent, the plan versions that apply on ``day`` (for a leaver, on their last working
    day if it came first). Exactly one is right; none or two or more is a problem for HR to fix
    (``plan_problems``), never guessed. ``placements``: each agent's placement on that day, when the
    caller has them already (``period_roster`` does)."""
    by_day: dict[dt.date, list[Agent]] = {}
    for agent in agents:
        by_day.setdefault(attribution_day(agent, day), []).append(agent)
    resolved = {}
    versions_on: dict[dt.date, list[PlanVersion]] = {}
    for on, group in by_day.items():
        # Versions change on the 1st or a month's days, rarely: leavers' days mostly share them.
        versions = versions_on.setdefault(on, versions_in_force(on))
        if placements is None:
            placements = placement_map([agent.pk for agent in group], on)
        scopes = [(v, version_scope(v)) for v in versions]
        for agent in group:
            placement = placements.get(agent.pk)
            resolved[agent.pk] = [
                v for v, scope in scopes if scope_applies(**scope, agent=agent, placement=placement)
            ]
    return resolved


@dataclass(frozen=True)
class PlanProblem:
    agent: Agent
    versions: list[PlanVersion]

    @property
    def message(self) -> str:
        if not self.versions:
            return f"{self.agent}: no plan applies"
        names = ", ".join(str(version) for version in self.versions)
        return f"{self.agent}: {len(self.versions)} plans apply ({names})"


def plan_problems(day: dt.date) -> list[PlanProblem]:
    """Agents employed on ``day`` with no plan or with two or more plans."""
    agents = Agent.objects.filter(employed_on(day)).order_by("employee_id")
    resolved = plan_resolve(agents, day)
    return [
        PlanProblem(agent, resolved[agent.pk]) for agent in agents if len(resolved[agent.pk]) != 1
    ]


# --- payroll -------------------------------------------------------------------------------------

PAYROLL_COLUMNS = ("employee_id", "name", "period", "amount", "currency", "plan_version")


class PayrollNotReady(Conflict):
    """Only an approved or closed month goes to payroll: before that its amounts may still change."""

    def __init__(self, period: Period):
        self.period = period
        super().__init__(
            _(
                "%(period)s is %(status)s: only an approved or closed month can be exported to payroll."
            )
            % {"period": period, "status": period.get_status_display()}
        )


def payroll_rows(period: Period) -> Iterator[tuple]:
    """One row per agent of the period's approved run, in ``PAYROLL_COLUMNS`` order, by employee id;
    the amount a ``Decimal``. Raises ``PayrollNotReady`` at once (not on the first row) when the period
    is not approved or closed. The rows are read lazily, so a response can stream them."""
    if period.status not in (Period.Status.APPROVED, Period.Status.CLOSED):
        raise PayrollNotReady(period)
    assert period.approved_run_id is not None  # an approved or closed period has its run
    statements = (
        Statement.objects.filter(run_id=period.approved_run_id)
        .select_related("agent", "plan_version__plan")
        .order_by("agent__employee_id")
    )
    month = str(period)
    return (
        (s.agent.employee_id, s.agent.name, month, s.amount, s.currency, str(s.plan_version))
        for s in statements.iterator(chunk_size=2000)
    )


# --- the performance interview ---------------------------------------------------------------------


def reviews_visible_to(user) -> QuerySet[Review]:
    """HR: every review. A lead: their teams' reviews. An agent: their own. Anyone else: none."""
    reviews = Review.objects.select_related("period", "agent", "team", "statement")
    condition = _team_or_own(user)
    return reviews if condition is None else reviews.filter(condition).distinct()


def review_get_for_user(user, review_id: int) -> Review:
    """The review, or 404 when it does not exist or the user may not see it."""
    return get_object_or_404(reviews_visible_to(user), pk=review_id)


def flagged_first(reviews: Iterable[Review]) -> list[Review]:
    """The lead's order: the agents the data flags first — more flags first (below a threshold, a gate
    hit, a drop of 10 points or more), then the largest drop in weighted score since last month, then
    by employee id; completed reviews last."""
    return sorted(
        reviews,
        key=lambda r: (
            r.stage == Review.Stage.DONE,
            -len(r.flags),
            r.score_change if r.score_change is not None else Decimal("Infinity"),
            r.agent.employee_id,
        ),
    )


def actions_due(
    user, *, within_days: int = 7, team_ids: Iterable[int] | None = None
) -> list[ActionItem]:
    """Open action items of the user's teams (HR: all) due within ``within_days`` or overdue; with
    ``team_ids``, only those teams' (a team's dashboard)."""
    today = timezone.localdate()
    items = ActionItem.objects.filter(
        done_at__isnull=True, due__lte=today + dt.timedelta(days=within_days)
    )
    if HR not in user_roles(user):
        items = items.filter(review__team__leads=user)
    if team_ids is not None:
        items = items.filter(review__team_id__in=list(team_ids))
    return list(
        items.select_related("review__agent", "review__period", "owner").order_by("due", "id")
    )


@dataclass
class ReviewProgress:
    team: Team
    stages: dict[str, int]
    overdue: int


def reviews_progress(
    period: Period, *, team_ids: Iterable[int] | None = None
) -> list[ReviewProgress]:
    """Per team: how many of the month's reviews are in each stage, and open actions past due; with
    ``team_ids``, only those teams."""
    reviews = Review.objects.filter(period=period)
    if team_ids is not None:
        reviews = reviews.filter(team_id__in=list(team_ids))
    counts = reviews.values("team_id", "stage").annotate(n=Count("id")).order_by()
    overdue = dict(
        ActionItem.objects.filter(
            review__in=reviews, done_at__isnull=True, due__lt=timezone.localdate()
        )
        .values("review__team_id")
        .annotate(n=Count("id"))
        .values_list("review__team_id", "n")
    )
    teams = {t.pk: t for t in Team.objects.filter(reviews__in=reviews).distinct()}
    rows: dict[int, ReviewProgress] = {}
    for row in counts:
        progress = rows.setdefault(
            row["team_id"],
            ReviewProgress(
                teams[row["team_id"]],
                {s: 0 for s in Review.Stage.values},
                overdue.get(row["team_id"], 0),
            ),
        )
        progress.stages[row["stage"]] = row["n"]
    return sorted(rows.values(), key=lambda p: p.team.code)


@dataclass
class MetricTrend:
    line: StatementLine
    months: list[tuple[str, Decimal | None]]  # oldest first, this month last
    team_value: Rational | None  # exact; shown rounded

    @property
    def month_on_month(self) -> Decimal | None:
        if len(self.months) < 2 or self.months[-1][1] is None or self.months[-2][1] is None:
            return None
        return self.months[-1][1] - self.months[-2][1]


@dataclass
class FollowThrough:
    action: ActionItem
    then: Decimal | None
    now: Decimal | None

    @property
    def change(self) -> Decimal | None:
        return None if self.then is None or self.now is None else self.now - self.then


@dataclass
class ReviewContext:
    """What the review page lays on the table."""

    review: Review
    statement: Statement
    trends: list[MetricTrend]
    longest_waits: list
    early_hangups: list
    previous: Review | None
    follow_through: list[FollowThrough]


def approved_statements_until(agent: Agent, period: Period, *, months: int) -> list[Statement]:
    """The agent's approved statements of ``period`` and the months before it, newest first, at most
    ``months`` of them, with their lines."""
    y, m = period.year, period.month
    return list(
        Statement.objects.filter(agent=agent, run__period__approved_run=F("run"))
        .filter(Q(run__period__year__lt=y) | Q(run__period__year=y, run__period__month__lte=m))
        .select_related("run__period")
        .prefetch_related("lines")
        .order_by("-run__period__year", "-run__period__month")[:months]
    )


def review_context(review: Review, *, months: int = 3) -> ReviewContext:
    """The statement's lines with the agent's last ``months`` approved values and the team's value
    beside them, the calls behind the outliers (longest waits, early hang-ups), and last month's
    review with its actions and how their metric moved since. A fixed number of queries per metric."""
    from calls.models import Call
    from calls.months import month_bounds
    from incentives.services.runs import team_value

    statement = Statement.objects.prefetch_related("lines", "gates_hit").get(pk=review.statement_id)
    y, m = review.period.year, review.period.month
    history = approved_statements_until(review.agent, review.period, months=months)[::-1]
    trends = []
    for line in statement.lines.all():
        values = []
        for past in history:
            found = next((x for x in past.lines.all() if x.metric == line.metric), None)
            values.append((str(past.run.period), found.value if found else None))
        team = None
        if line.scope == "agent" and line.measure == "value":
            team = team_value(review.team_id, line.metric, {}, y, m).value
        trends.append(MetricTrend(line, values, team))
    start, end = month_bounds(y, m)
    calls = Call.objects.filter(agent=review.agent, started_at__gte=start, started_at__lt=end)
    longest = list(calls.order_by("-wait_seconds", "started_at")[:5])
    early = list(
        calls.filter(
            answered_at__isnull=False, ended_by=Call.EndedBy.CUSTOMER, talk_seconds__lt=30
        ).order_by("talk_seconds", "started_at")[:5]
    )
    py, pm = shift_month(y, m, -1)
    previous = (
        Review.objects.filter(agent=review.agent, period__year=py, period__month=pm)
        .select_related("statement", "period")
        .prefetch_related("actions", "statement__lines")
        .first()
    )
    follow = []
    if previous is not None:
        then = {line.metric: line.value for line in previous.statement.lines.all()}
        now = {line.metric: line.value for line in statement.lines.all()}
        follow = [
            FollowThrough(a, then.get(a.metric), now.get(a.metric)) for a in previous.actions.all()
        ]
    return ReviewContext(review, statement, trends, longest, early, previous, follow)


def experts() -> dict[str, list[Agent]]:
    """The internal expert list: each skill worth sharing and the agents agreed to hold it."""
    listed: dict[str, list[Agent]] = {}
    for shared in SharedSkill.objects.select_related("agent").order_by("skill", "agent__name"):
        agents = listed.setdefault(shared.skill, [])
        if shared.agent not in agents:
            agents.append(shared.agent)
    return listed


def service_accounts():
    """The API's tokens with their users, roles and teams: what HR's API access page lists (a
    person's token made with ``manage.py drf_create_token`` too)."""
    from rest_framework.authtoken.models import Token

    return (
        Token.objects.select_related("user")
        .prefetch_related("user__groups", "user__led_teams")
        .order_by("user__username")
    )
