"""The lead's dashboard: team, groups and agents against target over a window, with their last two
weeks as sparklines and the team's review progress, down to an agent's calls; as many queries for 2
agents as for 20 (tests/reports/test_query_counts.py for every page); the team's alerts, acknowledged
there by its lead."""

import datetime as dt
import re
from decimal import Decimal as D
from html import unescape
from zoneinfo import ZoneInfo

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from calls.roles import LEAD
from incentives import services
from incentives.models import Group, Placement
from incentives.presets import STANDARD_TIERS, Preset
from incentives.validation import MetricSpec
from reports import selectors
from reports.models import Alert, AlertRule
from reports.sparklines import sparkline_points
from reports.templatetags.dashboard import sparkline
from tests.factories import (
    AgentFactory,
    CallFactory,
    PeriodFactory,
    TeamFactory,
    UserFactory,
    plan_from_preset,
)


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
    # A formula-like cell is made inert; the value rounded as the page shows it.
    assert rows[1] == ["A1", "'=HYPERLINK(1)", "90.00"]
    response = client.get("/team/team-a/dashboard/?window=today&export=xlsx")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert [c.value for c in sheet[2]] == ["A1", "'=HYPERLINK(1)", 90]


# --- against target, trends, review progress, who may look ---------------------------------------------

