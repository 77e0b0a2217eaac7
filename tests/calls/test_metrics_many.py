"""Many metrics at once: ``metric_values_many`` gives exactly what ``metric_values`` gives, metric by
metric, with one query per table for the metrics that are one aggregate over it.

The month is realistic: October 2026 of generated calls (``calls.generator``) for A1, A2 and B1, from a
few days before to a few days after the month, with hand-made calls the generator never makes (outbound,
hung up without an "ended by", unknown transfers), surveys of every kind, conversions, invitations, QA
and work time. C1 only dials out (no inbound call: no ASA, service level, FCR); Z9 has no data at all.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import random
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from calls.generator import QUEUES, csv_lines, generate_calls
from calls.metrics import (
    CATALOGUE,
    metric_ratios,
    metric_ratios_by_day,
    metric_values,
    metric_values_many,
)
from calls.models import Call, Conversion, ImportBatch, QaAssessment, Survey, WorkTime
from calls.months import center_tz, month_bounds
from calls.services import facts_import
from tests.factories import AgentFactory, BatchFactory, CallFactory

OCT_START, OCT_END = month_bounds(2026, 10)
# 27 September to 6 November: both edges of the month, and the FCR window after it.
FIRST_DAY, DAYS = dt.date(2026, 9, 27), 41

# A plan's six call metrics, one with a parameter of its own.
PLAN = [
    ("answer", "answer_rate", None),
    ("asa", "asa", None),
    ("sl", "service_level", {"answer_within_seconds": 15}),
    ("abandon", "abandon_rate", None),
    ("aht", "aht", None),
    ("early", "early_hangup_rate", {"early_hangup_seconds": 45}),
]


def _other_values(param) -> list[int | str]:
    """Values other than the default: the edge of the range and one in the middle of the field; for a
    queue, one of the generator's queues."""
    if param.kind == "queue":
        return [QUEUES[0]]
    edge = param.minimum if param.minimum != param.default else param.maximum
    middle = min(param.maximum, max(param.minimum, param.default * 3 // 2 + 1))
    return sorted({edge, middle} - {param.default})


def _every_request() -> list[tuple[str, str, dict | None]]:
    """Every metric of the catalogue with its defaults, and with each parameter moved off its default."""
    requests = []
    for definition in CATALOGUE:
        requests.append((definition.code, definition.code, None))
        for param in definition.params:
            for value in _other_values(param):
                requests.append(
                    (
                        f"{definition.code}:{param.code}={value}",
                        definition.code,
                        {param.code: value},
                    )
                )
    return requests


_external_ids = itertools.count(1)


def _fact(model, rng, agent, batch, **fields):
    return model(
        source="test",
        external_id=f"M{next(_external_ids):06d}",
        agent=agent,
        batch=batch,
        **fields,
    )


@pytest.fixture
def month(people):
    """The month's facts; returns the agent ids to ask for (Z9 included, who has none)."""
    rng = random.Random(20261001)
    tz = center_tz()
    outbound_only = AgentFactory(employee_id="C1", team=people.team_b)
    silent = AgentFactory(employee_id="Z9", team=people.team_b)
    agents = [people.agent_a, people.agent_a2, people.agent_b]
    rows = generate_calls(
        employee_ids=["A1", "A2", "B1"],
        first_day=FIRST_DAY,
        days=DAYS,
        calls_per_agent_day=9,
        seed=7,
    )
    batch = facts_import(
        stream=io.BytesIO("".join(csv_lines(rows)).encode()), filename="october.csv", source="acd"
    )
    assert batch.status == ImportBatch.Status.APPLIED, batch.errors

    # What the generator never makes: outbound calls, a customer's hang-up the switch did not attribute,
    # transfers whose correctness is unknown, very short abandons.
    for n in range(60):
        agent = rng.choice([*agents, outbound_only])
        started = dt.datetime(2026, 10, 1, 9, tzinfo=tz) + dt.timedelta(
            minutes=rng.randrange(44640)
        )
        answered = rng.random() < 0.7
        wait = rng.choice([0, 2, 4, 5, 6, 19, 20, 21, 60])
        CallFactory(
            agent=agent,
            direction=Call.Direction.OUTBOUND
            if agent == outbound_only or n % 3
            else Call.Direction.INBOUND,
            started_at=started,
            answered_at=started + dt.timedelta(seconds=wait) if answered else None,
            wait_seconds=wait,
            talk_seconds=rng.choice([0, 10, 29, 30, 31, 44, 45, 119, 120, 400]) if answered else 0,
            acw_seconds=rng.randrange(60) if answered else 0,
            transfers=rng.choice([0, 0, 1, 2]) if answered else 0,
            transfer_correct=rng.choice([None, True, False]),
            ended_by=rng.choice(["", "", Call.EndedBy.CUSTOMER, Call.EndedBy.SYSTEM]),
            outcome=rng.choice([Call.Outcome.HUNG_UP, Call.Outcome.RESOLVED, ""]),
            complaint=rng.random() < 0.1,
            customer_key=rng.choice([None, 1, 2, 3]),
        )

    facts = BatchFactory()
    calls = list(Call.objects.filter(answered_at__isnull=False).order_by("pk"))
    conversions = [
        _fact(
            Conversion,
            rng,
            call.agent,
            facts,
            call=call,
            kind=rng.choice(
                [Conversion.Kind.SALE, Conversion.Kind.APPOINTMENT, Conversion.Kind.INTENT]
            ),
            occurred_at=call.started_at + dt.timedelta(minutes=rng.randrange(5, 3000)),
        )
        for call in rng.sample(calls, 150)
    ]
    conversions += [
        _fact(
            Conversion,
            rng,
            rng.choice(agents),
            facts,
            kind=Conversion.Kind.INVITATION,
            accepted=rng.choice([True, False]),
            occurred_at=dt.datetime(2026, 9, 29, tzinfo=tz)
            + dt.timedelta(hours=rng.randrange(900)),
        )
        for _ in range(80)
    ]
    Conversion.objects.bulk_create(conversions)
    surveys = []
    for _ in range(300):
        kind = rng.choice([Survey.Kind.CSAT, Survey.Kind.NPS, Survey.Kind.CES])
        low, high = {"csat": (1, 5), "nps": (0, 10), "ces": (1, 7)}[kind]
        surveys.append(
            _fact(
                Survey,
                rng,
                rng.choice([*agents, outbound_only]),
                facts,
                kind=kind,
                score=rng.randint(low, high),
                answered_at=dt.datetime(2026, 9, 29, tzinfo=tz)
                + dt.timedelta(hours=rng.randrange(900)),
            )
        )
    Survey.objects.bulk_create(surveys)
    QaAssessment.objects.bulk_create(
        _fact(
            QaAssessment,
            rng,
            rng.choice(agents),
            facts,
            score=Decimal(rng.randrange(4000, 10001)) / 100,
            assessed_at=dt.datetime(2026, 9, 29, tzinfo=tz)
            + dt.timedelta(hours=rng.randrange(900)),
        )
        for _ in range(40)
    )
    WorkTime.objects.bulk_create(
        WorkTime(
            batch=facts,
            source="test",
            agent=agent,
            day=FIRST_DAY + dt.timedelta(days=day),
            logged_in_seconds=rng.randrange(6, 9) * 3600,
        )
        for agent in [*agents, outbound_only]
        for day in range(DAYS)
        if rng.random() < 0.8
    )
    return [*(agent.pk for agent in agents), outbound_only.pk, silent.pk]


def _call_queries(captured) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if Call._meta.db_table in q["sql"]]


def test_every_metric_is_exactly_what_metric_values_gives(month):
    requests = _every_request()
    many = metric_values_many(requests, agent_ids=month, start=OCT_START, end=OCT_END)
    assert list(many) == [key for key, _, _ in requests]
    silent = month[-1]
    for key, code, params in requests:
        alone = metric_values(code, agent_ids=month, start=OCT_START, end=OCT_END, params=params)
        assert many[key] == alone, key
        # The month exercises every metric: someone has a value, and no data is never a value.
        assert alone and silent not in alone, key


def test_agents_without_the_denominator_are_absent(month, people):
    outbound_only = month[-2]
    many = metric_values_many(
        [("asa", "asa", None), ("answer", "answer_rate", None)],
        agent_ids=month,
        start=OCT_START,
        end=OCT_END,
    )
    assert outbound_only not in many["asa"] and outbound_only in many["answer"]


def test_six_call_metrics_of_a_plan_are_one_query_over_the_calls(month):
    with CaptureQueriesContext(connection) as captured:
        many = metric_values_many(PLAN, agent_ids=month, start=OCT_START, end=OCT_END)
    assert len(_call_queries(captured)) == 1
    assert len(captured.captured_queries) == 1
    for key, code, params in PLAN:
        assert many[key] == metric_values(
            code, agent_ids=month, start=OCT_START, end=OCT_END, params=params
        )


def test_one_query_per_table_for_every_aggregate_metric(month):
    requests = [(d.code, d.code, None) for d in CATALOGUE if d.aggregate is not None]
    assert {code for _, code, _ in requests} == {
        "answer_rate",
        "asa",
        "service_level",
        "abandon_rate",
        "aht",
        "first_correct_transfer",
        "complaint_rate",
        "early_hangup_rate",
        "csat",
        "ces",
        "ces_low_effort",
        "nps",
        "invitation_success",
        "qa_score",
    }
    with CaptureQueriesContext(connection) as captured:
        metric_values_many(requests, agent_ids=month, start=OCT_START, end=OCT_END)
    tables = sorted(
        re.search(r'FROM "(\w+)"', q["sql"]).group(1) for q in captured.captured_queries
    )
    assert tables == ["calls_call", "calls_conversion", "calls_qaassessment", "calls_survey"]


def test_duplicate_requests_are_computed_once(month):
    requests = [
        ("sl", "service_level", None),
        ("sl-20", "service_level", {"answer_within_seconds": 20}),  # the default, spelled out
        ("sl-30", "service_level", {"answer_within_seconds": 30}),
        ("answer", "answer_rate", None),
        ("answer-again", "answer_rate", {}),
        ("fcr", "fcr", None),
        ("fcr-7", "fcr", {"window_days": 7}),
    ]
    with CaptureQueriesContext(connection) as captured:
        many = metric_values_many(requests, agent_ids=month, start=OCT_START, end=OCT_END)
    calls_sql = [sql for sql in _call_queries(captured) if "LEAD(" not in sql]
    assert len(calls_sql) == 1
    # Columns: answered within 20 s, within 30 s, inbound (service level's denominator, once),
    # answered, all calls; never a column twice.
    assert len(set(re.findall(r'"term\d+"', calls_sql[0]))) == 5
    assert sum("LEAD(" in sql for sql in _call_queries(captured)) == 1  # FCR's window, once
    assert many["sl"] == many["sl-20"] != many["sl-30"]
    assert many["answer"] == many["answer-again"]
    assert many["fcr"] == many["fcr-7"]
    for key, code, params in requests:
        assert many[key] == metric_values(
            code, agent_ids=month, start=OCT_START, end=OCT_END, params=params
        )


def test_no_agents_no_query(db):
    requests = _every_request()
    with CaptureQueriesContext(connection) as captured:
        many = metric_values_many(requests, agent_ids=[], start=OCT_START, end=OCT_END)
    assert many == {key: {} for key, _, _ in requests}
    assert captured.captured_queries == []


def test_requests_are_checked_before_anything_is_computed(db):
    with pytest.raises(ValueError, match="no_such_metric"):
        metric_values_many(
            [("x", "no_such_metric", None)], agent_ids=[], start=OCT_START, end=OCT_END
        )
    with pytest.raises(ValueError, match="answer_within_seconds"):
        metric_values_many(
            [("sl", "service_level", {"answer_within_seconds": 0})],
            agent_ids=[1],
            start=OCT_START,
            end=OCT_END,
        )
    with pytest.raises(ValueError, match="given twice"):
        metric_values_many(
            [("k", "asa", None), ("k", "aht", None)], agent_ids=[1], start=OCT_START, end=OCT_END
        )


# --- day by day: the dashboards' trends ------------------------------------------------------------

# 29 October to the middle of 2 November: across the month's end, the last day cut short.
TREND_START = dt.datetime(2026, 10, 29, tzinfo=center_tz())
TREND_END = dt.datetime(2026, 11, 2, 13, 30, tzinfo=center_tz())


def test_day_by_day_is_each_days_own_value(month):
    requests = [(d.code, d.code, None) for d in CATALOGUE]
    by_day = metric_ratios_by_day(requests, agent_ids=month, start=TREND_START, end=TREND_END)
    days = [(dt.date(2026, 10, 29) + dt.timedelta(days=n)) for n in range(5)]
    for key, code, _ in requests:
        seen = set()
        for n, day in enumerate(days):
            day_start = TREND_START + dt.timedelta(days=n)  # Shanghai keeps no summer time
            day_end = min(TREND_END, day_start + dt.timedelta(days=1))
            alone = metric_ratios(code, agent_ids=month, start=day_start, end=day_end)
            got = {a: ratios[day] for a, ratios in by_day[key].items() if day in ratios}
            assert got == alone, (key, day)
            seen |= set(alone)
        assert set(by_day[key]) == seen, key  # no agent without a day of data
    assert by_day["answer_rate"] and month[-1] not in by_day["answer_rate"]  # Z9: no data, no days


def test_day_by_day_is_one_query_per_table_for_the_aggregates(month):
    requests = [(d.code, d.code, None) for d in CATALOGUE if d.aggregate is not None]
    with CaptureQueriesContext(connection) as captured:
        metric_ratios_by_day(requests, agent_ids=month, start=TREND_START, end=TREND_END)
    tables = sorted(
        re.search(r'FROM "(\w+)"', q["sql"]).group(1) for q in captured.captured_queries
    )
    assert tables == ["calls_call", "calls_conversion", "calls_qaassessment", "calls_survey"]


def test_a_day_is_the_centers_day_through_a_change_of_clocks(people, settings):
    settings.TIME_ZONE = "Europe/Berlin"  # summer time ends on 25 October 2026: a day of 25 hours
    berlin = ZoneInfo("Europe/Berlin")
    for when in (
        dt.datetime(2026, 10, 25, 0, 30, tzinfo=berlin),  # 22:30 UTC on the 24th
        dt.datetime(
            2026, 10, 25, 23, 30, tzinfo=berlin
        ),  # 22:30 UTC on the 25th, 47 h after the start
        dt.datetime(2026, 10, 26, 0, 30, tzinfo=berlin),
    ):
        CallFactory(agent=people.agent_a, started_at=when)
    start = dt.datetime(2026, 10, 24, tzinfo=berlin)
    end = dt.datetime(2026, 10, 27, tzinfo=berlin)
    by_day = metric_ratios_by_day(
        [("n", "answer_rate", None)], agent_ids=[people.agent_a.pk], start=start, end=end
    )["n"][people.agent_a.pk]
    assert {day: ratio.denominator for day, ratio in by_day.items()} == {
        dt.date(2026, 10, 25): 2,
        dt.date(2026, 10, 26): 1,
    }
