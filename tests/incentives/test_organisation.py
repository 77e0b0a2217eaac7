"""Dated moves: an agent who changes team mid-month is attributed by date, not by today's team."""

import datetime as dt
from decimal import Decimal as D

import pytest

from incentives import services
from incentives.models import Group, Placement, PlanMetric, Statement
from incentives.services.runs import team_value
from tests.factories import CallFactory, PeriodFactory


def test_a_move_closes_the_previous_placement_the_day_before(people):
    group = Group.objects.create(team=people.team_b, code="b1", name="B1")
    services.agent_place(
        agent=people.agent_a, team=people.team_b, group=group, valid_from=dt.date(2026, 10, 16)
    )
    rows = list(
        Placement.objects.filter(agent=people.agent_a).values_list(
            "team__code", "valid_from", "valid_to"
        )
    )
    assert rows == [
        ("team-a", dt.date(2020, 1, 1), dt.date(2026, 10, 15)),
        ("team-b", dt.date(2026, 10, 16), None),
    ]


def test_history_is_never_rewritten(people):
    services.agent_place(agent=people.agent_a, team=people.team_b, valid_from=dt.date(2026, 10, 16))
    with pytest.raises(services.OrganisationError, match="must be dated after"):
        services.agent_place(
            agent=people.agent_a, team=people.team_a, valid_from=dt.date(2026, 10, 1)
        )


def test_a_group_must_belong_to_the_team(people):
    group = Group.objects.create(team=people.team_b, code="b1", name="B1")
    with pytest.raises(services.OrganisationError, match="belongs to team"):
        services.agent_place(
            agent=people.agent_a, team=people.team_a, group=group, valid_from=dt.date(2026, 11, 1)
        )


def test_a_mid_month_move_counts_for_each_team_by_date(people, django_capture_on_commit_callbacks):
    # A1 answers 10 of 10 calls in team A until the 15th, then 0 of 10 in team B.
    for day in range(1, 11):
        CallFactory(agent=people.agent_a, started_at=dt.datetime(2026, 10, day, 2, tzinfo=dt.UTC))
        CallFactory(
            agent=people.agent_a,
            started_at=dt.datetime(2026, 10, 15 + day, 2, tzinfo=dt.UTC),
            answered_at=None,
        )
    services.agent_place(agent=people.agent_a, team=people.team_b, valid_from=dt.date(2026, 10, 16))
    assert team_value(people.team_a.pk, "answer_rate", {}, 2026, 10).numerator == 10
    team_b = team_value(people.team_b.pk, "answer_rate", {}, 2026, 10)
    assert (team_b.numerator, team_b.denominator, team_b.value) == (0, 10, D(0))
    # The agent's own statement covers the whole month, in the team where the month ends.
    with django_capture_on_commit_callbacks(execute=True):
        run = services.run_start(period=PeriodFactory(year=2026, month=10))
    statement = Statement.objects.get(run=run, agent=people.agent_a)
    assert statement.team == people.team_b
    assert (statement.lines.get().numerator, statement.lines.get().denominator) == (10, 20)


def test_a_team_scope_metric_uses_the_teams_value(people, django_capture_on_commit_callbacks):
    PlanMetric.objects.filter(version=people.plan).update(scope="team")
    for n in range(10):
        CallFactory(agent=people.agent_a, started_at=dt.datetime(2026, 10, 3, 2, n, tzinfo=dt.UTC))
        CallFactory(
            agent=people.agent_a2,
            started_at=dt.datetime(2026, 10, 3, 3, n, tzinfo=dt.UTC),
            answered_at=None if n < 2 else dt.datetime(2026, 10, 3, 3, n, 5, tzinfo=dt.UTC),
        )
    with django_capture_on_commit_callbacks(execute=True):
        run = services.run_start(period=PeriodFactory(year=2026, month=10))
    # Team A: 18 of 20 answered = 90%, the same line for both of its agents.
    for agent in (people.agent_a, people.agent_a2):
        line = Statement.objects.get(run=run, agent=agent).lines.get()
        assert (line.scope, line.numerator, line.denominator, line.value) == ("team", 18, 20, D(90))


def test_a_leaver_is_paid_for_the_days_worked(people, django_capture_on_commit_callbacks):
    people.agent_a2.leave_date = dt.date(2026, 10, 10)
    people.agent_a2.save()
    with django_capture_on_commit_callbacks(execute=True):
        run = services.run_start(period=PeriodFactory(year=2026, month=10))
    assert Statement.objects.filter(run=run, agent=people.agent_a2).exists()
    with django_capture_on_commit_callbacks(execute=True):
        november = services.run_start(period=PeriodFactory(year=2026, month=11))
    assert not Statement.objects.filter(run=november, agent=people.agent_a2).exists()
