"""Recognition: the best agent of the month and the quarter's top 3 from approved statements, ties
shared, names shown or not as the company chooses."""

import datetime as dt
from decimal import Decimal as D

import pytest

from incentives import services
from reports import selectors
from tests.factories import AgentFactory, PeriodFactory
from tests.incentives.test_compute import _calls, _start


def _approve(month, capture):
    period = PeriodFactory(year=2026, month=month)
    services.period_approve(period=period, run=_start(period, capture))
    period.refresh_from_db()
    return period


@pytest.fixture
def quarter(people, django_capture_on_commit_callbacks):
    """Q3 2026: A1 and A2 tie in August at 125 points; in July A1 scores 150, A2 100, B1 50."""
    july = dt.datetime(2026, 7, 10, 2, tzinfo=dt.UTC)
    august = dt.datetime(2026, 8, 10, 2, tzinfo=dt.UTC)
    for agent, answered in ((people.agent_a, 98), (people.agent_a2, 95), (people.agent_b, 90)):
        _calls(agent, answered, 100, when=july)
    for agent in (people.agent_a, people.agent_a2):
        _calls(agent, 193, 200, when=august)  # 96.5% → 125
    _calls(people.agent_b, 0, 10, when=august)  # 0 points
    return [_approve(month, django_capture_on_commit_callbacks) for month in (7, 8)]


def test_the_best_of_the_month_names_every_agent_tied_first(people, quarter):
    july, august = quarter
    assert [(r.rank, r.agent.employee_id) for r in selectors.best_of_month(july)] == [(1, "A1")]
    assert [(r.rank, r.agent.employee_id, r.score) for r in selectors.best_of_month(august)] == [
        (1, "A1", D(125)),
        (1, "A2", D(125)),
    ]


def test_the_quarters_top_3_averages_the_approved_months_and_keeps_ties(people, quarter):
    top = selectors.quarter_top(2026, 3)
    # A1 (150 + 125) / 2 = 137.5; A2 (100 + 125) / 2 = 112.5; B1 (50 + 0) / 2 = 25.
    assert [(r.rank, r.agent.employee_id, r.score, r.months) for r in top] == [
        (1, "A1", D("137.5000"), 2),
        (2, "A2", D("112.5000"), 2),
        (3, "B1", D("25.0000"), 2),
    ]
    AgentFactory(employee_id="A3", name="Agent A3", team=people.team_a)
    assert len(selectors.quarter_top(2026, 3, top=2)) == 2


def test_the_page_names_or_anonymises_the_ranks(client, people, quarter, settings):
    client.force_login(people.agent_b.user)
    html = client.get("/leaderboard/").content.decode()
    assert "Top 3 of 2026 Q3" in html and "Agent A1" in html
    settings.LEADERBOARD_NAMED = False
    html = client.get("/leaderboard/").content.decode()
    assert (
        "Agent A1" not in html and "an agent" in html and "Agent B1" in html
    )  # one's own name stays
    client.force_login(people.nobody)
    assert client.get("/leaderboard/").status_code == 403


def test_the_agents_page_charts_their_months_from_the_apps_own_static_files(
    client, people, quarter
):
    client.force_login(people.agent_a.user)
    html = client.get("/me/").content.decode()
    assert '/static/vendor/chartjs-4.6.1/chart.umd.min.js"' in html and "cdn" not in html.lower()
    assert (
        '{"month": "2026-07", "amount": 2000.0, "score": 150.0}' in html
    )  # 1,000 × 1.2 × 1.5 + 200


def test_the_agents_page_shows_their_rank_in_the_team_where_the_company_shows_ranks(
    client, people, quarter, settings
):
    client.force_login(people.agent_a2.user)
    html = client.get("/me/").content.decode()
    assert "Rank 1 of 2 in Team A for 2026-08." in html  # August: A1 and A2 tied at 125
    settings.SHOW_RANKS = False
    assert "Rank " not in client.get("/me/").content.decode()


def test_the_agents_page_lists_their_recognitions(client, people, quarter):
    # A1: best of July (150) and of August (tied at 125), first of Q3; A2: best of August, second of Q3;
    # B1: third of Q3 only.
    found = {
        a.employee_id: selectors.recognitions(a)
        for a in (people.agent_a, people.agent_a2, people.agent_b)
    }
    assert [(r.kind, r.period, r.rank) for r in found["A1"]] == [
        ("quarter", "2026 Q3", 1),
        ("month", "2026-08", 1),
        ("month", "2026-07", 1),
    ]
    assert [(r.kind, r.period, r.rank) for r in found["A2"]] == [
        ("quarter", "2026 Q3", 2),
        ("month", "2026-08", 1),
    ]
    assert [(r.kind, r.rank) for r in found["B1"]] == [("quarter", 3)]
    client.force_login(people.agent_a2.user)
    client.post("/i18n/setlang/", {"language": "en", "next": "/me/"})
    html = client.get("/me/").content.decode()
    assert "Best agent of 2026-08" in html and "No. 2 of the quarter 2026 Q3" in html
    assert "2026-07" not in html.split("Recognitions")[1].split("</section>")[0]
