"""A computation run: statements from the calls, idempotent chunks, one run at a time, approval."""

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest

from incentives import services
from incentives.models import Agent, Period, PlanMetric, Run, RunChunk, Statement
from incentives.selectors import plan_problems
from tests.factories import (
    ANSWER_ONLY,
    AgentFactory,
    CallFactory,
    PeriodFactory,
    TeamFactory,
    plan_from_preset,
)

OCT = dt.datetime(2026, 10, 15, 2, 0, tzinfo=dt.UTC)


def _calls(agent, answered: int, offered: int, *, when=OCT):
    for number in range(offered):
        call = CallFactory(agent=agent, started_at=when + dt.timedelta(minutes=number))
        if number >= answered:
            call.answered_at = None
            call.save()


@pytest.fixture
def october(people):
    _calls(people.agent_a, 193, 200)  # 96.5% -> 125 points -> 1000 x 1.2 x 1.25 + 200 = 1700.00
    _calls(people.agent_a2, 92, 100)  # 92% -> 70 points -> 700.00
    _calls(people.agent_b, 9, 10)  # 90% -> 50 points -> below the 60 tier -> 0.00
    # A call in the first minutes of November in Shanghai, still 31 October in UTC: not October's.
    _calls(people.agent_b, 0, 1, when=dt.datetime(2026, 10, 31, 16, 30, tzinfo=dt.UTC))
    return PeriodFactory(year=2026, month=10)


def _start(period, capture):
    with capture(execute=True):
        run = services.run_start(period=period)
    run.refresh_from_db()
    return run


def test_a_run_writes_one_statement_per_agent_from_the_calls(
    people, october, django_capture_on_commit_callbacks
):
    run = _start(october, django_capture_on_commit_callbacks)
    assert run.status == Run.Status.DONE and run.number == 1
    october.refresh_from_db()
    assert october.status == Period.Status.COMPUTED
    by_agent = {s.agent.employee_id: s for s in Statement.objects.filter(run=run)}
    assert set(by_agent) == {"A1", "A2", "B1"}
    a1 = by_agent["A1"]
    line = a1.lines.get()
    assert (line.numerator, line.denominator, line.value) == (193, 200, Decimal("96.5000"))
    assert line.score == Decimal("125.0000") and line.points == Decimal("125.0000")
    assert a1.amount == Decimal("1700.00") and a1.kicker == Decimal("200.00")
    assert by_agent["A2"].amount == Decimal("700.00")
    assert by_agent["B1"].lines.get().denominator == 10
    assert by_agent["B1"].amount == Decimal("0.00") and by_agent["B1"].tier_rate == 0


def test_a_second_run_is_a_new_version_with_identical_statements(
    people, october, django_capture_on_commit_callbacks
):
    first = _start(october, django_capture_on_commit_callbacks)
    second = _start(october, django_capture_on_commit_callbacks)
    assert (first.number, second.number) == (1, 2)

    def amounts(run):
        return sorted(
            Statement.objects.filter(run=run).values_list(
                "agent__employee_id", "amount", "weighted_score"
            )
        )

    assert amounts(first) == amounts(second)
    assert Statement.objects.count() == 6  # the old run's statements are kept


def test_two_requests_for_the_same_period_start_one_run(people, october):
    first = services.run_start(
        period=october
    )  # its chunks wait: the test's transaction never commits
    with pytest.raises(services.RunAlreadyActive) as refused:
        services.run_start(period=october)
    assert refused.value.run == first
    assert Run.objects.filter(period=october).count() == 1


def test_a_chunk_delivered_twice_replaces_and_never_doubles(people, october):
    run = services.run_start(period=october)
    chunk = RunChunk.objects.get(run=run, teams=people.team_a)
    services.run_chunk_execute(chunk_id=chunk.pk)
    # A re-delivery after the chunk's work committed but before the ack: nothing changes.
    services.run_chunk_execute(chunk_id=chunk.pk)
    # A re-delivery of a chunk whose first worker died before committing: it runs again, replacing.
    RunChunk.objects.filter(pk=chunk.pk).update(status=RunChunk.Status.PENDING)
    services.run_chunk_execute(chunk_id=chunk.pk)
    assert Statement.objects.filter(run=run, team=people.team_a).count() == 2
    run.refresh_from_db()
    assert run.status == Run.Status.RUNNING  # team B's chunk is not done yet
    services.run_chunk_execute(chunk_id=RunChunk.objects.get(run=run, teams=people.team_b).pk)
    run.refresh_from_db()
    assert run.status == Run.Status.DONE


