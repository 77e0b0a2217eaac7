"""The product in a real browser: HR's overview, an agent's statement and its privacy, and a lead taking
an agent through the three-stage interview."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from incentives import services
from incentives.models import Dispute, Review, Statement, TargetOverride
from tests.browser.conftest import log_in
from tests.factories import PASSWORD, PeriodFactory
from tests.incentives.test_compute import _calls, _start

pytestmark = [pytest.mark.browser]


@pytest.fixture
def approved_october(people, django_capture_on_commit_callbacks):
    _calls(people.agent_a, 193, 200)  # 1,700.00
    _calls(people.agent_a2, 85, 100)  # below the threshold: 0.00, flagged for the review
    _calls(people.agent_b, 92, 100)
    october = PeriodFactory(year=2026, month=10)
    services.period_approve(period=october, run=_start(october, django_capture_on_commit_callbacks))
    october.refresh_from_db()
    return october


def test_hr_logs_in_and_sees_the_overview(page, people, approved_october):
    log_in(page, "hr_admin", PASSWORD)
    page.goto("/hr/")
    assert page.locator("h1").inner_text() == "Overview"
    body = page.locator("main").inner_text()
    assert "2026-10 · Approved" in body and "Team A" in body and "Payroll export" in body


def test_hr_reopens_the_month_through_its_confirmation_and_sees_it_flagged(
    page, people, approved_october
):
    from incentives.models import Period

    log_in(page, "hr_admin", PASSWORD)
    page.goto("/hr/")
    page.click("text=Reopen the month")
    assert page.locator("h1").inner_text() == "Reopen 2026-10?"
    assert "agents keep seeing the approved run v1" in page.locator("main").inner_text()
    page.click("button:has-text('Reopen 2026-10')")  # no reason: the browser asks for one
    assert Period.objects.get(pk=approved_october.pk).status == Period.Status.APPROVED
    page.fill("textarea[name=reason]", "Late calls of the 31st")
    page.click("button:has-text('Reopen 2026-10')")
    page.wait_for_load_state()
    body = page.locator("main").inner_text()
    assert "2026-10 reopened" in body and "Data changed since approval." in body
    assert "Late calls of the 31st" in body
    assert Period.objects.get(pk=approved_october.pk).status == Period.Status.COMPUTED


def test_an_agent_sees_their_statement_questions_a_line_and_cannot_reach_anothers(
    page, people, approved_october
):
    own = Statement.objects.get(agent=people.agent_a, run=approved_october.approved_run)
    other = Statement.objects.get(agent=people.agent_b, run=approved_october.approved_run)
    log_in(page, "a1", PASSWORD)
    page.goto(f"/statements/{own.pk}/")
    assert "1,700.00" in page.locator("main").inner_text()
    page.fill("textarea[name=question]", "I answered 196 calls, not 193")
    page.click("text=Send to HR")
    assert "Waiting for HR's answer." in page.locator("main").inner_text()
    assert Dispute.objects.get(statement=own).question == "I answered 196 calls, not 193"
    response = page.goto(f"/statements/{other.pk}/")
    assert response.status == 404 and "Agent B1" not in page.content()


def test_a_lead_takes_an_agent_through_the_three_stages(page, people, approved_october):
    review = Review.objects.get(agent=people.agent_a2, period=approved_october)
    url = f"/reviews/{review.pk}/"
    log_in(page, "lead_a", PASSWORD)
    page.goto("/reviews/")
    assert page.locator("table tbody a").first.inner_text() == "Agent A2"  # flagged first
    page.click("text=Agent A2")
    page.select_option("select[name=category]", "staffing")
    page.fill("textarea[name=note]", "Two colleagues off sick")
    page.click("text=Add the root cause")
    page.click("button:has-text('Sign off')")
    assert "waiting for the agent" in page.locator("main").inner_text()

    def agent_acknowledges():
        log_in(page, "a2", PASSWORD)
        page.goto(url)
        page.click("button:has-text('Acknowledge')")
        assert "Acknowledged." in page.locator("main").inner_text()
        log_in(page, "lead_a", PASSWORD)
        page.goto(url)

    agent_acknowledges()
    page.fill("input[name=what]", "Scenario drill: peak-hour pacing")
    page.fill("input[name=due]", (timezone.localdate() + dt.timedelta(days=14)).isoformat())
    page.select_option("select[name=kind]", "simulation")
    page.click("text=Add the action")
    page.click("button:has-text('Sign off')")
    assert "map at least one strength and one weakness" in page.locator("main").inner_text()
    for skill, side in (("Product knowledge", "strength"), ("Pace at peak hours", "weakness")):
        page.fill("input[name=skill]", skill)
        page.select_option("select[name=side]", side)
        page.click("text=Add to the skills map")
    page.click("button:has-text('Sign off')")
    agent_acknowledges()
    page.fill("input[name=target]", "88")
    page.fill("input[name=threshold]", "80")
    page.click("button:has-text('agree')")
    page.fill("input[name=skill]", "Calming elderly callers")
    page.click("text=Add to the expert list")
    page.click("button:has-text('Sign off')")
    log_in(page, "a2", PASSWORD)
    page.goto(url)
    page.click("button:has-text('Acknowledge')")
    assert "Completed: read-only" in page.locator("main").inner_text()
    review.refresh_from_db()
    assert review.stage == Review.Stage.DONE
    override = TargetOverride.objects.get(agent=people.agent_a2, period=review.target_period)
    assert (override.threshold, override.target) == (80, 88)


def test_a_lead_drills_down_to_an_agents_calls_and_acknowledges_an_alert(page, people):
    from reports.models import Alert, AlertRule
    from reports.services import alerts_evaluate
    from tests.factories import CallFactory

    # Live-server tests empty every table between tests, the default rules too: this one is set again.
    rule = {"metric": "early_hangup_rate", "comparison": "gt", "threshold": 30, "window": "today"}
    AlertRule.objects.get_or_create(name="Early hang-ups above 30% today", defaults=rule)
    now = timezone.now()
    for i in range(20):  # 8 of 20 hung up by the customer within seconds: early hang-ups 40%
        started = now - dt.timedelta(seconds=i + 1)
        CallFactory(
            agent=people.agent_a,
            started_at=started,
            answered_at=started + dt.timedelta(seconds=2),
            talk_seconds=10 if i < 8 else 200,
            ended_by="customer" if i < 8 else "agent",
        )
    alerts_evaluate(now=now)
    log_in(page, "lead_a", PASSWORD)
    page.goto("/team/team-a/dashboard/?window=today")
    # Against target with a mark, not colour alone (20 of 20 answered: 100%), and a sparkline per row
    # whose accessible name gives the days' values.
    assert "✓ 100.00 (20/20)" in page.locator("table.dashboard").first.inner_text()
    lines = page.get_by_role(
        "img", name=re.compile(r"^Answer rate by day: .* no data; .*; target 95$")
    )
    assert lines.count() == 3 and lines.first.is_visible()  # the team, A1 and A2 (no call: no data)
    # The alert is on the dashboard too, naming the agent: the link is the one in the table.
    assert "Early hang-ups above 30% today" in page.locator("main").inner_text()
    page.locator("table.dashboard").get_by_role("link", name="Agent A1 (A1)").click()
    assert page.locator("tbody tr").count() == 20  # the agent's calls
    page.goto("/team/")
    assert "Early hang-ups above 30% today" in page.locator("main").inner_text()
    page.click("button:has-text('acknowledge')")
    assert page.url.endswith("/team/")  # back where the button was
    assert "acknowledged by lead_a" in page.locator("main").inner_text()
    assert Alert.objects.get().acknowledged_by == people.lead_a
