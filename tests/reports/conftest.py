"""A month approved and a month computed, with a pilot team on its own plan beside teams A and B."""

import dataclasses
import datetime as dt
from decimal import Decimal as D
from types import SimpleNamespace

import pytest

from incentives import services
from incentives.validation import MetricSpec
from tests.factories import ANSWER_ONLY, AgentFactory, PeriodFactory, TeamFactory, plan_from_preset
from tests.incentives.test_compute import _calls, _start

SEP = dt.datetime(2026, 9, 15, 2, 0, tzinfo=dt.UTC)

# The pilot's plan: answer rate as on plan A (half the weight), and ASA (threshold 40 s, target 20 s;
# the factory's calls wait 10 s, so every agent with answered calls scores 100 on it).
PILOT = dataclasses.replace(
    ANSWER_ONLY,
    code="pilot",
    name="Pilot",
    metrics=(
        dataclasses.replace(ANSWER_ONLY.metrics[0], weight=D(50)),
        MetricSpec("asa", D(50), D(40), D(20)),
    ),
)


@pytest.fixture
def pilot(people, django_capture_on_commit_callbacks):
    """September approved; October computed, not approved.

    Plan A (teams A and B), October: A1 193/200 answered (125 points, 1,700.00), A2 92/100 (70, 700.00),
    B1 9/10 (50, 0.00). Pilot (team P), October: P1 95/100 (answer 100, ASA 100: 100 points, 1,400.00),
    P2 90/100 (answer 50, ASA 100: 75 points, 750.00). September: A1 and A2 95/100 (100 points), the
    others no calls (0 points)."""
    team_p = TeamFactory(code="team-p", name="Pilot team")
    p1 = AgentFactory(employee_id="P1", name="Agent P1", team=team_p)
    p2 = AgentFactory(employee_id="P2", name="Agent P2", team=team_p)
    pilot_plan = plan_from_preset(code="pilot", teams=[team_p], preset=PILOT)
    _calls(people.agent_a, 95, 100, when=SEP)
    _calls(people.agent_a2, 95, 100, when=SEP)
    september = PeriodFactory(year=2026, month=9)
    services.period_approve(
        period=september, run=_start(september, django_capture_on_commit_callbacks)
    )
    september.refresh_from_db()
    _calls(people.agent_a, 193, 200)
    _calls(people.agent_a2, 92, 100)
    _calls(people.agent_b, 9, 10)
    _calls(p1, 95, 100)
    _calls(p2, 90, 100)
    october = PeriodFactory(year=2026, month=10)
    run = _start(october, django_capture_on_commit_callbacks)
    october.refresh_from_db()
    return SimpleNamespace(
        september=september,
        october=october,
        run=run,
        team_p=team_p,
        p1=p1,
        p2=p2,
        plan=pilot_plan,
    )
