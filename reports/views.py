"""The three homes: HR's overview, the lead's team, the agent's own page."""

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from calls import selectors as call_selectors
from calls.errors import refusal_shown
from calls.filters import CallFilter
from calls.listing import listing
from calls.metrics import queue_figures
from calls.numbers import rounded
from calls.roles import AGENT, HR, LEAD, roles_required, user_roles
from incentives import selectors as incentive_selectors
from incentives import services as incentive_services
from incentives.models import Period, Run, Team
from reports import exports, forms, selectors, services
from reports.models import Alert
from reports.selectors import agent as agent_selectors
from reports.selectors.top_fifth import top_fifth


def _window(request) -> str:
    """The dashboard's window from the query string: today, week or month (today when unknown)."""
    return request.GET.get("window") if request.GET.get("window") in selectors.WINDOWS else "today"


def _alerts(team, user) -> dict:
    """The team's alerts for ``reports/_alerts.html`` (the team page and the dashboard), and whether
    this user leads the team, so may acknowledge them (HR sees them, a lead of the team acts)."""
    if team is None:
        return {"alerts": [], "is_team_lead": False}
    return {
        "alerts": selectors.team_alerts(team),
        "is_team_lead": team.leads.filter(pk=user.pk).exists(),
    }


@roles_required(HR, LEAD, AGENT)
def home(request):
    """Each role lands on its own home; HR first when a person holds several roles."""
    roles = user_roles(request.user)
    if HR in roles:
        return redirect("reports:hr_overview")
    if LEAD in roles:
        return redirect("reports:team")
    return redirect("reports:agent_home")


@roles_required(HR)
def hr_overview(request):
    """Every period's status and latest run, its teams' totals, the distribution of scores month by
    month, each queue's figures this month so far; ``?export=`` gives the teams' totals
    (``&table=scores``: the distribution; ``&table=queues``: the queues)."""
    # Twelve months a page, the newest first; older ones a click away (?months=2).
    months_page = Paginator(incentive_selectors.periods_with_runs(), 12).get_page(
        request.GET.get("months")
    )
    periods = list(months_page.object_list)
    latest = {period.pk: next(iter(period.runs.all()), None) for period in periods}
    runs = [run for run in latest.values() if run is not None]
    totals, run_problems = selectors.team_totals(runs), selectors.run_problems(runs)
    rows = [
        {
            "period": period,
            "latest": latest[period.pk],
            "totals": totals.get(latest[period.pk].pk, []) if latest[period.pk] else [],
            "problems": run_problems.get(latest[period.pk].pk, []) if latest[period.pk] else [],
            # Progress of a run under way: its chunks (one per team) are prefetched with the runs.
            "chunks": [c.status == "done" for c in latest[period.pk].chunks.all()]
            if latest[period.pk]
            else [],
        }
        for period in periods
    ]
    for row in rows:
        row["chunks_done"] = sum(row["chunks"])
    months = selectors.score_months(periods)
    bands = [label for label, _count in months[0].bands] if months else []
    start, end = call_selectors.queue_period(now=timezone.now())
    queues = queue_figures(start=start, end=end)
    exported = exports.export_tables(
        request, "hr-overview", exports.overview_tables(rows, months, bands, queues)
    )
    if exported is not None:
        return exported
    chart = {
        "months": [str(m.period) for m in months],
        "bands": [
            {"label": label, "counts": [m.bands[n][1] for m in months]}
            for n, label in enumerate(bands)
        ],
    }
    today = incentive_selectors.today()
    problems = incentive_selectors.plan_problems(today)
    # Months whose data came in but that have no period yet: offered for computing, newest first.
    new_months = incentive_selectors.months_without_period(
        call_selectors.months_imported(since=today - dt.timedelta(days=400))
    )
    return render(
        request,
        "reports/hr_overview.html",
        {
            "new_months": [{"year": y, "month": m} for y, m in new_months],
            "months_page": months_page,
            "rows": rows,
            "plan_problems": problems,
            "months": months,
            "bands": bands,
            "chart": chart,
            "queues": queues,
            "queues_since": start,
        },
    )


