"""Everything that reads for a view or a job, already scoped to what the user may see.

Object access is decided here, once: HR sees everything, a team lead their teams, an agent themselves.
Pages and the API both call these, so the two can never disagree.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import F, Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from calls.roles import AGENT, HR, LEAD, user_roles
from incentives.models import Agent, Period, Plan, Run, Statement, StatementLine, Team


def teams_visible_to(user) -> QuerySet[Team]:
    roles = user_roles(user)
    if HR in roles:
        return Team.objects.all()
    if LEAD in roles:
        return Team.objects.filter(leads=user)
    return Team.objects.none()


def agents_visible_to(user) -> QuerySet[Agent]:
    roles = user_roles(user)
    agents = Agent.objects.select_related("team")
    if HR in roles:
        return agents
    visible = Agent.objects.none()
    if LEAD in roles:
        visible = visible | agents.filter(team__leads=user)
    if AGENT in roles:
        visible = visible | agents.filter(user=user)
    return visible.distinct()


def agent_of_user(user) -> Agent | None:
    if AGENT not in user_roles(user):
        return None
    return Agent.objects.select_related("team").filter(user=user).first()


def statements_visible_to(user) -> QuerySet[Statement]:
    """HR: every statement of every run. Leads and agents: only statements of approved runs, for the
    agents they may see; a statement is not shown to agents before HR approves it."""
    statements = Statement.objects.select_related(
        "run__period", "agent", "team", "plan"
    ).prefetch_related(Prefetch("lines", queryset=StatementLine.objects.order_by("id")))
    if HR in user_roles(user):
        return statements
    return statements.filter(agent__in=agents_visible_to(user), run__period__approved_run=F("run"))


def statement_get_for_user(user, statement_id: int) -> Statement:
    """The statement, or 404 when it does not exist *or* the user may not see it (no leak of which)."""
    return get_object_or_404(statements_visible_to(user), pk=statement_id)


def periods_with_runs() -> QuerySet[Period]:
    return Period.objects.select_related("approved_run").prefetch_related(
        Prefetch("runs", queryset=Run.objects.order_by("-number").prefetch_related("chunks"))
    )


def plan_for_team(team: Team, on: dt.date) -> list[Plan]:
    """The plans in force for a team on a date. One is right; none or two are a problem for HR to fix,
    never guessed (the caller reports them)."""
    return list(
        Plan.objects.filter(teams=team, effective_from__lte=on)
        .exclude(effective_to__lt=on)
        .prefetch_related("metrics", "tiers")
    )
