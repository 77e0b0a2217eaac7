"""Plan versions: a used version never changes in place, a new version takes effect on its date, one
resolver answers which version applies, and no agent ever has two plans on a day."""

import dataclasses
import datetime as dt
from decimal import Decimal as D

import pytest

from incentives import services
from incentives.models import PlanVersion, Statement
from incentives.selectors import plan_problems, plan_resolve
from incentives.validation import GateSpec
from tests.factories import ANSWER_ONLY, AgentFactory, PeriodFactory, TeamFactory, plan_from_preset


def _compute(period, capture):
    with capture(execute=True):
        run = services.run_start(period=period)
    run.refresh_from_db()
    return run


def test_a_used_version_cannot_be_changed_in_place(people, django_capture_on_commit_callbacks):
    _compute(PeriodFactory(year=2026, month=10), django_capture_on_commit_callbacks)
    version = people.plan
    assert version.locked
    spec = services.version_spec_from_db(version)
    spec.metrics[0].target = D(96)
    with pytest.raises(services.PlanLocked, match="make a new version"):
        services.plan_version_update(
            version=version, spec=spec, teams=[people.team_a, people.team_b]
        )
    version.refresh_from_db()
    assert version.metrics.get().target == D(95)


def test_a_new_version_takes_effect_on_its_date(people, django_capture_on_commit_callbacks):
    october = PeriodFactory(year=2026, month=10)
    _compute(october, django_capture_on_commit_callbacks)
    v1 = people.plan
    v2 = services.plan_version_new(
        version=v1, effective_from=dt.date(2026, 11, 1), note="harder target"
    )
    assert (v2.number, v2.status) == (2, PlanVersion.Status.DRAFT)
    spec = services.version_spec_from_db(v2)
    spec.metrics[0].target = D(96)
    services.plan_version_update(version=v2, spec=spec, teams=[people.team_a, people.team_b])
    services.plan_version_activate(version=v2)
    v1.refresh_from_db()
    assert v1.effective_to == dt.date(2026, 10, 31)  # the old version ends the day before
    agent = people.agent_a
    assert plan_resolve([agent], dt.date(2026, 10, 31))[agent.pk] == [v1]
    assert plan_resolve([agent], dt.date(2026, 11, 1))[agent.pk] == [v2]
    # October's statements keep the version they used; November's computation uses the new one.
    november = PeriodFactory(year=2026, month=11)
    run = _compute(november, django_capture_on_commit_callbacks)
    assert set(Statement.objects.filter(run=run).values_list("plan_version", flat=True)) == {v2.pk}
    assert Statement.objects.filter(run__period=october, plan_version=v1).count() == 3
    assert Statement.objects.filter(run=run, agent=agent).get().lines.get().target == D(96)


def test_a_new_version_must_start_after_the_one_it_replaces(people):
    v2 = services.plan_version_new(version=people.plan, effective_from=people.plan.effective_from)
    with pytest.raises(services.PlanInvalid, match="not after"):
        services.plan_version_activate(version=v2)
    assert PlanVersion.objects.get(pk=v2.pk).status == PlanVersion.Status.DRAFT


def test_two_plans_for_the_same_agent_on_the_same_day_are_refused(people):
    other = plan_from_preset(
        code="other", teams=[people.team_b], activate=False, effective_from=dt.date(2026, 1, 1)
    )
    with pytest.raises(services.PlanInvalid, match=r"for 1 of the same agents \(B1\)"):
        services.plan_version_activate(version=other)
    assert PlanVersion.objects.get(pk=other.pk).status == PlanVersion.Status.DRAFT
    # Scoped to seniors only, and nobody in team B is senior: no overlap, accepted.
    spec = services.version_spec_from_db(other)
    services.plan_version_update(version=other, spec=spec, teams=[people.team_b], levels=["senior"])
    services.plan_version_activate(version=other)
    # An active version whose scope is widened onto team A is refused too.
    with pytest.raises(services.PlanInvalid, match="no agent may have two plans"):
        services.plan_version_update(version=other, spec=spec, teams=[people.team_a])


def test_the_resolver_follows_a_team_move_across_the_date(people):
    team_c = TeamFactory(code="team-c", name="Team C")
    c_plan = plan_from_preset(code="plan-c", teams=[team_c])
    services.agent_place(agent=people.agent_a, team=team_c, valid_from=dt.date(2026, 10, 16))
    agent = people.agent_a
    assert plan_resolve([agent], dt.date(2026, 10, 15))[agent.pk] == [people.plan]
    assert plan_resolve([agent], dt.date(2026, 10, 16))[agent.pk] == [c_plan]


def test_problems_list_agents_with_no_plan(people):
    AgentFactory(employee_id="X1", name="Agent X1", team=TeamFactory(code="team-x"))
    assert [(p.agent.employee_id, p.message) for p in plan_problems(dt.date(2026, 10, 1))] == [
        ("X1", "Agent X1 (X1): no plan applies")
    ]


def test_a_percent_of_base_pay_target_bonus(people, django_capture_on_commit_callbacks):
    spec = services.version_spec_from_db(people.plan)
    spec.target_bonus_kind, spec.target_bonus, spec.target_bonus_percent = "percent", None, D(10)
    services.plan_version_update(
        version=people.plan, spec=spec, teams=[people.team_a, people.team_b]
    )
    people.agent_a.base_pay = D("8000.00")
    people.agent_a.save()
    run = _compute(PeriodFactory(year=2026, month=10), django_capture_on_commit_callbacks)
    statement = Statement.objects.get(run=run, agent=people.agent_a)
    assert statement.target_bonus == D("800.00")
    chunk = run.chunks.get(teams=people.team_a)
    assert (
        "Agent A2 (A2): the plan pays a % of base pay and the agent has no base pay."
        in chunk.problem
    )