@roles_required(HR)
def plan_comparison(request):
    """The plan versions paying in a month side by side (a pilot team's plan against the others'):
    the latest month with a finished run unless ``?period=`` chooses another."""
    form = forms.PlanComparisonForm(request.GET)  # bound even when empty: no period is the latest
    comparison = None
    if form.is_valid():
        period = form.cleaned_data["period"] or form.fields["period"].queryset.first()
        if period is not None:
            comparison = selectors.plan_comparison(period=period)
    if comparison is not None:
        header, table = exports.comparison_table(comparison)
        exported = exports.export(request, f"plans-{comparison.period}", header, table)
        if exported is not None:
            return exported
    return render(request, "reports/plan_comparison.html", {"form": form, "comparison": comparison})


@roles_required(LEAD, HR)
def team(request, code: str | None = None):
    teams = list(incentive_selectors.teams_visible_to(request.user))
    current: Team | None
    if code is not None:
        current = get_object_or_404(incentive_selectors.teams_visible_to(request.user), code=code)
    else:
        current = teams[0] if teams else None
    period = selectors.latest_approved_period()
    statements = selectors.team_statements(team_ids=[current.pk] if current else [], period=period)
    if current is not None and period is not None:
        header = ["rank", "employee_id", "agent", "weighted_score", "amount", "currency"]
        rows = (
            [
                n,
                s.agent.employee_id,
                s.agent.name,
                rounded(s.weighted_score, 2),
                s.amount,
                s.currency,
            ]
            for n, s in enumerate(statements, start=1)
        )
        exported = exports.export(request, f"{current.code}-{period}", header, rows)
        if exported is not None:
            return exported
    return render(
        request,
        "reports/team.html",
        {
            "teams": teams,
            "team": current,
            "period": period,
            "statements": statements,
            **_alerts(current, request.user),
        },
    )


@require_POST
@roles_required(LEAD)
def alert_acknowledge(request, pk: int):
    alert = get_object_or_404(Alert.objects.select_related("team"), pk=pk, team__leads=request.user)
    services.alert_acknowledge(alert=alert, user=request.user)
    # Back to the page the button was on (the team page or the dashboard, with its window), but only
    # a page of this site: ``next`` comes from the form and could be made to point anywhere.
    back = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(back)
    return redirect("reports:team_detail", code=alert.team.code)


@roles_required(AGENT)
def agent_home(request):
    """My pay: the month so far, the latest statement line by line (each line's calls, its question
    or the button to ask one, and how it was computed), and the months before."""
    agent = incentive_selectors.agent_of_user(request.user)
    statements = []
    if agent is not None:
        statements = list(
            incentive_selectors.statements_visible_to(request.user)
            .filter(agent=agent)
            .order_by("-run__period__year", "-run__period__month")[:12]
        )
    history = [
        {"month": str(s.run.period), "amount": float(s.amount), "score": float(s.weighted_score)}
        for s in reversed(statements)
    ]  # for the chart only: the page's figures are the Decimals themselves
    latest = agent_selectors.with_questions(statements[0]) if statements else None
    return render(
        request,
        "reports/agent_home.html",
        {
            "agent": agent,
            "statements": statements,
            "latest": latest,
            # Each line of the latest statement offers its question until it has one (the
            # statement page's rule: only the approved run's statement is questioned).
            "can_question": latest is not None
            and latest.run.period.approved_run_id == latest.run_id,
            "history": history,
            "rank": selectors.team_rank(statements[0])
            if statements and settings.SHOW_RANKS
            else None,
            "so_far": selectors.month_so_far(agent, day=incentive_selectors.today())
            if agent
            else None,
            "recognitions": selectors.recognitions(agent) if agent else [],
        },
    )


