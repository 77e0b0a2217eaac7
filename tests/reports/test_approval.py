"""Before approval: the review page, the comparison of two runs, what-if; none of them writes."""

import dataclasses
import datetime as dt
from decimal import Decimal as D

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from incentives import services
from incentives.models import Adjustment, Statement, TargetOverride
from incentives.validation import GateSpec
from reports import selectors
from tests.factories import ANSWER_ONLY, AgentFactory, PeriodFactory, TeamFactory, plan_from_preset
from tests.incentives.test_adjustments import _closed
from tests.incentives.test_compute import OCT, _calls, _start

SEP = dt.datetime(2026, 9, 15, 2, 0, tzinfo=dt.UTC)


@pytest.fixture
def months(people, django_capture_on_commit_callbacks):
    """September approved, October computed (one metric, answer rate: see tests/factories.py)."""
    _calls(people.agent_a, 95, 100, when=SEP)  # 95% → 100 points → 1,000 × 1.2 × 1 + 200 = 1,400.00
    _calls(people.agent_a2, 95, 100, when=SEP)  # 1,400.00
    september = PeriodFactory(year=2026, month=9)
    services.period_approve(
        period=september, run=_start(september, django_capture_on_commit_callbacks)
    )
    _calls(people.agent_a, 193, 200)  # 96.5% → 1,700.00 (+300)
    _calls(people.agent_a2, 92, 100)  # 92% → 700.00 (−700)
    _calls(people.agent_b, 9, 10)  # 90% → 0.00; B1 had no calls in September
    october = PeriodFactory(year=2026, month=10)
    return september, october, _start(october, django_capture_on_commit_callbacks)


def test_the_review_shows_budgets_bands_changes_and_what_to_fix(people, months):
    september, october, run = months
    people.team_a.monthly_budget = D("2000.00")
    people.team_a.save()
    review = selectors.approval_review(period=october, run=run)
    assert review.total == D("2400.00")
    team_a, team_b = review.teams
    assert (team_a.agents, team_a.total, team_a.over_budget) == (2, D("2400.00"), D("400.00"))
    assert team_b.budget is None and team_b.over_budget is None
    assert dict(review.bands) == {"0–60": 1, "60–85": 1, "85–100": 0, "100–120": 0, "≥ 120": 1}
    assert review.previous == september
    assert [(c.statement.agent.employee_id, c.delta) for c in review.changes] == [
        ("A2", D("-700.00")),
        ("A1", D("300.00")),
    ]
    assert review.gated == [] and review.no_data == [] and review.problems == []


def test_the_review_names_gates_no_data_no_plan_and_unpaid_adjustments(
    people, django_capture_on_commit_callbacks
):
    gated = dataclasses.replace(
        ANSWER_ONLY, code="gated", gates=(GateSpec("answer_rate", "lt", D(91), "void"),)
    )
    team_c = TeamFactory(code="team-c", name="Team C")
    c1 = AgentFactory(employee_id="C1", name="Agent C1", team=team_c)
    plan_from_preset(code="gated", teams=[team_c], preset=gated)
    _calls(c1, 9, 10)  # 90% < 91%: the gate voids the bonus
    AgentFactory(
        employee_id="N1", name="Nobody's plan", team=TeamFactory(code="team-n", name="Team N")
    )
    october = PeriodFactory(year=2026, month=10)
    left = AgentFactory(employee_id="L1", name="Left in August", leave_date=dt.date(2026, 8, 31))
    Adjustment.objects.create(
        period=october, agent=left, amount=D("80.00"), corrects=_closed(8), reason="late survey"
    )
    run = _start(october, django_capture_on_commit_callbacks)
    review = selectors.approval_review(period=october, run=run)
    assert [s.agent.employee_id for s in review.gated] == ["C1"]
    assert {s.agent.employee_id for s in review.no_data} == {"A1", "A2", "B1"}  # no calls at all
    assert any("Nobody's plan" in chunk.problem for chunk in review.problems)
    assert [a.agent.employee_id for a in review.unpaid_adjustments] == ["L1"]