NOW = dt.datetime(2026, 10, 15, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai, a Thursday
SHANGHAI = ZoneInfo("Asia/Shanghai")

# Answer rate (↑, target 95%) and ASA (↓, target 20 s): a cell is on target at or beyond it, in the
# metric's own direction.
BOTH_WAYS = Preset(
    code="both-ways",
    name="Answer rate and ASA",
    description="",
    metrics=(
        MetricSpec("answer_rate", D(60), D(90), D(95)),
        MetricSpec("asa", D(40), D(40), D(20)),
    ),
    tiers=STANDARD_TIERS,
)


def _calls_at(agent, when, *, answered, offered, wait=10):
    for i in range(offered):
        started = when + dt.timedelta(minutes=i)
        answered_at = started + dt.timedelta(seconds=wait) if i < answered else None
        CallFactory(agent=agent, started_at=started, answered_at=answered_at, wait_seconds=wait)


def _local(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 10, day, hour, minute, tzinfo=SHANGHAI)


def test_each_cell_is_marked_against_its_target_in_the_metrics_direction(db):
    team = TeamFactory(code="team-c", name="Team C")
    fast, slow = (AgentFactory(employee_id=e, name=f"Agent {e}", team=team) for e in ("C1", "C2"))
    plan_from_preset(code="plan-c", teams=[team], preset=BOTH_WAYS)
    _calls_at(fast, _local(15, 8), answered=9, offered=10, wait=10)  # 90% ✗, ASA 10 s ✓
    _calls_at(slow, _local(15, 8), answered=10, offered=10, wait=30)  # 100% ✓, ASA 30 s ✗
    d = selectors.team_dashboard(team, window="today", now=NOW)
    assert [(code, target, direction) for code, _, target, direction in d.metrics] == [
        ("answer_rate", D(95), "up"),
        ("asa", D(20), "down"),
    ]
    assert [(a.agent.employee_id, a.marks) for a in d.agents] == [
        ("C1", ["below", "ok"]),
        ("C2", ["ok", "below"]),
    ]
    # The team: 19 of 20 answered is 95%, on target exactly; ASA (9 × 10 + 10 × 30) / 19 = 20.53 s.
    assert d.team_row.marks == ["ok", "below"]
    assert d.team_row.cells == [("ok", "✓ 95.00 (19/20)"), ("below", "✗ 20.53 (390/19)")]
    # An agent's own target for the month (agreed in their review) is the one the cell is read against.
    services.target_override_set(
        period=PeriodFactory(year=2026, month=10),
        metric_code="answer_rate",
        threshold=D(80),
        target=D(88),
        agent=fast,
    )
    d = selectors.team_dashboard(team, window="today", now=NOW)
    c1 = d.agents[0]
    assert c1.marks == ["ok", "ok"] and c1.targets == [D(88), D(20)]
    assert c1.cells[0] == ("ok", "✓ 90.00 (9/10) · own target 88")
    assert d.metrics[0][2] == D(95) and d.agents[1].targets == [D(95), D(20)]
    # Another month's targets are not this month's.
    d = selectors.team_dashboard(team, window="today", now=NOW + dt.timedelta(days=20))
    assert [a.targets for a in d.agents] == [[D(95), D(20)], [D(95), D(20)]]


def test_the_sparklines_are_each_days_value_with_gaps_for_days_without_data(people):
    a1, a2 = people.agent_a, people.agent_a2
    _calls_at(a1, _local(2, 12), answered=1, offered=2)  # 50%
    # 3 October: no call — a gap. 00:30 on the 4th in Shanghai is still the 3rd in UTC: the 4th's.
    _calls_at(a1, _local(4, 0, 30), answered=1, offered=1)
    _calls_at(a1, _local(4, 12), answered=3, offered=3)  # the 4th: 4 of 4
    _calls_at(a1, _local(5, 12), answered=2, offered=4)  # 50%
    _calls_at(a1, _local(15, 9), answered=3, offered=4)  # today so far: 75%
    _calls_at(a2, _local(4, 12), answered=2, offered=4)  # 50%
    _calls_at(a2, _local(1, 12), answered=1, offered=1)  # 15 days ago: before the sparkline
    with CaptureQueriesContext(connection) as captured:
        d = selectors.team_dashboard(people.team_a, window="today", now=NOW)
    assert sum("calls_call" in q["sql"] for q in captured.captured_queries) == 2  # window, days
    assert (d.days[0], d.days[-1], len(d.days)) == (dt.date(2026, 10, 2), dt.date(2026, 10, 15), 14)
    gap = [None] * 9
    by_agent = {a.agent.employee_id: a.trend for a in d.agents}
    assert by_agent["A1"].values == [D(50), None, D(100), D(50), *gap, D(75)]
    assert by_agent["A2"].values == [None, None, D(50), None, *gap, None]
    # The team adds its agents' counts day by day: the 4th is 6 of 8.
    assert d.team_row.trend.values == [D(50), None, D(75), D(50), *gap, D(75)]
    assert by_agent["A1"].target == D(95) and d.trend_metric == "Answer rate"

    # Drawn where the page draws it, by the template tag, from the row's plain data.
    svg = str(sparkline(d, d.agents[0]))
    assert svg.startswith('<svg class="spark" role="img"')
    title = "<title>Answer rate by day: 10-02 50.00; 10-03 no data; 10-04 100.00; 10-05 50.00; "
    assert title in svg
    # The 4th and 5th are a line; the 2nd and today, each alone between gaps, are dots.
    assert svg.count("<polyline") == 1 and svg.count("<circle") == 2
    assert "; target 95</title>" in svg and '<line class="target"' in svg


def test_a_sparklines_points_leave_gaps_and_scale_to_the_row_and_its_target():
    runs, target_y = sparkline_points([D(80), None, D(100), D(90)], target=D(95))
    assert [[round(x, 1) for x, _ in run] for run in runs] == [[2.0], [74.0, 110.0]]
    # y grows downwards: the highest value (100) at the top, the lowest (80) at the bottom.
    assert [[round(y, 1) for _, y in run] for run in runs] == [[22.0], [2.0, 12.0]]
    assert round(target_y, 1) == 7.0
    assert sparkline_points([None, None]) == ([], None)
    assert sparkline_points([D(5), D(5)])[0] == [[(2.0, 12.0), (110.0, 12.0)]]  # flat: the middle


def test_the_dashboard_shows_where_the_teams_reviews_stand(
    client, people, django_capture_on_commit_callbacks
):
    from incentives.models import ActionItem, Review
    from incentives.services import (
        action_item_add,
        period_approve,
        review_acknowledge,
        review_sign,
        root_cause_add,
    )
    from tests.incentives.test_compute import _calls, _start

    _calls(people.agent_a, 193, 200)
    _calls(people.agent_a2, 85, 100)
    _calls(people.agent_b, 92, 100)
    october = PeriodFactory(year=2026, month=10)
    period_approve(period=october, run=_start(october, django_capture_on_commit_callbacks))
    a2 = Review.objects.get(agent=people.agent_a2, period=october)
    root_cause_add(review=a2, user=people.lead_a, metric="answer_rate", category="skill")
    review_sign(review=a2, user=people.lead_a)
    review_acknowledge(review=a2, user=people.agent_a2.user)  # now in consensus
    today = timezone.localdate()
    action_item_add(
        review=a2,
        user=people.lead_a,
        what="Script drill",
        owner=people.agent_a2.user,
        due=today + dt.timedelta(days=3),
        kind="script",
    )
    for what, due, done in (
        ("Overdue", dt.date(2026, 1, 5), None),
        ("Later", today + dt.timedelta(days=10), None),  # beyond the 7 days
        ("Done late", dt.date(2026, 1, 6), timezone.now()),
    ):
        ActionItem.objects.create(
            review=a2, what=what, owner=people.lead_a, due=due, kind="training", done_at=done
        )
    b1 = Review.objects.get(agent=people.agent_b, period=october)  # team B's: not team A's business
    ActionItem.objects.create(
        review=b1, what="B's", owner=people.hr, due=dt.date(2026, 1, 5), kind="training"
    )

    progress = selectors.team_reviews(people.team_a, user=people.lead_a)
    assert progress.period == october
    assert [n for _, n in progress.stages] == [1, 1, 0, 0]  # review, consensus, forward, completed
    assert (progress.overdue, progress.due_soon) == (1, 1)
    assert selectors.team_reviews(people.team_b, user=people.hr).overdue == 1

    client.force_login(people.lead_a)
    html = client.get("/team/team-a/dashboard/").content.decode()
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html))
    assert "Reviews of 2026-10" in text
    assert "Review (复盘): 1 · Consensus (共识): 1 · Forward (前瞻): 0 · Completed: 0" in text
    assert "Open actions: 1 overdue, 1 due within 7 days." in text
    assert f'href="/reviews/?period={october.pk}"' in html