def test_agents_without_a_plan_or_with_two_are_reported_not_guessed(
    people, october, django_capture_on_commit_callbacks
):
    lonely = TeamFactory(code="team-c", name="Team C")
    AgentFactory(employee_id="C1", name="Agent C1", team=lonely)
    # A plan for outbound agents anywhere: no overlap when it is activated (everyone is inbound) ...
    plan_from_preset(
        code="outbound", teams=[], preset=dataclasses.replace(ANSWER_ONLY, channels=("outbound",))
    )
    # ... until HR makes A2 an outbound agent: now two plans apply to A2.
    Agent.objects.filter(pk=people.agent_a2.pk).update(channel="outbound")
    run = _start(october, django_capture_on_commit_callbacks)
    assert (
        RunChunk.objects.get(run=run, teams=lonely).problem
        == "Agent C1 (C1): no plan applies on 2026-10-31."
    )
    problem = RunChunk.objects.get(run=run, teams=people.team_a).problem
    assert problem.startswith("Agent A2 (A2): 2 plans apply on 2026-10-31")
    assert set(Statement.objects.filter(run=run).values_list("agent__employee_id", flat=True)) == {
        "A1",
        "B1",
    }
    assert [p.agent.employee_id for p in plan_problems(dt.date(2026, 10, 31))] == ["A2", "C1"]


