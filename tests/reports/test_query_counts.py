"""Every page that shows a team or the center runs as many queries for 20 agents as for 2.

Each page is counted with the personas' few agents, then again once 18 more agents are in team A — with
calls today and in October, statements of October's approved run, reviews and alerts of their own (open
and acknowledged, on the team page and the dashboard) — so a query per agent, per row, per alert or per
line anywhere on a page shows as a difference.
"""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from incentives import services
from incentives.models import ActionItem, Group, Placement, Review
from reports.models import Alert, AlertRule
from tests.factories import AgentFactory, CallFactory, PeriodFactory
from tests.incentives.test_compute import _calls, _start

WINDOWS = ("today", "week", "month")


def _count(client, user, url: str) -> int:
    client.force_login(user)
    client.get(url)  # once before counting: the session, the first request's lookups
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured)


def _floor(agents, *, group, lead, calls_today: int = 6):
    """What the pages show of these agents: calls today and in October, an alert each (a third of them
    acknowledged by the lead: who acknowledged is shown), half of them in the group."""
    now = timezone.now()
    rule = AlertRule.objects.first()
    for n, agent in enumerate(agents):
        if n % 2 == 0:
            Placement.objects.filter(agent=agent).update(group=group)
        for i in range(calls_today):
            started = now - dt.timedelta(seconds=i + 1)
            CallFactory(agent=agent, started_at=started, answered_at=started if i % 3 else None)
        _calls(agent, 90 + n % 10, 100)  # October
        Alert.objects.create(
            rule=rule,
            level="agent",
            subject_id=agent.pk,
            subject=str(agent),
            team=group.team,
            window_start=now,
            value=40,
            numerator=4,
            denominator=10,
            acknowledged_at=now if n % 3 == 0 else None,
            acknowledged_by=lead if n % 3 == 0 else None,
        )


def _approve(period, capture, *, owner):
    """Compute the month again and approve it: a review for each agent, an action due in each."""
    services.period_approve(period=period, run=_start(period, capture))
    for review in Review.objects.filter(period=period, actions__isnull=True):
        ActionItem.objects.create(
            review=review, what="Script drill", owner=owner, due=timezone.localdate(), kind="script"
        )


@pytest.fixture
def pages(people):
    group = Group.objects.create(team=people.team_a, code="day", name="Day shift")
    a1 = people.agent_a.pk
    lead, hr, agent = people.lead_a, people.hr, people.agent_a.user
    found = {}
    for window in WINDOWS:
        found[f"dashboard {window}"] = (lead, f"/team/team-a/dashboard/?window={window}")
        found[f"group {window}"] = (
            lead,
            f"/team/team-a/dashboard/?window={window}&group={group.pk}",
        )
    found["dashboard as HR"] = (hr, "/team/team-a/dashboard/?window=month")
    found["agent's calls"] = (lead, f"/team/team-a/agents/{a1}/calls/?window=month")
    found["team"] = (lead, "/team/")
    found["agent home"] = (agent, "/me/")
    found["HR overview"] = (hr, "/hr/")
    found["leaderboard"] = (agent, "/leaderboard/")
    return group, found


def test_no_page_runs_more_queries_for_20_agents_than_for_2(
    client, people, pages, django_capture_on_commit_callbacks
):
    group, urls = pages
    october = PeriodFactory(year=2026, month=10)
    _floor([people.agent_a, people.agent_a2], group=group, lead=people.lead_a)
    _approve(october, django_capture_on_commit_callbacks, owner=people.lead_a)
    two = {name: _count(client, user, url) for name, (user, url) in urls.items()}

    more = [AgentFactory(employee_id=f"X{n:02d}", team=people.team_a) for n in range(18)]
    _floor(more, group=group, lead=people.lead_a)
    _approve(october, django_capture_on_commit_callbacks, owner=people.lead_a)  # v2, with the 18
    assert Review.objects.filter(period=october, team=people.team_a).count() == 20
    assert Alert.objects.filter(team=people.team_a, acknowledged_at__isnull=True).count() == 13
    twenty = {name: _count(client, user, url) for name, (user, url) in urls.items()}
    assert twenty == two