def test_the_page_marks_the_cells_and_draws_a_line_per_agent(client, people):
    _calls_now(people.agent_a, 9, 10)  # 90%: short of 95
    _calls_now(people.agent_a2, 10, 10)
    client.force_login(people.lead_a)
    html = client.get("/team/team-a/dashboard/?window=today").content.decode()
    assert '<td class="below">✗ 90.00 (9/10)</td>' in html
    assert '<td class="ok">✓ 100.00 (10/10)</td>' in html
    assert "✓ at or beyond the target · ✗ short of the target · — no data." in html
    assert html.count('<svg class="spark" role="img"') == 3  # the team and its two agents
    calls = reverse("reports:agent_calls", args=["team-a", people.agent_a.pk])
    assert f'href="{calls}?window=today"' in html  # spelt out in the template, and still right


def test_another_teams_lead_an_agent_and_a_login_without_a_role_cannot_look(client, people):
    lead_b = UserFactory(username="lead_b", roles=[LEAD])
    people.team_b.leads.add(lead_b)
    group = Group.objects.create(team=people.team_a, code="day", name="Day shift")
    a1 = people.agent_a.pk
    urls = [
        "/team/team-a/dashboard/",
        f"/team/team-a/dashboard/?window=month&group={group.pk}",
        "/team/team-a/dashboard/?export=csv",
        f"/team/team-a/agents/{a1}/calls/",
    ]
    client.force_login(lead_b)
    assert [client.get(url).status_code for url in urls] == [404] * 4
    assert client.get("/team/team-b/dashboard/").status_code == 200  # their own
    assert client.get(f"/team/team-b/agents/{a1}/calls/").status_code == 404  # A1 is not in team B
    for user in (people.agent_a.user, people.nobody):
        client.force_login(user)
        assert [client.get(url).status_code for url in urls] == [403] * 4
    client.force_login(people.hr)
    assert [client.get(url).status_code for url in urls] == [200] * 4


