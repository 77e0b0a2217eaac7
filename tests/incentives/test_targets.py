"""Targets: the plan's, a team's override, an agent's override (which wins), and proposals from history."""

import datetime as dt
from decimal import Decimal as D

import pytest

from incentives import services
from incentives.models import Period, Statement
from tests.factories import AgentFactory, CallFactory, PeriodFactory


def _calls(agent, answered, offered, day=dt.datetime(2026, 10, 5, 2, tzinfo=dt.UTC)):
    for n in range(offered):
        CallFactory(
            agent=agent,
            started_at=day + dt.timedelta(minutes=n),
            answered_at=None if n >= answered else day + dt.timedelta(minutes=n, seconds=5),
        )


def test_overrides_replace_the_plans_targets_agent_first(
    people, django_capture_on_commit_callbacks
):
    october = PeriodFactory(year=2026, month=10)
    for agent in (people.agent_a, people.agent_a2, people.agent_b):
        _calls(agent, 93, 100)  # 93%: between the plan's threshold 90 and target 95
    services.target_override_set(
        period=october,
        metric_code="answer_rate",
        team=people.team_a,
        threshold=D(85),
        target=D(93),
        excellence=D(97),
    )
    services.target_override_set(
        period=october,
        metric_code="answer_rate",
        agent=people.agent_a,
        threshold=D(92),
        target=D(99),
    )
    with django_capture_on_commit_callbacks(execute=True):
        run = services.run_start(period=october)
    lines = {s.agent.employee_id: s.lines.get() for s in Statement.objects.filter(run=run)}
    # A1: its own targets (92 -> 50, 99 -> 100, no excellence): 50 + 1/7 x 50 = 400/7, kept for
    # display to 10 places.
    assert (lines["A1"].target_source, lines["A1"].target, lines["A1"].score) == (
        "agent",
        D(99),
        D("57.1428571429"),
    )
    assert lines["A1"].excellence is None
    # A2: the team's (93 is the target): 100.
    assert (lines["A2"].target_source, lines["A2"].target, lines["A2"].score) == (
        "team",
        D(93),
        D(100),
    )
    # B1: the plan's: 50 + 3/5 x 50 = 80.
    assert (lines["B1"].target_source, lines["B1"].score) == ("plan", D(80))


def test_override_rules(people, django_capture_on_commit_callbacks):
    october = PeriodFactory(year=2026, month=10)
    with pytest.raises(services.TargetInvalid, match="target must be above the threshold"):
        services.target_override_set(
            period=october,
            metric_code="answer_rate",
            team=people.team_a,
            threshold=D(95),
            target=D(90),
        )
    with pytest.raises(services.TargetInvalid, match="target must be below the threshold"):
        services.target_override_set(
            period=october, metric_code="asa", team=people.team_a, threshold=D(20), target=D(30)
        )
    with pytest.raises(services.TargetInvalid, match="exactly one"):
        services.target_override_set(
            period=october, metric_code="asa", threshold=D(40), target=D(20)
        )
    with django_capture_on_commit_callbacks(execute=True):
        run = services.run_start(period=october)
    services.period_approve(period=october, run=run)
    Period.objects.filter(pk=october.pk).update(status=Period.Status.CLOSED)
    october.refresh_from_db()
    with pytest.raises(services.TargetInvalid, match="closed"):
        services.target_override_set(
            period=october, metric_code="asa", team=people.team_a, threshold=D(40), target=D(20)
        )


def test_setting_an_override_twice_replaces_it(people):
    october = PeriodFactory(year=2026, month=10)
    first = services.target_override_set(
        period=october, metric_code="asa", agent=people.agent_a, threshold=D(40), target=D(20)
    )
    second = services.target_override_set(
        period=october, metric_code="asa", agent=people.agent_a, threshold=D(35), target=D(18)
    )
    assert first.pk == second.pk and second.target == D(18)


def test_targets_proposed_from_twelve_weeks_of_history(people):
    # Five agents in team A with answer rates 80, 85, 90, 95, 100 over the window.
    agents = [people.agent_a, people.agent_a2] + [
        AgentFactory(employee_id=f"A{n}", team=people.team_a) for n in (3, 4, 5)
    ]
    for agent, answered in zip(agents, (80, 85, 90, 95, 100), strict=True):
        _calls(agent, answered, 100, day=dt.datetime(2026, 9, 1, 2, tzinfo=dt.UTC))
    _calls(
        people.agent_a, 0, 100, day=dt.datetime(2026, 6, 1, 2, tzinfo=dt.UTC)
    )  # before the window
    proposal = services.targets_propose(
        team=people.team_a, metric_code="answer_rate", end=dt.date(2026, 10, 1)
    )
    assert proposal.start == dt.date(2026, 7, 9) and proposal.agents == 5
    # P25 = 85, median = 90, P90 = 98.
    assert (proposal.threshold, proposal.target, proposal.excellence) == (D(85), D(90), D(98))


def test_a_proposal_for_a_lower_is_better_metric_is_mirrored(people):
    agents = [people.agent_a, people.agent_a2] + [
        AgentFactory(employee_id=f"A{n}", team=people.team_a) for n in (3, 4, 5)
    ]
    for n, (agent, wait) in enumerate(zip(agents, (10, 20, 30, 40, 50), strict=True)):
        CallFactory(
            agent=agent, started_at=dt.datetime(2026, 9, 1, 2, n, tzinfo=dt.UTC), wait_seconds=wait
        )
    proposal = services.targets_propose(
        team=people.team_a, metric_code="asa", end=dt.date(2026, 10, 1)
    )
    # Threshold P75 = 40 s, target median 30 s, excellence P10 = 14 s.
    assert (proposal.threshold, proposal.target, proposal.excellence) == (D(40), D(30), D(14))


def test_a_proposal_needs_enough_agents_and_a_sane_window(people):
    with pytest.raises(services.TargetInvalid, match="at least 3 are needed"):
        services.targets_propose(
            team=people.team_a, metric_code="answer_rate", end=dt.date(2026, 10, 1)
        )
    with pytest.raises(services.TargetInvalid, match="12 to 24 weeks"):
        services.targets_propose(
            team=people.team_a, metric_code="answer_rate", end=dt.date(2026, 10, 1), weeks=4
        )


def test_hr_proposes_and_saves_targets_in_the_admin(client, people):
    agents = [people.agent_a, people.agent_a2] + [
        AgentFactory(employee_id=f"A{n}", team=people.team_a) for n in (3, 4, 5)
    ]
    for agent, answered in zip(agents, (80, 85, 90, 95, 100), strict=True):
        _calls(agent, answered, 100, day=dt.datetime(2026, 9, 1, 2, tzinfo=dt.UTC))
    october = PeriodFactory(year=2026, month=10)
    client.force_login(people.hr)
    page = client.post(
        "/admin/incentives/targetoverride/propose/",
        {
            "team": people.team_a.pk,
            "metric": "answer_rate",
            "end": "2026-10-01",
            "weeks": 12,
            "period": october.pk,
            "save": "1",
        },
    )
    assert page.status_code == 200
    assert "Saved as the team" in page.content.decode()
    override = october.target_overrides.get()
    assert (override.team, override.threshold, override.target, override.excellence) == (
        people.team_a,
        D(85),
        D(90),
        D(98),
    )
    client.force_login(people.lead_a)
    assert (
        client.get("/admin/incentives/targetoverride/propose/").status_code == 302
    )  # not staff: to login