CALLS_PER_PAGE = 100


@roles_required(AGENT)
def agent_line_calls(request, line_id: int):
    """The agent's own calls behind a line of their statement: that month's, those its metric counts;
    404 for anyone else's line."""
    behind = agent_selectors.line_calls(agent_selectors.own_line(request.user, line_id))
    calls = listing(request, CallFilter, behind.calls, per_page=CALLS_PER_PAGE)
    name = f"{behind.statement.run.period}-{behind.line.metric}-calls"
    exported = exports.export(request, name, *exports.calls_table(calls.all_rows))
    if exported is not None:
        return exported
    return render(
        request,
        "reports/agent_line_calls.html",
        {
            "behind": behind,
            "line": behind.line,
            "statement": behind.statement,
            "listing": calls,
        },
    )


@require_POST
@roles_required(AGENT)
def agent_line_question(request, line_id: int):
    """The agent questions a line from My pay, through the statement page's service, and is taken
    back to the line, which now shows the question."""
    line = agent_selectors.own_line(request.user, line_id)
    with refusal_shown(request):
        incentive_services.dispute_raise(
            line=line, user=request.user, question=request.POST.get("question", "")
        )
        messages.success(
            request,
            _("Your question on %(metric)s is sent to HR; the answer will appear here.")
            % {"metric": line.get_metric_display()},
        )
    return redirect(f"{reverse('reports:agent_home')}#line-{line.pk}")


@roles_required(HR)
def approval_review(request, pk: int, run_pk: int):
    """What HR checks before approving a run, with the approve button."""
    period = get_object_or_404(Period, pk=pk)
    run = get_object_or_404(Run, pk=run_pk, period=period)
    review = selectors.approval_review(period=period, run=run)
    name = f"review-{period}-v{run.number}"
    exported = exports.export_tables(request, name, exports.approval_tables(review))
    if exported is not None:
        return exported
    earlier = (
        period.runs.filter(number__lt=run.number, status=Run.Status.DONE)
        .order_by("-number")
        .first()
    )
    # A reopened month: its data changed since approval, so the run is read against the approved one.
    against_approved = (
        selectors.runs_compare(before=period.approved_run, after=run)
        if period.reopened and run.pk != period.approved_run_id and period.approved_run is not None
        else None
    )
    reopening = period.reopenings.select_related("reopened_by").first() if period.reopened else None
    return render(
        request,
        "reports/approval_review.html",
        {
            "review": review,
            "earlier": earlier,
            "against_approved": against_approved,
            "reopening": reopening,
        },
    )


@roles_required(HR)
def runs_compare(request, pk: int):
    """Two runs of a month side by side: who changed and why (data, plan, targets, adjustments)."""
    period = get_object_or_404(Period, pk=pk)
    form = forms.RunsCompareForm(period, request.GET or None)
    differences = None
    if form.is_valid():
        before, after = form.cleaned_data["before"], form.cleaned_data["after"]
        differences = selectors.runs_compare(before=before, after=after)
        name = f"compare-{period}-v{before.number}-v{after.number}"
        exported = exports.export(request, name, *exports.runs_compare_table(differences))
        if exported is not None:
            return exported
    return render(
        request,
        "reports/runs_compare.html",
        {"period": period, "form": form, "differences": differences},
    )


@roles_required(HR)
def whatif(request):
    """A plan version over a past month's data, beside the real payouts; nothing is written."""
    form = forms.WhatIfForm(request.GET or None)
    result = None
    if form.is_valid():
        result = selectors.whatif(
            version=form.cleaned_data["version"], period=form.cleaned_data["period"]
        )
        version = result.version
        name = f"what-if-{version.plan.code}-v{version.number}-{result.period}"
        exported = exports.export(request, name, *exports.whatif_table(result))
        if exported is not None:
            return exported
    return render(request, "reports/whatif.html", {"form": form, "result": result})