def test_copy_makes_an_independent_draft(people):
    plan = services.plan_copy(version=people.plan, code="copy", name="Copy")
    copy = plan.versions.get()
    assert copy.status == PlanVersion.Status.DRAFT and copy.metrics.count() == 1
    assert (
        services.version_spec_from_db(copy).metrics
        == services.version_spec_from_db(people.plan).metrics
    )


def test_a_copy_under_a_code_taken_already_is_refused_on_its_field_and_leaves_nothing(
    client, people, monkeypatch
):
    from incentives.models import Plan

    client.force_login(people.hr)
    taken = people.plan.plan.code
    before = Plan.objects.count()
    answer = client.post(
        f"/api/v1/plan-versions/{people.plan.pk}/copy/",
        {"code": taken, "name": "Again"},
        content_type="application/json",
    )
    assert answer.status_code == 400, answer.content
    assert "already exists" in answer.json()["fields"]["code"][0]
    assert Plan.objects.count() == before
    # The race the check cannot see (another request saved the code after full_clean): the same answer.
    from django.core.exceptions import ValidationError

    from incentives.services import plans as plan_services

    clean = Plan.full_clean
    try:
        Plan.full_clean = lambda self, *a, **k: (
            None
        )  # as if the other request saved after the check
        with pytest.raises(ValidationError) as refused:
            plan_services.plan_create(code=taken, name="Raced")
    finally:
        Plan.full_clean = clean
    assert "already exists" in refused.value.message_dict["code"][0]
    assert Plan.objects.count() == before


def test_gates_cut_the_bonus(people, django_capture_on_commit_callbacks):
    from tests.factories import CallFactory

    spec = services.version_spec_from_db(people.plan)
    spec.gates = [GateSpec("complaint_rate", "gt", D("0.5"), "void")]
    services.plan_version_update(
        version=people.plan, spec=spec, teams=[people.team_a, people.team_b]
    )
    start = dt.datetime(2026, 10, 10, 2, tzinfo=dt.UTC)
    for n in range(100):
        CallFactory(
            agent=people.agent_a, started_at=start + dt.timedelta(minutes=n), complaint=n == 0
        )
    run = _compute(PeriodFactory(year=2026, month=10), django_capture_on_commit_callbacks)
    statement = Statement.objects.get(run=run, agent=people.agent_a)
    gate = statement.gates_hit.get()
    assert (gate.metric, gate.value, gate.effect) == ("complaint_rate", D("1.0000"), "void")
    assert statement.weighted_score == D(150) and statement.amount == D("0.00")


def test_preset_channel_scope(people):
    plan = plan_from_preset(
        code="outbound-only", preset=dataclasses.replace(ANSWER_ONLY, channels=("outbound",))
    )
    assert plan.channels == ["outbound"]
    assert plan_resolve([people.agent_a], dt.date(2026, 10, 1))[people.agent_a.pk] == [people.plan]


def test_a_statement_keeps_a_negative_nps_and_fractional_sums(
    people, django_capture_on_commit_callbacks
):
    from calls.models import Survey
    from incentives.validation import MetricSpec
    from tests.factories import BatchFactory

    spec = services.version_spec_from_db(people.plan)
    spec.metrics = [
        MetricSpec("nps", D(50), D(-20), D(20), D(50)),
        MetricSpec("qa_score", D(50), D(80), D(90), D(50), no_data="redistribute"),
    ]
    services.plan_version_update(
        version=people.plan, spec=spec, teams=[people.team_a, people.team_b]
    )
    batch = BatchFactory()
    for n, score in enumerate((0, 3, 6, 9)):  # 1 promoter, 3 detractors: NPS = (1 - 3) / 4 = -50
        Survey.objects.create(
            batch=batch,
            source="s",
            external_id=f"s{n}",
            agent=people.agent_a,
            kind="nps",
            score=score,
            answered_at=dt.datetime(2026, 10, 5, 2, tzinfo=dt.UTC),
        )
    run = _compute(PeriodFactory(year=2026, month=10), django_capture_on_commit_callbacks)
    nps = Statement.objects.get(run=run, agent=people.agent_a).lines.get(metric="nps")
    assert (nps.numerator, nps.denominator, nps.value, nps.score) == (D(-2), D(4), D(-50), D(0))
    qa = Statement.objects.get(run=run, agent=people.agent_a).lines.get(metric="qa_score")
    assert qa.no_data and qa.effective_weight == 0 and nps.effective_weight == 100


def test_a_version_that_starts_mid_month_pays_the_whole_month(
    people, django_capture_on_commit_callbacks
):
    """The rule (docs/scoring.md): a month is paid under the version in force on its last day (a
    leaver's: their last working day), for all its days — one month, one plan, as the agent reads it."""
    v1 = people.plan
    v2 = services.plan_version_new(
        version=v1, effective_from=dt.date(2026, 10, 16), note="mid-month"
    )
    spec = services.version_spec_from_db(v2)
    spec.metrics[0].target = D(96)
    services.plan_version_update(version=v2, spec=spec, teams=[people.team_a, people.team_b])
    services.plan_version_activate(version=v2)
    leaver = people.agent_b
    leaver.leave_date = dt.date(2026, 10, 10)
    leaver.save()
    run = _compute(PeriodFactory(year=2026, month=10), django_capture_on_commit_callbacks)
    used = dict(Statement.objects.filter(run=run).values_list("agent__employee_id", "plan_version"))
    assert used == {"A1": v2.pk, "A2": v2.pk, "B1": v1.pk}  # B1 left on the 10th, under v1
    assert Statement.objects.get(run=run, agent=people.agent_a).lines.get().target == D(96)
