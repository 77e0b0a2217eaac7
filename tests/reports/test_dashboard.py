"""The lead's dashboard: team, groups and agents against target over a window, down to an agent's calls;
as many queries for 2 agents as for 20."""

import datetime as dt
from decimal import Decimal as D

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from incentives.models import Group, Placement
from reports import selectors
from tests.factories import AgentFactory, CallFactory


def _calls_now(agent, answered, offered):
    now = timezone.now()
    for i in range(offered):
        started = now - dt.timedelta(
            seconds=i + 1
        )  # seconds ago: inside today but at its first seconds
        answered_at = started + dt.timedelta(seconds=3) if i < answered else None
        CallFactory(agent=agent, started_at=started, answered_at=answered_at)


def test_the_dashboard_adds_agents_into_groups_and_the_team(people):
    group = Group.objects.create(team=people.team_a, code="day", name="Day shift")
    Placement.objects.filter(agent=people.agent_a).update(group=group)
    _calls_now(people.agent_a, 9, 10)
    _calls_now(people.agent_a2, 1, 10)
    d = selectors.team_dashboard(people.team_a, window="today", now=timezone.now())
    assert [m[0] for m in d.metrics] == ["answer_rate"] and d.metrics[0][2] == D(95)
    assert d.team_row.values[0].value == D(50)  # 10 of 20
    assert [(g.label, g.values[0].value) for g in d.groups] == [("Day shift", D(90))]
    assert [(a.agent.employee_id, a.values[0].value) for a in d.agents] == [
        ("A1", D(90)),
        ("A2", D(10)),
    ]
    only = selectors.team_dashboard(
        people.team_a, window="today", now=timezone.now(), group_id=group.pk
    )
    assert [a.agent.employee_id for a in only.agents] == ["A1"]


def test_the_page_drills_down_to_the_calls_with_a_fixed_number_of_queries(client, people):
    _calls_now(people.agent_a, 9, 10)
    client.force_login(people.lead_a)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/team/team-a/dashboard/?window=week").status_code == 200
        return len(captured)

    few = queries()
    for n in range(18):
        _calls_now(AgentFactory(employee_id=f"X{n:02d}", team=people.team_a), 5, 10)
    assert queries() == few
    html = client.get(
        f"/team/team-a/agents/{people.agent_a.pk}/calls/?window=today"
    ).content.decode()
    assert html.count("<tr>") == 11  # the header and the agent's 10 calls
    assert (
        client.get(f"/team/team-a/agents/{people.agent_b.pk}/calls/").status_code == 404
    )  # not in team A
    assert client.get("/team/team-b/dashboard/").status_code == 404  # not the lead's team


def test_the_dashboards_and_the_teams_tables_export_to_csv_and_xlsx(client, people):
    import csv
    import io

    from openpyxl import load_workbook

    people.agent_a.name = "=HYPERLINK(1)"
    people.agent_a.save()
    _calls_now(people.agent_a, 9, 10)
    client.force_login(people.lead_a)
    response = client.get("/team/team-a/dashboard/?window=today&export=csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0] == ["employee_id", "agent", "answer_rate"]
    assert rows[1] == ["A1", "'=HYPERLINK(1)", "90.0000"]  # a formula-like cell is made inert
    response = client.get("/team/team-a/dashboard/?window=today&export=xlsx")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert [c.value for c in sheet[2]] == ["A1", "'=HYPERLINK(1)", 90]