@roles_required(HR, LEAD, AGENT)
def leaderboard(request):
    """Recognition from approved statements: the best agent(s) of each recent month and the quarter's
    top 3, named or anonymised (``LEADERBOARD_NAMED``; an agent always sees their own name)."""
    periods = list(
        Period.objects.filter(approved_run__isnull=False).order_by("-year", "-month")[:6]
    )
    agent = incentive_selectors.agent_of_user(request.user)
    named, me = settings.LEADERBOARD_NAMED, agent.pk if agent else None

    def shown(ranked: list) -> list:
        """Each entry with whether this user may see who it is: everyone where the company names its
        best agents, else only themselves (the page and its export alike)."""
        return [(r, named or r.agent.pk == me) for r in ranked]

    months = [(period, shown(selectors.best_of_month(period))) for period in periods]
    quarters = []
    if periods:
        latest = periods[0]
        quarter = (latest.month - 1) // 3 + 1
        quarters.append(
            ((latest.year, quarter), shown(selectors.quarter_top(latest.year, quarter)))
        )

    tables = exports.leaderboard_tables(months, quarters)
    exported = exports.export_tables(request, "leaderboard", tables)
    if exported is not None:
        return exported
    return render(request, "reports/leaderboard.html", {"months": months, "quarters": quarters})


@roles_required(LEAD, HR)
def team_dashboard(request, code: str):
    """The lead's floor view: the team, its groups and its agents against target for today, this week
    or this month, with their last two weeks as sparklines, the team's review progress and its alerts
    (a lead of the team acknowledges them here); each agent leads to their calls."""
    team = get_object_or_404(incentive_selectors.teams_visible_to(request.user), code=code)
    window = _window(request)
    group = request.GET.get("group", "")
    group_id = int(group) if group.isdigit() else None
    if request.GET.get("table") == "top-fifth":
        fifth = top_fifth(team)
        exported = exports.export(
            request, f"{team.code}-{fifth.period}-top-fifth", *exports.top_fifth_table(fifth)
        )
        if exported is not None:
            return exported
    dashboard = selectors.team_dashboard(team, window=window, now=timezone.now(), group_id=group_id)
    header = ["employee_id", "agent", *[code for code, *_ in dashboard.metrics]]
    rows = (
        [row.agent.employee_id, row.agent.name, *[exports.as_shown(v.value) for v in row.values]]
        for row in dashboard.agents
        if row.agent is not None  # an agent's row has its agent
    )
    exported = exports.export(request, f"{team.code}-{window}", header, rows)
    if exported is not None:
        return exported
    return render(
        request,
        "reports/team_dashboard.html",
        {
            "dashboard": dashboard,
            "windows": selectors.WINDOWS,
            "reviews": selectors.team_reviews(team, user=request.user),
            "fifth": top_fifth(team),
            "group": group_id,
            **_alerts(team, request.user),
        },
    )


@roles_required(LEAD, HR)
def agent_calls(request, code: str, agent_id: int):
    """The calls of one agent of the team in the window (the bottom of the drill-down)."""
    team = get_object_or_404(incentive_selectors.teams_visible_to(request.user), code=code)
    agent = get_object_or_404(
        incentive_selectors.agents_in_teams_on([team.pk], incentive_selectors.today()), pk=agent_id
    )
    window = _window(request)
    calls = listing(
        request,
        CallFilter,
        selectors.agent_calls(agent, window=window, now=timezone.now(), limit=None),
    )
    name = f"{team.code}-{agent.employee_id}-{window}"
    exported = exports.export(request, name, *exports.calls_table(calls.all_rows))
    if exported is not None:
        return exported
    return render(
        request,
        "reports/agent_calls.html",
        {
            "team": team,
            "agent": agent,
            "listing": calls,
            "window": window,
            "keep": [("window", window)],
        },
    )
