"""Every table of the reports pages (and the review and question lists) exports to CSV and XLSX with the
rows of its page, scoped like its page, its cells safe to open in a spreadsheet."""

import csv
import io

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from incentives import services
from incentives.models import Dispute, Statement
from tests.factories import CallFactory
from tests.incentives.test_compute import _start

FORMULA = "=HYPERLINK(1)"


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


def _xlsx(response) -> list[list]:
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


@pytest.fixture
def hr(client, people):
    client.force_login(people.hr)
    return client


def test_the_overview_exports_the_teams_totals_and_the_scores_by_month(hr, people, pilot):
    teams = _csv(hr.get("/hr/?export=csv"))  # the first table by default
    assert teams[0] == [
        "period",
        "period_status",
        "run",
        "run_status",
        "team_code",
        "team",
        "agents",
        "mean_score",
        "total",
        "currency",
    ]
    assert teams[1][:7] == ["2026-10", "computed", "1", "done", "team-a", "Team A", "2"]
    assert teams[1][8:] == ["2400.00", "CNY"]
    assert len(teams) == 1 + 3 + 3  # two months, three teams each
    scores = _xlsx(hr.get("/hr/?export=xlsx&table=scores"))
    assert scores == [
        ["period", "run", "0–60", "60–85", "85–100", "100–120", "≥ 120", "agents"],
        ["2026-09", 1, 3, 0, 0, 2, 0, 5],
        ["2026-10", 1, 1, 2, 0, 1, 1, 5],
    ]  # numbers stay numbers
    assert hr.get("/hr/?export=csv&table=nope").status_code == 404


def test_the_plan_comparison_exports_its_rows(hr, people, pilot):
    rows = _xlsx(hr.get("/hr/plans/?export=xlsx"))
    assert rows[0][-1] == "answer_rate" and rows[0][:4] == [
        "plan_code",
        "plan",
        "version",
        "currency",
    ]
    # Scores rounded as the page shows them: 245/3 → 81.67.
    assert rows[1][:10] == ["plan-ab", "Answer rate only", 1, "CNY", 3, 2, 81.67, 70, 800, 2400]
    assert rows[2][0] == "pilot" and rows[2][-1] == 92.5


def test_the_review_before_approval_exports_each_of_its_tables(hr, people, pilot):
    url = f"/hr/periods/{pilot.october.pk}/runs/{pilot.run.pk}/review/?export=csv"
    teams = _csv(hr.get(url))
    assert teams[0] == ["team_code", "team", "agents", "total", "budget", "over_budget"]
    assert teams[1] == ["team-a", "Team A", "2", "2400.00", "", ""]
    changes = _csv(hr.get(url + "&table=changes"))
    assert [row[0] for row in changes[1:]] == ["P1", "P2", "A2", "A1"]  # largest change first
    assert _csv(hr.get(url + "&table=scores"))[1] == ["0–60", "1"]
    assert _csv(hr.get(url + "&table=no_data")) == [["employee_id", "agent", "team", "metrics"]]


def test_runs_compared_and_whatif_export_their_rows(
    hr, people, pilot, django_capture_on_commit_callbacks
):
    CallFactory(agent=people.agent_b)  # one more answered call: B1's data changes in run v2
    second = _start(pilot.october, django_capture_on_commit_callbacks)
    url = f"/hr/periods/{pilot.october.pk}/compare/?before={pilot.run.pk}&after={second.pk}"
    assert _csv(hr.get(url + "&export=csv"))[1:] == [
        ["B1", "Agent B1", "0.00", "0.00", "0.00", "data"]
    ]
    html = hr.get(url).content.decode()
    assert f"?before={pilot.run.pk}&amp;after={second.pk}&amp;export=xlsx" in html
    rows = _xlsx(
        hr.get(f"/hr/what-if/?version={pilot.plan.pk}&period={pilot.october.pk}&export=xlsx")
    )
    assert rows[0] == ["employee_id", "agent", "paid", "under_version", "change", "weighted_score"]
    assert {row[0] for row in rows[1:]} == {"P1", "P2"}  # the version's scope: the pilot team