def test_the_review_page_runs_the_same_queries_for_three_agents_or_twenty(
    client, people, months, django_capture_on_commit_callbacks
):
    _september, october, run = months
    client.force_login(people.hr)
    url = f"/hr/periods/{october.pk}/runs/{run.pk}/review/"
    with CaptureQueriesContext(connection) as few:
        html = client.get(url).content.decode()
    assert "Approve run v1" in html and "2,400.00" in html
    for n in range(17):
        _calls(AgentFactory(employee_id=f"X{n}", team=people.team_a), 9, 10)
    bigger = _start(october, django_capture_on_commit_callbacks)
    with CaptureQueriesContext(connection) as many:
        assert client.get(f"/hr/periods/{october.pk}/runs/{bigger.pk}/review/").status_code == 200
    assert len(many) == len(few)


@pytest.mark.parametrize("persona", ["lead_a", "agent_a"])
def test_only_hr_sees_the_review_compare_and_whatif_pages(client, people, months, persona):
    _september, october, run = months
    user = people.lead_a if persona == "lead_a" else people.agent_a.user
    client.force_login(user)
    for url in (
        f"/hr/periods/{october.pk}/runs/{run.pk}/review/",
        f"/hr/periods/{october.pk}/compare/",
        "/hr/what-if/",
    ):
        assert client.get(url).status_code == 403


def test_two_runs_compared_say_what_changed_and_why(
    people, months, django_capture_on_commit_callbacks
):
    _september, october, first = months
    _calls(people.agent_a, 0, 10, when=OCT + dt.timedelta(days=2))  # data: 193 of 210 → 91.9%
    TargetOverride.objects.create(
        period=october,
        metric="answer_rate",
        agent=people.agent_a2,
        threshold=D(85),
        target=D(92),
        excellence=D(98),
    )
    second = _start(october, django_capture_on_commit_callbacks)
    differences = {
        d.agent.employee_id: d for d in selectors.runs_compare(before=first, after=second)
    }
    assert set(differences) == {"A1", "A2"}  # B1's statement is the same
    assert differences["A1"].reasons == ["data"] and differences["A1"].delta < 0
    assert differences["A2"].reasons == ["targets"] and differences["A2"].delta == D("700.00")


def test_the_compare_page_lists_the_differences(
    client, people, months, django_capture_on_commit_callbacks
):
    _september, october, first = months
    _calls(people.agent_b, 10, 10, when=OCT + dt.timedelta(days=3))
    second = _start(october, django_capture_on_commit_callbacks)
    client.force_login(people.hr)
    html = client.get(
        f"/hr/periods/{october.pk}/compare/?before={first.pk}&after={second.pk}"
    ).content.decode()
    assert "Agent B1" in html and "data" in html and "Agent A1" not in html


def test_whatif_runs_a_draft_over_a_past_month_and_writes_nothing(people, months):
    _september, october, run = months
    easier = dataclasses.replace(
        ANSWER_ONLY,
        code="pilot",
        metrics=(dataclasses.replace(ANSWER_ONLY.metrics[0], target=D(92)),),
    )
    draft = plan_from_preset(code="pilot", teams=[people.team_a], preset=easier, activate=False)
    before = Statement.objects.count()
    result = selectors.whatif(version=draft, period=october)
    assert Statement.objects.count() == before
    rows = {r.agent.employee_id: r for r in result.rows}
    assert set(rows) == {"A1", "A2"}  # B1 is not in the pilot's scope
    # A1: 100 + (96.5 − 92) / (98 − 92) × 50 = 137.5 → 1,000 × 1.2 × 1.375 + 200 = 1,850.00
    assert (rows["A1"].before.amount, rows["A1"].after.amount) == (D("1700.00"), D("1850.00"))
    assert rows["A2"].after.amount == D("1400.00")  # 92% is now the target
    assert (result.real_total, result.whatif_total) == (D("2400.00"), D("3250.00"))
    assert len(result.winners) == 2 and result.losers == [] and result.compared_with == run