# --- the team's alerts on the dashboard -----------------------------------------------------------------


def _alert(agent, team) -> Alert:
    return Alert.objects.create(
        rule=AlertRule.objects.get(metric="early_hangup_rate"),
        level="agent",
        subject_id=agent.pk,
        subject=str(agent),
        team=team,
        window_start=timezone.now(),
        value=D(40),
        numerator=8,
        denominator=20,
    )


def _acknowledge_form(html: str, alert: Alert) -> dict:
    """The dashboard's acknowledge button for this alert, as the browser would post it."""
    form = re.search(
        rf'<form method="post" action="/alerts/{alert.pk}/acknowledge/".*?</form>', html
    )
    assert form, "no acknowledge button for this alert"
    fields = re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form.group())
    return {name: unescape(value) for name, value in fields}


def test_the_dashboard_lists_the_teams_open_alerts_and_not_another_teams(client, people):
    ours, theirs = _alert(people.agent_a, people.team_a), _alert(people.agent_b, people.team_b)
    client.force_login(people.lead_a)
    html = client.get("/team/team-a/dashboard/?window=week").content.decode()
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html))
    assert "Alerts" in text
    assert "Early hang-ups above 30% today · Agent A1 (A1): 40.00 (8 / 20)" in text
    assert "Agent B1" not in text
    assert _acknowledge_form(html, ours)["next"] == "/team/team-a/dashboard/?window=week"
    assert f"/alerts/{theirs.pk}/" not in html
    client.force_login(people.hr)  # sees team A's alerts, but acknowledging is its lead's
    html = client.get("/team/team-a/dashboard/").content.decode()
    assert "Agent A1 (A1): 40.00" in html and "acknowledge/" not in html


def test_a_lead_acknowledges_from_the_dashboard_and_is_back_on_it(client, people):
    alert = _alert(people.agent_a, people.team_a)
    group = Group.objects.create(team=people.team_a, code="day", name="Day shift")
    client.force_login(people.lead_a)
    url = f"/team/team-a/dashboard/?window=month&group={group.pk}"  # the window and group kept
    form = _acknowledge_form(client.get(url).content.decode(), alert)
    response = client.post(f"/alerts/{alert.pk}/acknowledge/", form, follow=True)
    assert response.redirect_chain == [(url, 302)]
    alert.refresh_from_db()
    assert alert.acknowledged_by == people.lead_a
    html = response.content.decode()
    assert "Agent A1 (A1): 40.00" in html and "acknowledged by lead_a on " in html
    assert 'class="message error"' not in html and "acknowledge/" not in html


def test_the_acknowledge_button_only_sends_the_lead_back_to_a_page_of_this_site(client, people):
    alert = _alert(people.agent_a, people.team_a)
    client.force_login(people.lead_a)
    acknowledge = f"/alerts/{alert.pk}/acknowledge/"
    for elsewhere in (
        "https://evil.example/team/",
        "//evil.example/team/",
        "/\\evil.example/",
        "javascript:alert(1)",
        "",
    ):
        response = client.post(acknowledge, {"next": elsewhere})
        assert (response.status_code, response["Location"]) == (302, "/team/team-a/"), elsewhere
    assert client.post(acknowledge, {"next": "http://testserver/team/"})["Location"] == (
        "http://testserver/team/"  # this site, spelt out in full
    )
    assert client.post(acknowledge)["Location"] == "/team/team-a/"  # no next: the team page