def test_the_leaderboard_exports_what_the_reader_may_see(client, people, pilot, settings):
    client.force_login(people.agent_b.user)
    rows = _csv(client.get("/leaderboard/?export=csv"))  # September's best: A1 and A2 tied
    assert rows[0] == ["period", "rank", "employee_id", "agent", "team", "score"]
    assert [row[:4] for row in rows[1:]] == [
        ["2026-09", "1", "A1", "Agent A1"],
        ["2026-09", "1", "A2", "Agent A2"],
    ]
    settings.LEADERBOARD_NAMED = False
    rows = _csv(client.get("/leaderboard/?export=csv"))
    assert [row[2:5] for row in rows[1:]] == [["", "an agent", ""]] * 2  # no names, ids or teams
    client.force_login(people.agent_a.user)
    quarter = _csv(client.get("/leaderboard/?export=csv&table=quarter"))
    assert ["A1", "Agent A1", "Team A"] in [row[3:6] for row in quarter]  # one's own name stays
    assert "Agent A2" not in str(quarter)


def test_an_agents_calls_export_and_a_lead_cannot_export_another_team(client, people):
    people.agent_a.name = FORMULA
    people.agent_a.save()
    now = timezone.now()
    CallFactory(
        agent=people.agent_a, external_id="@SUM(1)", queue="-2+3", started_at=now, answered_at=None
    )
    CallFactory(agent=people.agent_b, external_id="b-call", started_at=now)
    client.force_login(people.lead_a)
    url = f"/team/team-a/agents/{people.agent_a.pk}/calls/?window=today"
    rows = _csv(client.get(url + "&export=csv"))
    assert rows[0][:3] == ["call", "started_at", "queue"]
    assert rows[1][0] == "'@SUM(1)" and rows[1][2] == "'-2+3" and rows[1][5] == ""  # not answered
    sheet = _xlsx(client.get(url + "&export=xlsx"))
    assert (
        sheet[1][0] == "'@SUM(1)" and sheet[1][2] == "'-2+3" and sheet[1][4] == 10
    )  # wait, a number
    assert (
        client.get(f"/team/team-b/agents/{people.agent_b.pk}/calls/?export=csv").status_code == 404
    )
    assert (
        client.get(f"/team/team-a/agents/{people.agent_b.pk}/calls/?export=csv").status_code == 404
    )


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_a_formula_like_name_is_made_inert_in_every_hr_export(hr, people, pilot, kind):
    people.team_a.name = FORMULA
    people.team_a.save()
    people.agent_a2.name = "+1-1"
    people.agent_a2.save()
    read = _csv if kind == "csv" else _xlsx
    teams = read(hr.get(f"/hr/?export={kind}"))
    assert "'" + FORMULA in [row[5] for row in teams]
    review = (
        f"/hr/periods/{pilot.october.pk}/runs/{pilot.run.pk}/review/?export={kind}&table=changes"
    )
    assert "'+1-1" in [row[1] for row in read(hr.get(review))]


@pytest.mark.parametrize(
    "url",
    ["/hr/?export=csv", "/hr/plans/?export=xlsx", "/leaderboard/?export=csv"],
)
def test_an_export_is_refused_to_whoever_may_not_open_its_page(client, people, pilot, url):
    client.force_login(people.nobody)
    assert client.get(url).status_code == 403
    if url.startswith("/hr/"):
        client.force_login(people.lead_a)
        assert client.get(url).status_code == 403
        client.force_login(people.agent_a.user)
        assert client.get(url).status_code == 403


def test_the_review_list_exports_only_the_readers_reviews(client, people, pilot):
    services.period_approve(period=pilot.october, run=pilot.run)
    client.force_login(people.lead_a)
    rows = _csv(client.get(f"/reviews/?period={pilot.october.pk}&export=csv"))
    assert rows[0] == ["employee_id", "agent", "team", "flags", "score_change", "stage"]
    assert sorted(row[0] for row in rows[1:]) == ["A1", "A2"]  # team A's, not B1's or the pilot's
    client.force_login(people.agent_b.user)
    assert [row[0] for row in _xlsx(client.get("/reviews/?export=xlsx"))[1:]] == ["B1"]


def test_hrs_list_of_questions_exports_and_is_hr_only(client, people, pilot):
    statement = Statement.objects.get(run=pilot.september.approved_run, agent=people.agent_a)
    Dispute.objects.create(
        statement=statement,
        line=statement.lines.first(),
        raised_by=people.agent_a.user,
        question="=1+1 calls are missing",
    )
    client.force_login(people.hr)
    rows = _xlsx(client.get("/questions/?export=xlsx"))
    assert rows[1][:5] == ["A1", "Agent A1", "2026-09", "answer_rate", rows[1][4]]
    assert rows[1][5] == "'=1+1 calls are missing"
    client.force_login(people.lead_a)
    assert client.get("/questions/?export=csv").status_code == 403
