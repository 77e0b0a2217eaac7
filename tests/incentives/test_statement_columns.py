"""A statement line's columns are named once (``statements.LineRow``): a run's lines, read back, hold
each scored value in the column of its name, on PostgreSQL (COPY) as on SQLite (``bulk_create``)."""

import datetime as dt
from decimal import Decimal

from calls.numbers import MOST_PLACES, rounded
from incentives import services
from incentives.compute import LineKey, period_overrides, score_agents
from incentives.models import Statement
from incentives.services.statements import LineRow
from tests.factories import CallFactory, PeriodFactory

OCT = dt.datetime(2026, 10, 15, 2, 0, tzinfo=dt.UTC)


def _calls(agent, answered: int, offered: int):
    for number in range(offered):
        call = CallFactory(agent=agent, started_at=OCT + dt.timedelta(minutes=number))
        if number >= answered:
            call.answered_at = None
            call.save()


def test_each_line_column_holds_the_scored_value_of_its_name(
    people, django_capture_on_commit_callbacks
):
    _calls(people.agent_a, 193, 200)
    _calls(people.agent_a2, 92, 100)
    period = PeriodFactory(year=2026, month=10)
    with django_capture_on_commit_callbacks(execute=True):
        run = services.run_start(period=period)
    statements = {
        s.agent_id: s for s in Statement.objects.filter(run=run).prefetch_related("lines")
    }
    agents = [people.agent_a, people.agent_a2]
    team_of = {agent.pk: statements[agent.pk].team_id for agent in agents}
    scored = score_agents(
        version=statements[people.agent_a.pk].plan_version,
        agents=agents,
        team_of=team_of,
        year=2026,
        month=10,
        overrides=period_overrides(period),
        problems=[],
    )
    checked = 0
    for one in scored:
        kept = {line.metric: line for line in statements[one.agent.pk].lines.all()}
        for line, pm, targets in zip(one.result.lines, one.plan_metrics, one.targets, strict=True):
            measured = one.measured[LineKey.of(pm)]
            expected = {
                "metric": pm.metric,
                "scope": pm.scope,
                "measure": pm.measure,
                "direction": line.rule.direction,
                "target_source": targets.source,
                "threshold": targets.threshold,
                "threshold_payout": pm.threshold_payout,
                "target": targets.target,
                "excellence": targets.excellence,
                "excellence_payout": line.rule.excellence_payout,
                "weight": pm.weight,
                "statement_id": statements[one.agent.pk].pk,
                "value": rounded(line.value, MOST_PLACES),
                "numerator": measured.numerator,
                "denominator": measured.denominator,
                "effective_weight": rounded(line.effective_weight, MOST_PLACES),
                "score": rounded(line.score, MOST_PLACES),
                "points": rounded(line.points, MOST_PLACES),
                "no_data": line.no_data,
            }
            assert set(expected) == set(LineRow._fields)
            row = kept[pm.metric]
            for name, value in expected.items():
                assert getattr(row, name) == value, name
            checked += 1
    assert checked == 2
    # The values differ where a swap of neighbouring columns would otherwise go unseen.
    a1 = statements[people.agent_a.pk].lines.get()
    assert (a1.numerator, a1.denominator, a1.value) == (193, 200, Decimal("96.5000"))
    assert len({a1.threshold, a1.target, a1.excellence}) == 3
