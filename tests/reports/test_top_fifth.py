"""Top 20% against the rest (issue 17, point 8): a team's approved month, its agents ranked by weighted
score, the top fifth (rounded up) against the others, metric by metric — checked against the same
figures worked out again here from the statements' lines, on the lead's dashboard and in its export."""

from __future__ import annotations

import csv
import io
from fractions import Fraction

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incentives import services
from incentives.models import Statement, StatementLine
from reports.selectors.top_fifth import top_fifth, top_size
from tests.factories import AgentFactory, PeriodFactory, TeamFactory
from tests.incentives.test_compute import _calls, _start

# Team A's answered calls of 100 in October: four more agents beside A1 and A2.
ANSWERED = {"A1": 97, "A2": 92, "A3": 99, "A4": 88, "A5": 95, "A6": 91}


@pytest.fixture
def october(people, django_capture_on_commit_callbacks):
    agents = {"A1": people.agent_a, "A2": people.agent_a2}
    for code in ("A3", "A4", "A5", "A6"):
        agents[code] = AgentFactory(employee_id=code, name=f"Agent {code}", team=people.team_a)
    for code, answered in ANSWERED.items():
        _calls(agents[code], answered, 100)
    _calls(people.agent_b, 80, 100)
    period = PeriodFactory(year=2026, month=10)
    run = _start(period, django_capture_on_commit_callbacks)
    services.period_approve(period=period, run=run, approved_by=people.hr)
    period.refresh_from_db()
    return period


def test_a_fifth_rounded_up():
    assert [top_size(n) for n in (1, 2, 5, 6, 10, 11, 100)] == [1, 1, 1, 2, 2, 3, 20]


def test_the_top_fifth_against_the_rest_agrees_with_the_statements(people, october):
    fifth = top_fifth(people.team_a)
    statements = sorted(
        Statement.objects.filter(run=october.approved_run, team=people.team_a),
        key=lambda s: (-s.weighted_score, s.agent.employee_id),
    )
    assert len(statements) == 6 and fifth.agents == 6
    top = statements[:2]  # a fifth of 6, rounded up
    assert [a.employee_id for a in fifth.top] == [s.agent.employee_id for s in top]
    assert {a.employee_id for a in fifth.top} == {"A3", "A1"}  # 99% and 97% answered
    for split in fifth.metrics:
        lines = StatementLine.objects.filter(statement__in=statements, metric=split.metric)
        mine = [Fraction(x.value) for x in lines if x.statement in top and not x.no_data]
        theirs = [Fraction(x.value) for x in lines if x.statement not in top and not x.no_data]
        assert (split.top.agents, split.rest.agents) == (len(mine), len(theirs))
        assert split.top.mean == sum(mine) / len(mine)
        assert split.rest.mean == sum(theirs) / len(theirs)
    answer_rate = next(m for m in fifth.metrics if m.metric == "answer_rate")
    assert answer_rate.top.mean == Fraction(98)  # (99 + 97) / 2
    assert answer_rate.rest.mean == Fraction(92 + 88 + 95 + 91, 4)
    assert answer_rate.top_better is True


def test_a_team_of_one_compares_nothing_and_a_team_without_a_month_neither(people, october):
    team_b = top_fifth(people.team_b)
    assert team_b.agents == 1 and team_b.metrics == [] and team_b.period == october
    assert top_fifth(TeamFactory(code="team-c", name="Team C")).period is None


def test_the_lead_sees_it_on_the_dashboard_and_downloads_it(client, people, october):
    client.force_login(people.lead_a)
    page = client.get("/team/team-a/dashboard/").content.decode()
    section = page.split('id="top-fifth"', 1)[1].split("</section>", 1)[0]
    assert "Top 20% against the rest · 2026-10" in section
    assert "The best 2 of the 6 agents" in section and "Agent A3, Agent A1" in section
    assert "98.00" in section and "91.50" in section  # answer rate: top 20% and the rest
    assert "✓ 6.50" in section  # marked: the best answer more
    exported = client.get("/team/team-a/dashboard/?table=top-fifth&export=csv")
    body = b"".join(exported) if exported.streaming else exported.content
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][:3] == ["period", "metric", "direction"]
    answer = next(r for r in rows[1:] if r[1] == "answer_rate")
    assert answer[3:8] == ["98.00", "2", "91.50", "4", "6.50"]
    client.force_login(people.agent_a.user)
    assert client.get("/team/team-a/dashboard/?table=top-fifth&export=csv").status_code == 403


def test_three_queries_whatever_the_teams_size(people, october):
    with CaptureQueriesContext(connection) as queries:
        top_fifth(people.team_a)
    assert len(queries.captured_queries) == 3