def test_the_whatif_page(client, people, months):
    _september, october, _run = months
    client.force_login(people.hr)
    html = client.get(f"/hr/what-if/?version={people.plan.pk}&period={october.pk}").content.decode()
    assert "Nothing is written" in html and "2,400.00" in html


def test_the_api_gives_the_review_the_comparison_and_whatif_to_hr_only(
    client, people, months, django_capture_on_commit_callbacks
):
    _september, october, first = months
    _calls(people.agent_b, 10, 10, when=OCT + dt.timedelta(days=3))
    second = _start(october, django_capture_on_commit_callbacks)
    client.force_login(people.hr)
    review = client.get(f"/api/v1/runs/{first.pk}/review/").json()
    assert review["total"] == "2400.00" and review["largest_changes"][0]["employee_id"] == "A2"
    compared = client.get(f"/api/v1/runs/{second.pk}/compare/?with={first.pk}").json()
    assert [(d["employee_id"], d["reasons"]) for d in compared["differences"]] == [("B1", ["data"])]
    assert client.get(f"/api/v1/runs/{second.pk}/compare/?with=x").status_code == 400
    result = client.post(
        "/api/v1/what-if/", {"version": people.plan.pk, "period": october.pk}
    ).json()
    assert result["compared_with_run"] == 2 and result["whatif_total"] == result["real_total"]
    # The same plan over the same data: what-if's scores are the statements' figures, as the API
    # gives them (in plain notation: a score of 0 is 0.0000000000, never 0E-10).
    scores = [
        (d["before"]["weighted_score"], d["after"]["weighted_score"]) for d in result["agents"]
    ]
    assert all(before == after and "E" not in after for before, after in scores)
    client.force_login(people.lead_a)
    assert client.get(f"/api/v1/runs/{first.pk}/review/").status_code == 403
    assert (
        client.post(
            "/api/v1/what-if/", {"version": people.plan.pk, "period": october.pk}
        ).status_code
        == 403
    )


def test_hr_records_an_adjustment_through_the_api_and_a_refusal_says_why(client, people):
    september, october = _closed(9), PeriodFactory(year=2026, month=10)
    client.force_login(people.hr)
    body = {
        "period": october.pk,
        "agent": people.agent_a.pk,
        "amount": "-35.20",
        "corrects": september.pk,
        "reason": "a complaint withdrawn after close",
    }
    created = client.post("/api/v1/adjustments/", body)
    assert created.status_code == 201 and created.json()["amount"] == "-35.20"
    refused = client.post(
        "/api/v1/adjustments/", {**body, "corrects": october.pk, "period": september.pk}
    )
    assert refused.status_code == 400 and "open month" in refused.json()["detail"]
    client.force_login(people.agent_a.user)
    assert client.get("/api/v1/adjustments/").status_code == 403


def test_whatif_pays_the_months_corrections_on_both_sides(people, months):
    """A correction of an earlier month is paid whatever the plan: it must not count as a plan's win."""
    _september, october, run = months
    easier = dataclasses.replace(
        ANSWER_ONLY,
        code="pilot",
        metrics=(dataclasses.replace(ANSWER_ONLY.metrics[0], target=D(92)),),
    )
    draft = plan_from_preset(code="pilot", teams=[people.team_a], preset=easier, activate=False)
    Statement.objects.filter(run=run, agent=people.agent_a2).update(
        adjustments=D("50.00"), amount=F("amount") + D("50.00")
    )
    rows = {r.agent.employee_id: r for r in selectors.whatif(version=draft, period=october).rows}
    assert (rows["A2"].before.amount, rows["A2"].after.amount) == (D("750.00"), D("1450.00"))
    assert rows["A2"].delta == D("700.00")  # as without the correction


def test_the_whatif_page_opens_ready_to_run_the_newest_draft_over_the_latest_month(
    client, people, months
):
    _september, october, _run = months
    draft = plan_from_preset(code="pilot", teams=[people.team_a], activate=False)
    client.force_login(people.hr)
    html = client.get("/hr/what-if/").content.decode()
    assert f'<option value="{draft.pk}" selected>' in html
    assert f'<option value="{october.pk}" selected>' in html