def test_a_chunk_that_fails_fails_its_run_with_the_reason(
    people, october, django_capture_on_commit_callbacks
):
    PlanMetric.objects.filter(version=people.plan).update(metric="no_such_metric")
    with (
        pytest.raises(ValueError, match="Unknown metric"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.run_start(period=october)
    run = Run.objects.get(period=october)
    assert run.status == Run.Status.FAILED
    assert "Unknown metric 'no_such_metric'" in run.error
    # A failed run does not block the next one.
    PlanMetric.objects.filter(version=people.plan).update(metric="answer_rate")
    assert _start(october, django_capture_on_commit_callbacks).status == Run.Status.DONE


def test_a_closed_period_is_not_computed(people, october, django_capture_on_commit_callbacks):
    run = _start(october, django_capture_on_commit_callbacks)
    services.period_approve(period=october, run=run)
    Period.objects.filter(pk=october.pk).update(status=Period.Status.CLOSED)
    with pytest.raises(services.PeriodStateError, match="closed"):
        services.run_start(period=october)


def test_only_a_finished_run_can_be_approved(people, october):
    run = services.run_start(period=october)
    with pytest.raises(services.PeriodStateError, match="only a finished run"):
        services.period_approve(period=october, run=run)


def test_the_schedule_computes_the_month_that_just_ended(
    people, october, django_capture_on_commit_callbacks, monkeypatch
):
    from django.utils import timezone

    # 1 November 00:30 in Shanghai is still 31 October in UTC; the month that just ended is October.
    monkeypatch.setattr(timezone, "now", lambda: dt.datetime(2026, 10, 31, 16, 30, tzinfo=dt.UTC))
    with django_capture_on_commit_callbacks(execute=True):
        run = services.period_compute_previous_month()
    assert run.period == october
    run.refresh_from_db()
    assert run.status == Run.Status.DONE


@pytest.mark.parametrize(
    ("limit", "parts"),
    [(1, [["team-a"], ["team-b"]]), (2, [["team-a"], ["team-b"]]), (3, [["team-a", "team-b"]])],
)
def test_a_run_packs_whole_teams_into_chunks_and_pays_the_same_whatever_their_size(
    people, october, django_capture_on_commit_callbacks, settings, limit, parts
):
    settings.RUN_CHUNK_AGENTS = limit  # team A has 2 agents, team B 1
    run = _start(october, django_capture_on_commit_callbacks)
    assert [
        sorted(c.teams.values_list("code", flat=True)) for c in run.chunks.order_by("pk")
    ] == parts
    paid = sorted(
        Statement.objects.filter(run=run).values_list("agent__employee_id", "team__code", "amount")
    )
    assert paid == [
        ("A1", "team-a", Decimal("1700.00")),
        ("A2", "team-a", Decimal("700.00")),
        ("B1", "team-b", Decimal("0.00")),
    ]


def test_the_facts_fingerprint_is_the_sha256_of_the_sums_as_compact_json():
    """Written piece by piece for speed, it must stay the hash of the same text as before: a changed
    fingerprint would say every agent's data changed between runs computed either side of a release.
    The values are exact now; the text keeps them as it always did, rounded half-up to 4 places."""
    import hashlib
    import json
    from fractions import Fraction

    from calls.metrics import MetricValue
    from incentives.services.runs import facts_fingerprint

    measured = {
        "gate:complaint_rate:agent:[('early_hangup_seconds', 30)]": MetricValue(
            Fraction(3, 2), Decimal(3), Decimal(200)
        ),
        "answer_rate:value:agent": MetricValue(Fraction(95), Decimal(19), Decimal(20)),
        "asa:value:agent": None,
        "nps:value:team": MetricValue(Fraction(-25, 2), Decimal("-0.5"), Decimal(4)),
        "fcr:value:agent": MetricValue(Fraction(100, 3), Decimal(1), Decimal(3)),
        "csat:improvement:agent": MetricValue(Fraction(-1, 20000), Decimal(9), Decimal(2)),
        "aht:improvement:agent": MetricValue(None, Decimal(300), Decimal(1)),
    }
    # The 4-place values as ``calls.metrics`` wrote them before they were exact.
    written = {
        "gate:complaint_rate:agent:[('early_hangup_seconds', 30)]": "1.5000",
        "answer_rate:value:agent": "95.0000",
        "nps:value:team": "-12.5000",
        "fcr:value:agent": "33.3333",
        "csat:improvement:agent": "-0.0001",  # a tie, half-up: away from zero
        "aht:improvement:agent": "None",
    }
    canonical = [
        [k, None if m is None else [str(m.numerator), str(m.denominator), written[k]]]
        for k, m in sorted(measured.items())
    ]
    expected = hashlib.sha256(json.dumps(canonical, separators=(",", ":")).encode()).hexdigest()
    assert facts_fingerprint(measured) == expected


def _statements(run) -> list[tuple]:
    """What an approved run says, statement by statement and line by line."""
    return sorted(
        Statement.objects.filter(run=run).values_list(
            "pk", "agent__employee_id", "amount", "weighted_score", "lines__score", "lines__value"
        )
    )


def test_an_approved_run_cannot_be_changed(
    client, people, october, django_capture_on_commit_callbacks
):
    run = _start(october, django_capture_on_commit_callbacks)
    services.period_approve(period=october, run=run, approved_by=people.hr)
    approved = _statements(run)
    # New calls arrive and a chunk of the approved run is delivered once more, even put back to
    # pending by hand: a finished run is never computed again.
    _calls(people.agent_b, 10, 10)
    chunk = RunChunk.objects.get(run=run, teams=people.team_b)
    RunChunk.objects.filter(pk=chunk.pk).update(status=RunChunk.Status.PENDING)
    services.run_chunk_execute(chunk_id=chunk.pk)
    assert _statements(run) == approved
    # Computing the month again makes a new version beside it, which pays the new calls (B1: 19 of 20
    # answered, 100 points, 1,000 × 1.2 + 200); the approved run, and the month's approval of it, stay
    # as they were until HR approves another.
    second = _start(october, django_capture_on_commit_callbacks)

    def b1(run):
        return Statement.objects.get(run=run, agent=people.agent_b).amount

    assert second.number == 2 and (b1(run), b1(second)) == (Decimal("0.00"), Decimal("1400.00"))
    assert _statements(run) == approved
    october.refresh_from_db()
    assert october.status == Period.Status.APPROVED and october.approved_run == run
    # Nobody edits it by hand either: the API only reads statements, the admin only shows runs.
    client.force_login(people.hr)
    statement = Statement.objects.filter(run=run).first()
    for method in ("put", "patch", "delete"):
        response = getattr(client, method)(
            f"/api/v1/statements/{statement.pk}/", {}, content_type="application/json"
        )
        assert response.status_code == 405, method
    assert (
        client.post(f"/admin/incentives/run/{run.pk}/delete/", {"post": "yes"}).status_code == 403
    )
    assert Run.objects.filter(pk=run.pk).exists() and _statements(run) == approved
