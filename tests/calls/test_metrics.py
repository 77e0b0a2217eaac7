"""The metric catalogue: every KPI's numerator, denominator and value, worked out by hand.

Each test builds a small set of facts for agent_a and agent_b over October 2026 (center time,
Asia/Shanghai, UTC+8) and checks every agent's exact numerator, denominator and value (written to 4
places; the value itself is exact, a Fraction of the counts).
agent_a2 is always asked for and never has facts in October: it must be absent ("no data"), never 100%.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from calls.metrics import (
    CATALOGUE,
    DOWN,
    UP,
    Ratio,
    improvement_values,
    metric,
    metric_ratios,
    metric_values,
    rollup,
)
from calls.models import Call, Conversion, QaAssessment, Survey, WorkTime
from calls.months import month_bounds
from calls.numbers import rounded
from calls.rational import Rational
from tests.factories import AgentFactory, BatchFactory, CallFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")
OCT_START, OCT_END = month_bounds(2026, 10)
# 16:30 UTC on 31 October is 00:30 on 1 November in Shanghai: November, not October.
AFTER_OCT = dt.datetime(2026, 10, 31, 16, 30, tzinfo=dt.UTC)
# 15:59:59 UTC on 30 September is 23:59:59 on 30 September in Shanghai: September.
BEFORE_OCT = dt.datetime(2026, 9, 30, 15, 59, 59, tzinfo=dt.UTC)

_external_ids = itertools.count(1)


def at(day: int, hour: int = 10, minute: int = 0, *, month: int = 10) -> dt.datetime:
    """An instant in 2026 on the center's clock."""
    return dt.datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


def call(
    agent, when: dt.datetime | None = None, *, answered: bool = True, wait: int = 10, **fields
):
    started = when or at(15)
    answered_at = started + dt.timedelta(seconds=wait) if answered else None
    return CallFactory(
        agent=agent, started_at=started, answered_at=answered_at, wait_seconds=wait, **fields
    )


def fact(model, agent, **fields):
    """A Survey, Conversion or QaAssessment row, created directly."""
    return model.objects.create(
        batch=BatchFactory(),
        source="test",
        external_id=f"F{next(_external_ids):06d}",
        agent=agent,
        **fields,
    )


def worktime(agent, day: dt.date, seconds: int) -> WorkTime:
    return WorkTime.objects.create(
        batch=BatchFactory(), source="test", agent=agent, day=day, logged_in_seconds=seconds
    )


def october(code: str, people, **params):
    agents = [people.agent_a, people.agent_a2, people.agent_b]
    return metric_values(
        code, agent_ids=[a.pk for a in agents], start=OCT_START, end=OCT_END, params=params
    )


def written(value: Rational) -> str:
    """An exact value as statements' fingerprints write it: rounded half-up to 4 places."""
    assert isinstance(value, Rational)  # exact, never a rounded decimal
    return str(rounded(value, 4))


def table(result) -> dict[int, tuple[str, Decimal, Decimal]]:
    """{agent id: (value as written, numerator, denominator)}: the string pins the 4 places."""
    return {agent: (written(v.value), v.numerator, v.denominator) for agent, v in result.items()}


def row(value: str, numerator, denominator) -> tuple[str, Decimal, Decimal]:
    return (value, Decimal(str(numerator)), Decimal(str(denominator)))


# --- the catalogue ---------------------------------------------------------------------------------

UNITS = {
    "answer_rate": "%",
    "asa": "s",
    "service_level": "%",
    "abandon_rate": "%",
    "aht": "s",
    "fcr": "%",
    "first_correct_transfer": "%",
    "conversion_rate": "%",
    "time_to_convert": "h",
    "invitation_success": "%",
    "csat": "score",
    "callback_missed_rate": "%",
    "ces": "score",
    "ces_low_effort": "%",
    "nps": "points",
    "complaint_rate": "%",
    "early_hangup_rate": "%",
    "effective_talk_ratio": "%",
    "repeat_contact_rate": "%",
    "qa_score": "score",
    "ring_no_answer_rate": "%",
    "queue_answer_rate": "%",
    "queue_asa": "s",
    "queue_service_level": "%",
    "queue_abandon_rate": "%",
}
CODES = list(UNITS)


def test_the_catalogue_names_every_metric_in_both_languages_with_unit_direction_and_facts():
    assert len(CATALOGUE) == 25
    assert [d.code for d in CATALOGUE] == CODES
    for d in CATALOGUE:
        assert d.name_en and d.name_en.isascii(), d.code
        assert re.search(r"[\u4e00-\u9fff]", d.name_zh), d.code
        assert d.unit == UNITS[d.code], d.code
        assert d.direction in {UP, DOWN}, d.code
        assert d.facts and all(d.facts), d.code
        assert d.definition_en, d.code
        with translation.override("zh-hans"):
            assert d.name == d.name_zh
        with translation.override("en"):
            assert d.name == d.name_en
    downs = {d.code for d in CATALOGUE if d.direction == DOWN}
    assert downs == {
        "callback_missed_rate",
        "asa",
        "abandon_rate",
        "aht",
        "time_to_convert",
        "complaint_rate",
        "early_hangup_rate",
        "repeat_contact_rate",
        "ring_no_answer_rate",
        "queue_asa",
        "queue_abandon_rate",
    }


def test_an_unknown_metric_is_refused():
    with pytest.raises(ValueError, match="Unknown metric"):
        metric("speed_of_light")


def test_param_values_fills_defaults_and_refuses_unknown_and_out_of_range_parameters():
    assert metric("service_level").param_values() == {"answer_within_seconds": 20, "queue": ""}
    assert metric("service_level").param_values({"answer_within_seconds": 600}) == {
        "answer_within_seconds": 600,
        "queue": "",
    }
    assert metric("fcr").param_values({"window_days": 1}) == {"window_days": 1}
    assert metric("abandon_rate").param_values() == {"short_abandon_seconds": 5, "queue": ""}
    assert metric("early_hangup_rate").param_values() == {"early_hangup_seconds": 30}
    assert metric("effective_talk_ratio").param_values() == {"effective_call_minutes": 2}
    assert metric("answer_rate").param_values() == {"queue": ""}
    with pytest.raises(ValueError, match="no parameter window"):
        metric("service_level").param_values({"window": 10})
    with pytest.raises(ValueError, match="no parameter answer_within_seconds"):
        metric("answer_rate").param_values({"answer_within_seconds": 10})
    with pytest.raises(ValueError, match="from 1 to 600"):
        metric("service_level").param_values({"answer_within_seconds": 0})
    with pytest.raises(ValueError, match="from 1 to 600"):
        metric("service_level").param_values({"answer_within_seconds": 601})
    with pytest.raises(ValueError, match="from 1 to 90"):
        metric("repeat_contact_rate").param_values({"window_days": 91})
    with pytest.raises(ValueError, match="whole number"):
        metric("service_level").param_values({"answer_within_seconds": "20"})
    with pytest.raises(ValueError, match="whole number"):
        metric("service_level").param_values({"answer_within_seconds": 20.5})


def test_metric_values_refuses_a_bad_parameter_before_computing(people):
    with pytest.raises(ValueError, match="no parameter"):
        october("asa", people, answer_within_seconds=20)
    with pytest.raises(ValueError, match="from 0 to 120"):
        october("abandon_rate", people, short_abandon_seconds=121)


@pytest.mark.parametrize("code", CODES)
def test_an_agent_with_no_facts_is_absent_never_100_percent(people, code):
    # agent_a has facts of every kind; agent_a2 has none.
    answered = call(people.agent_a, at(5), customer_key=10, transfers=1, transfer_correct=True)
    fact(Survey, people.agent_a, kind=Survey.Kind.CSAT, score=5, answered_at=at(5))
    fact(Survey, people.agent_a, kind=Survey.Kind.NPS, score=10, answered_at=at(5))
    fact(Survey, people.agent_a, kind=Survey.Kind.CES, score=6, answered_at=at(5))
    call(people.agent_a, at(5, 11), customer_key=11, outcome=Call.Outcome.CALLBACK)
    fact(Conversion, people.agent_a, kind="sale", occurred_at=at(6), call=answered)
    fact(Conversion, people.agent_a, kind="invitation", accepted=True, occurred_at=at(6))
    fact(QaAssessment, people.agent_a, score=Decimal(90), assessed_at=at(7))
    worktime(people.agent_a, dt.date(2026, 10, 5), 3600)
    result = october(code, people)
    assert people.agent_a.pk in result
    assert people.agent_a2.pk not in result
    assert metric_values(code, agent_ids=[people.agent_a2.pk], start=OCT_START, end=OCT_END) == {}


def test_facts_outside_the_month_on_the_centers_clock_do_not_count(people):
    a, b = people.agent_a, people.agent_b
    # Inside: 00:00 on 1 October and 23:59:59 on 31 October, Shanghai (16:00 UTC on 30 Sep / 31 Oct).
    call(a, dt.datetime(2026, 9, 30, 16, 0, tzinfo=dt.UTC))
    call(a, dt.datetime(2026, 10, 31, 15, 59, 59, tzinfo=dt.UTC), answered=False)
    # Outside: 23:59:59 on 30 September, 00:00 and 00:30 on 1 November, Shanghai.
    call(a, BEFORE_OCT, answered=False)
    call(a, OCT_END, answered=False)
    call(a, AFTER_OCT, answered=False)
    # agent_b's only call is on 1 November in Shanghai, though still 31 October in UTC.
    call(b, AFTER_OCT)
    # October: agent_a 1 answered of 2 = 50 %; agent_b has no October call: absent.
    assert table(october("answer_rate", people)) == {a.pk: row("50.0000", 1, 2)}
    # November has the calls at its midnight and at 16:30 UTC: agent_a 0 of 2, agent_b 1 of 1.
    nov_start, nov_end = month_bounds(2026, 11)
    assert nov_start == OCT_END == dt.datetime(2026, 10, 31, 16, 0, tzinfo=dt.UTC)
    november = metric_values("answer_rate", agent_ids=[a.pk, b.pk], start=nov_start, end=nov_end)
    assert table(november) == {a.pk: row("0.0000", 0, 2), b.pk: row("100.0000", 1, 1)}


@pytest.mark.parametrize(
    ("code", "params"),
    [
        ("asa", {}),
        ("aht", {}),
        ("early_hangup_rate", {}),
        ("conversion_rate", {}),
        ("fcr", {}),
        ("repeat_contact_rate", {}),
        ("first_correct_transfer", {}),
        ("abandon_rate", {"short_abandon_seconds": 30}),
    ],
)
def test_an_agent_whose_facts_give_a_zero_denominator_is_absent(people, code, params):
    # agent_a's only October call was abandoned after 20 s with a known customer, no transfer: no
    # answered call, no contact, no transfer, and (under 30 s) a short abandon: nothing to divide by.
    call(people.agent_a, at(5), answered=False, wait=20, customer_key=1)
    call(people.agent_b, at(5), customer_key=2, transfers=1, transfer_correct=True)
    result = october(code, people, **params)
    assert people.agent_b.pk in result
    assert people.agent_a.pk not in result


# --- one test per metric ---------------------------------------------------------------------------


def test_answer_rate(people):
    a, b = people.agent_a, people.agent_b
    for answered in (True, True, True, False):
        call(a, at(3), answered=answered)
    call(a, AFTER_OCT, answered=False)  # November in Shanghai
    call(a, BEFORE_OCT)  # September
    call(b, at(4), direction=Call.Direction.OUTBOUND)
    call(b, at(5))
    call(b, at(6), direction=Call.Direction.OUTBOUND, answered=False)
    # A: 3 answered ÷ 4 offered = 75 %. B: 2 connected ÷ 3 = 66.66… → 66.6667 %.
    assert table(october("answer_rate", people)) == {
        a.pk: row("75.0000", 3, 4),
        b.pk: row("66.6667", 2, 3),
    }


def test_asa(people):
    a, b = people.agent_a, people.agent_b
    call(a, at(3), wait=10)
    call(a, at(4), wait=20)
    call(a, at(5), wait=60)
    call(a, at(6), wait=100, answered=False)  # abandoned: its wait is not a speed of answer
    call(a, AFTER_OCT, wait=500)
    call(b, at(3), wait=5)
    call(b, at(4), wait=8)
    # A: (10 + 20 + 60) ÷ 3 answered = 30 s. B: (5 + 8) ÷ 2 = 6.5 s.
    assert table(october("asa", people)) == {
        a.pk: row("30.0000", 90, 3),
        b.pk: row("6.5000", 13, 2),
    }


def test_service_level_and_its_answer_within_seconds(people):
    a, b = people.agent_a, people.agent_b
    for wait in (10, 20, 21, 45):
        call(a, at(3), wait=wait)
    call(a, at(4), wait=3, answered=False)  # offered, not answered: in the denominator only
    call(a, AFTER_OCT, wait=1)
    call(b, at(5), wait=30)
    call(b, at(6), wait=50)
    # Within 20 s (default, inclusive): A 10, 20 → 2 ÷ 5 = 40 %; B none → 0 ÷ 2 = 0 % (present).
    assert table(october("service_level", people)) == {
        a.pk: row("40.0000", 2, 5),
        b.pk: row("0.0000", 0, 2),
    }
    # Within 45 s: A 10, 20, 21, 45 → 4 ÷ 5 = 80 %; B 30 → 1 ÷ 2 = 50 %.
    assert table(october("service_level", people, answer_within_seconds=45)) == {
        a.pk: row("80.0000", 4, 5),
        b.pk: row("50.0000", 1, 2),
    }


def test_abandon_rate_and_its_short_abandon_seconds(people):
    a, b = people.agent_a, people.agent_b
    call(a, at(3), wait=10)  # answered
    call(a, at(3), wait=2)  # answered quickly: not an abandon, always offered
    call(a, at(4), wait=3, answered=False)  # short abandon under the default 5 s
    call(a, at(4), wait=5, answered=False)  # 5 s is not shorter than 5 s: counts
    call(a, at(5), wait=40, answered=False)
    call(a, at(5), wait=0, answered=False, direction=Call.Direction.OUTBOUND)  # not inbound
    call(a, AFTER_OCT, wait=60, answered=False)
    call(b, at(6), wait=60, answered=False)
    call(b, at(6), wait=10)
    call(b, at(7), wait=10)
    # Default 5 s: A abandons 5 s, 40 s = 2 ÷ offered (2 answered + 2) = 4 → 50 %; the 3 s abandon
    # is in neither. B: 1 ÷ 3 = 33.3333 %.
    assert table(october("abandon_rate", people)) == {
        a.pk: row("50.0000", 2, 4),
        b.pk: row("33.3333", 1, 3),
    }
    # 0 s: nothing is short. A: 3 ÷ 5 = 60 %. B unchanged.
    assert table(october("abandon_rate", people, short_abandon_seconds=0)) == {
        a.pk: row("60.0000", 3, 5),
        b.pk: row("33.3333", 1, 3),
    }
    # 41 s: A's 3, 5 and 40 s abandons are all short → 0 ÷ 2 = 0 %. B's 60 s abandon still counts.
    assert table(october("abandon_rate", people, short_abandon_seconds=41)) == {
        a.pk: row("0.0000", 0, 2),
        b.pk: row("33.3333", 1, 3),
    }
    # 61 s: B's abandon is short too → 0 ÷ 2.
    assert table(october("abandon_rate", people, short_abandon_seconds=61))[b.pk] == row(
        "0.0000", 0, 2
    )


def test_aht(people):
    a, b = people.agent_a, people.agent_b
    call(a, at(3), talk_seconds=100, hold_seconds=20, acw_seconds=30)  # 150
    call(a, at(4), talk_seconds=200, hold_seconds=0, acw_seconds=50)  # 250
    call(a, at(5), answered=False, acw_seconds=15)  # not handled
    call(a, AFTER_OCT, talk_seconds=1000)
    call(b, at(3), talk_seconds=60, hold_seconds=10, acw_seconds=20)  # 90
    call(b, at(4), talk_seconds=61)  # 61
    # A: (150 + 250) ÷ 2 = 200 s. B: (90 + 61) ÷ 2 = 75.5 s.
    assert table(october("aht", people)) == {
        a.pk: row("200.0000", 400, 2),
        b.pk: row("75.5000", 151, 2),
    }


def _repeat_contacts(people):
    """agent_a's answered October contacts with a known customer: k1 (Oct 5, repeated 3 days later),
    k2 (Oct 10, repeated exactly 10 days later), k3 (Oct 12, never again after it), k5 (Oct 14, never
    again), k4 (Oct 30, repeated 3 days later on 2 November, outside the month). agent_b's: k1 (Oct 8),
    k6 (Oct 15, repeated 1 day later), k6 (Oct 16)."""
    a, b = people.agent_a, people.agent_b
    call(a, BEFORE_OCT, customer_key=3)  # September: not a contact of October, nor a repeat of it
    call(a, at(5), customer_key=1)
    call(b, at(8), customer_key=1)  # k1 again after 3 days (another agent)
    call(a, at(10), customer_key=2)
    call(a, at(20), customer_key=2, answered=False)  # k2 again after 10 days (not answered)
    call(a, at(12), customer_key=3)
    call(a, at(14), customer_key=5)
    call(a, at(16))  # no known customer: in neither
    call(a, at(30), customer_key=4)
    call(None, at(2, month=11), customer_key=4, answered=False)  # k4 again, in the queue, November
    call(b, at(15), customer_key=6)
    call(b, at(16), customer_key=6)


def test_fcr_and_its_window_days(people):
    a, b = people.agent_a, people.agent_b
    _repeat_contacts(people)
    # 7 days (default): A's k1 and k4 repeated → resolved 3 ÷ 5 = 60 %. B's first k6 → 2 ÷ 3.
    assert table(october("fcr", people)) == {
        a.pk: row("60.0000", 3, 5),
        b.pk: row("66.6667", 2, 3),
    }
    # 2 days: no repeat of A's within 2 days → 5 ÷ 5 = 100 %.
    assert table(october("fcr", people, window_days=2)) == {
        a.pk: row("100.0000", 5, 5),
        b.pk: row("66.6667", 2, 3),
    }
    # 3 days: the window is inclusive, k1 and k4 (exactly 3 days) repeated → 3 ÷ 5.
    assert table(october("fcr", people, window_days=3))[a.pk] == row("60.0000", 3, 5)
    # 10 days: k2 (exactly 10 days) too → 2 ÷ 5 = 40 %.
    assert table(october("fcr", people, window_days=10)) == {
        a.pk: row("40.0000", 2, 5),
        b.pk: row("66.6667", 2, 3),
    }


def test_repeat_contact_rate_and_its_window_days(people):
    a, b = people.agent_a, people.agent_b
    _repeat_contacts(people)
    # The complement of FCR over the same contacts.
    assert table(october("repeat_contact_rate", people)) == {
        a.pk: row("40.0000", 2, 5),
        b.pk: row("33.3333", 1, 3),
    }
    assert table(october("repeat_contact_rate", people, window_days=2)) == {
        a.pk: row("0.0000", 0, 5),
        b.pk: row("33.3333", 1, 3),
    }
    assert table(october("repeat_contact_rate", people, window_days=10)) == {
        a.pk: row("60.0000", 3, 5),
        b.pk: row("33.3333", 1, 3),
    }


def test_first_correct_transfer(people):
    a, b = people.agent_a, people.agent_b
    call(a, at(3), transfers=1, transfer_correct=True)
    call(a, at(3), transfers=2, transfer_correct=False)
    call(a, at(4), transfers=1, transfer_correct=True)
    call(a, at(4), transfers=1, transfer_correct=None)  # the system does not say: in neither
    call(a, at(5))  # not transferred
    call(a, AFTER_OCT, transfers=1, transfer_correct=False)
    call(b, at(3), transfers=1, transfer_correct=False)
    call(b, at(4), transfers=0, transfer_correct=True)  # no transfer: in neither
    # A: 2 right first time ÷ 3 known transfers = 66.6667 %. B: 0 ÷ 1 = 0 %.
    assert table(october("first_correct_transfer", people)) == {
        a.pk: row("66.6667", 2, 3),
        b.pk: row("0.0000", 0, 1),
    }


def test_conversion_rate(people):
    a, b = people.agent_a, people.agent_b
    c1, c2, c3, _c4, c5 = (call(a, at(day)) for day in (3, 4, 5, 6, 7))
    fact(Conversion, a, kind="sale", call=c1, occurred_at=at(3, 11))
    fact(Conversion, a, kind="intent", call=c2, occurred_at=at(4, 11))
    fact(Conversion, a, kind="invitation", accepted=True, call=c3, occurred_at=at(5, 11))
    fact(Conversion, a, kind="appointment", call=c5, occurred_at=at(7, 11))
    fact(Conversion, a, kind="sale", call=c5, occurred_at=at(8, 11))  # a call converts once
    unanswered = call(a, at(8), answered=False)
    fact(Conversion, a, kind="sale", call=unanswered, occurred_at=at(9))
    november = call(a, AFTER_OCT)
    fact(Conversion, a, kind="sale", call=november, occurred_at=at(2, month=11))
    call(b, at(10))
    c8 = call(b, at(11))
    # The call is in October; the sale closed in November still converts it.
    fact(Conversion, b, kind="sale", call=c8, occurred_at=at(3, month=11))
    # A: c1 (sale), c2 (intent), c5 → 3 ÷ 5 answered = 60 % (an invitation is no conversion).
    # B: 1 ÷ 2 = 50 %.
    assert table(october("conversion_rate", people)) == {
        a.pk: row("60.0000", 3, 5),
        b.pk: row("50.0000", 1, 2),
    }


def test_time_to_convert_in_hours(people):
    a, b = people.agent_a, people.agent_b
    c1 = call(a, at(5, 10))
    fact(Conversion, a, kind="sale", call=c1, occurred_at=at(5, 12))  # 2 h
    c2 = call(a, at(6, 10))
    fact(Conversion, a, kind="appointment", call=c2, occurred_at=at(7, 14))  # 28 h
    fact(Conversion, a, kind="intent", call=c2, occurred_at=at(6, 11))  # not a sale or appointment
    fact(Conversion, a, kind="sale", occurred_at=at(8))  # no call to measure from
    c3 = call(a, at(31, 20))
    fact(Conversion, a, kind="sale", call=c3, occurred_at=AFTER_OCT)  # converted in November
    c4 = call(b, at(20, 9))
    fact(Conversion, b, kind="sale", call=c4, occurred_at=at(20, 9, 30))  # 0.5 h
    c5 = call(b, at(21, 9))
    fact(Conversion, b, kind="sale", call=c5, occurred_at=at(21, 10, 15))  # 1.25 h
    # A: (2 + 28) ÷ 2 = 15 h. B: (0.5 + 1.25) ÷ 2 = 0.875 h.
    assert table(october("time_to_convert", people)) == {
        a.pk: row("15.0000", 30, 2),
        b.pk: row("0.8750", "1.75", 2),
    }


def test_invitation_success(people):
    a, b = people.agent_a, people.agent_b
    for accepted in (True, True, True, False):
        fact(Conversion, a, kind="invitation", accepted=accepted, occurred_at=at(10))
    fact(Conversion, a, kind="sale", occurred_at=at(10))  # not an invitation
    fact(Conversion, a, kind="invitation", accepted=False, occurred_at=AFTER_OCT)
    fact(Conversion, a, kind="invitation", accepted=False, occurred_at=BEFORE_OCT)
    for accepted in (True, False, False):
        fact(Conversion, b, kind="invitation", accepted=accepted, occurred_at=at(11))
    # A: 3 accepted ÷ 4 = 75 %. B: 1 ÷ 3 = 33.3333 %.
    assert table(october("invitation_success", people)) == {
        a.pk: row("75.0000", 3, 4),
        b.pk: row("33.3333", 1, 3),
    }


def test_csat(people):
    a, b = people.agent_a, people.agent_b
    for score in (5, 4, 4):
        fact(Survey, a, kind=Survey.Kind.CSAT, score=score, answered_at=at(12))
    fact(Survey, a, kind=Survey.Kind.NPS, score=10, answered_at=at(12))  # another survey
    fact(Survey, a, kind=Survey.Kind.CES, score=7, answered_at=at(12))
    fact(Survey, a, kind=Survey.Kind.CSAT, score=1, answered_at=AFTER_OCT)
    for score in (2, 3):
        fact(Survey, b, kind=Survey.Kind.CSAT, score=score, answered_at=at(13))
    # A: (5 + 4 + 4) ÷ 3 = 4.3333. B: (2 + 3) ÷ 2 = 2.5.
    assert table(october("csat", people)) == {
        a.pk: row("4.3333", 13, 3),
        b.pk: row("2.5000", 5, 2),
    }


def test_ces_and_its_share_of_low_effort_answers(people):
    a, b = people.agent_a, people.agent_b
    for score in (7, 6, 5, 4, 2):
        fact(Survey, a, kind=Survey.Kind.CES, score=score, answered_at=at(12))
    fact(Survey, a, kind=Survey.Kind.CSAT, score=5, answered_at=at(12))  # not CES
    fact(Survey, a, kind=Survey.Kind.CES, score=1, answered_at=AFTER_OCT)  # November's
    for score in (3, 4):
        fact(Survey, b, kind=Survey.Kind.CES, score=score, answered_at=at(13))
    # A: (7 + 6 + 5 + 4 + 2) ÷ 5 = 4.8; low effort (5-7): 3 of 5 = 60 %. B: 3.5; 0 of 2.
    assert table(october("ces", people)) == {a.pk: row("4.8000", 24, 5), b.pk: row("3.5000", 7, 2)}
    assert table(october("ces_low_effort", people)) == {
        a.pk: row("60.0000", 3, 5),
        b.pk: row("0.0000", 0, 2),
    }


def test_callbacks_not_made(people):
    a, b = people.agent_a, people.agent_b
    asked = Call.Outcome.CALLBACK
    out = Call.Direction.OUTBOUND
    call(a, at(5, 9), customer_key=1, outcome=asked)
    call(b, at(5, 15), customer_key=1, direction=out)  # called back 6 h later, by anyone: made
    call(a, at(6, 9), customer_key=2, outcome=asked)
    call(a, at(7, 10), customer_key=2, direction=out)  # 25 h later: too late for 24 h
    call(a, at(8, 9), customer_key=3, outcome=asked)
    call(a, at(8, 10), customer_key=3)  # the customer called again (inbound): not a callback
    call(a, at(9, 9), customer_key=None, outcome=asked)  # no customer known: not counted
    call(a, at(9, 9), customer_key=4, outcome=Call.Outcome.RESOLVED)  # no callback asked
    call(b, at(10, 9), customer_key=5, outcome=asked)
    call(b, at(10, 9, 30), customer_key=5, direction=out)
    # A: 2 of 3 requested callbacks not made within 24 h = 66.6667 %. B: 0 of 1.
    assert table(october("callback_missed_rate", people)) == {
        a.pk: row("66.6667", 2, 3),
        b.pk: row("0.0000", 0, 1),
    }
    # With 48 h, the call-back after 25 h is made in time: 1 of 3.
    assert table(october("callback_missed_rate", people, callback_hours=48))[a.pk] == row(
        "33.3333", 1, 3
    )


def test_nps(people):
    a, b = people.agent_a, people.agent_b
    for score in (10, 9, 9, 8, 3):
        fact(Survey, a, kind=Survey.Kind.NPS, score=score, answered_at=at(12))
    fact(Survey, a, kind=Survey.Kind.NPS, score=0, answered_at=AFTER_OCT)
    for score in (6, 5, 7, 10):
        fact(Survey, b, kind=Survey.Kind.NPS, score=score, answered_at=at(13))
    fact(Survey, b, kind=Survey.Kind.CSAT, score=5, answered_at=at(13))  # not NPS
    # A: promoters 3 (10, 9, 9) − detractors 1 (3) = 2 ÷ 5 = 40 points (8 is passive).
    # B: promoters 1 (10) − detractors 2 (6, 5) = −1 ÷ 4 = −25 points.
    assert table(october("nps", people)) == {
        a.pk: row("40.0000", 2, 5),
        b.pk: row("-25.0000", -1, 4),
    }


def test_complaint_rate(people):
    a, b = people.agent_a, people.agent_b
    call(a, at(3), complaint=True)
    call(a, at(4), complaint=True, answered=False)
    for day in (5, 6, 7):
        call(a, at(day))
    call(a, AFTER_OCT, complaint=True)
    call(b, at(3))
    call(b, at(4))
    # A: 2 ÷ 5 calls = 40 %. B: 0 ÷ 2 = 0 %.
    assert table(october("complaint_rate", people)) == {
        a.pk: row("40.0000", 2, 5),
        b.pk: row("0.0000", 0, 2),
    }


def test_early_hangup_rate_and_its_seconds(people):
    a, b = people.agent_a, people.agent_b
    customer, agent = Call.EndedBy.CUSTOMER, Call.EndedBy.AGENT
    call(a, at(3), ended_by=customer, talk_seconds=10)
    call(a, at(3), ended_by=customer, talk_seconds=29)
    call(a, at(4), ended_by=customer, talk_seconds=30)
    call(a, at(4), ended_by=agent, talk_seconds=5)  # the agent hung up
    call(a, at(5), outcome=Call.Outcome.HUNG_UP, talk_seconds=20)  # no ended_by: the outcome says
    call(a, at(5), outcome=Call.Outcome.RESOLVED, talk_seconds=5)
    call(a, at(6), ended_by=customer, answered=False)  # never connected: in neither
    call(a, AFTER_OCT, ended_by=customer, talk_seconds=1)
    call(b, at(3), ended_by=customer, talk_seconds=100)
    call(b, at(4), ended_by=Call.EndedBy.SYSTEM, talk_seconds=3)
    # 30 s (default): A 10, 29, 20 (hung up) → 3 ÷ 6 connected = 50 %. B 0 ÷ 2.
    assert table(october("early_hangup_rate", people)) == {
        a.pk: row("50.0000", 3, 6),
        b.pk: row("0.0000", 0, 2),
    }
    # 31 s: A's 30 s call too → 4 ÷ 6 = 66.6667 %.
    assert table(october("early_hangup_rate", people, early_hangup_seconds=31))[a.pk] == row(
        "66.6667", 4, 6
    )
    # 11 s: only A's 10 s call → 1 ÷ 6 = 16.6667 %.
    assert table(october("early_hangup_rate", people, early_hangup_seconds=11))[a.pk] == row(
        "16.6667", 1, 6
    )
    # 10 s: none (10 is not under 10; the 5 s calls were not ended by the customer).
    assert table(october("early_hangup_rate", people, early_hangup_seconds=10))[a.pk] == row(
        "0.0000", 0, 6
    )
    # 101 s: B's customer hang-up at 100 s → 1 ÷ 2 = 50 % (the system's 3 s call is not one).
    assert table(october("early_hangup_rate", people, early_hangup_seconds=101))[b.pk] == row(
        "50.0000", 1, 2
    )


def test_effective_talk_ratio_and_its_minutes(people):
    a, b = people.agent_a, people.agent_b
    for talk in (300, 120, 119, 600):
        call(a, at(10), talk_seconds=talk)
    call(a, at(11), answered=False, talk_seconds=500)  # not connected
    call(a, AFTER_OCT, talk_seconds=1000)
    worktime(a, dt.date(2026, 10, 1), 1800)
    worktime(a, dt.date(2026, 10, 31), 1800)
    worktime(a, dt.date(2026, 9, 30), 7200)  # September
    worktime(a, dt.date(2026, 11, 1), 7200)  # November
    call(b, at(12), talk_seconds=90)
    worktime(b, dt.date(2026, 10, 15), 3600)
    # An agent who took calls but has no logged-in time has no ratio.
    no_login = AgentFactory(team=people.team_a)
    call(no_login, at(12), talk_seconds=600)
    # 2 min (default): A 300 + 120 + 600 = 1020 ÷ 3600 = 28.3333 %. B: 90 s is short → 0 ÷ 3600.
    assert table(october("effective_talk_ratio", people)) == {
        a.pk: row("28.3333", 1020, 3600),
        b.pk: row("0.0000", 0, 3600),
    }
    assert (
        metric_values("effective_talk_ratio", agent_ids=[no_login.pk], start=OCT_START, end=OCT_END)
        == {}
    )
    # 0 min: every connected call: A 1139 ÷ 3600 = 31.6389 %; B 90 ÷ 3600 = 2.5 %.
    assert table(october("effective_talk_ratio", people, effective_call_minutes=0)) == {
        a.pk: row("31.6389", 1139, 3600),
        b.pk: row("2.5000", 90, 3600),
    }
    # 5 min: A 300 + 600 = 900 ÷ 3600 = 25 %. 10 min: 600 ÷ 3600 = 16.6667 %.
    assert table(october("effective_talk_ratio", people, effective_call_minutes=5))[a.pk] == row(
        "25.0000", 900, 3600
    )
    assert table(october("effective_talk_ratio", people, effective_call_minutes=10))[a.pk] == row(
        "16.6667", 600, 3600
    )


def test_qa_score(people):
    a, b = people.agent_a, people.agent_b
    for score in ("80", "90.5", "70"):
        fact(QaAssessment, a, score=Decimal(score), assessed_at=at(20))
    fact(QaAssessment, a, score=Decimal(0), assessed_at=AFTER_OCT)
    fact(QaAssessment, a, score=Decimal(0), assessed_at=BEFORE_OCT)
    fact(QaAssessment, b, score=Decimal(100), assessed_at=at(21))
    # A: (80 + 90.5 + 70) ÷ 3 = 80.1666… → 80.1667. B: 100 ÷ 1.
    assert table(october("qa_score", people)) == {
        a.pk: row("80.1667", "240.5", 3),
        b.pk: row("100.0000", 100, 1),
    }


# --- roll-ups and improvements ---------------------------------------------------------------------


def test_rollup_is_the_ratio_of_the_sums_not_the_mean_of_rates(people):
    a, b = people.agent_a, people.agent_b
    for answered in (True, True, True, False):
        call(a, at(3), answered=answered)
    call(b, at(3))
    ratios = metric_ratios("answer_rate", agent_ids=[a.pk, b.pk], start=OCT_START, end=OCT_END)
    assert ratios == {a.pk: Ratio(Decimal(3), Decimal(4)), b.pk: Ratio(Decimal(1), Decimal(1))}
    # 75 % and 100 %: (3 + 1) ÷ (4 + 1) = 80 %, not the mean 87.5 %.
    team = rollup("answer_rate", ratios.values())
    assert (written(team.value), team.numerator, team.denominator) == row("80.0000", 4, 5)
    # ASA, after one more answered call of A's with a 50 s wait: A waits 10 + 10 + 10 + 50 = 80 over
    # 4 answered calls (20 s), B 10 over 1 (10 s) → (80 + 10) ÷ 5 = 18 s, not the mean 15 s.
    call(a, at(4), wait=50)
    asa = metric_ratios("asa", agent_ids=[a.pk, b.pk], start=OCT_START, end=OCT_END)
    together = rollup("asa", asa.values())
    assert (written(together.value), together.numerator, together.denominator) == row(
        "18.0000", 90, 5
    )
    assert rollup("answer_rate", []).value is None


def _asa_month(agent, month: int, wait: int) -> None:
    call(agent, at(15, month=month), wait=wait)


def test_improvement_against_the_previous_month_and_the_trailing_three(people):
    a, a2, b = people.agent_a, people.agent_a2, people.agent_b
    # A: ASA July 42 s, August 24 s, September 30 s, October 25 s.
    for month, wait in ((7, 42), (8, 24), (9, 30), (10, 25)):
        _asa_month(a, month, wait)
    # B: July 40 s, nothing in August or September, October 20 s.
    _asa_month(b, 7, 40)
    _asa_month(b, 10, 20)
    # A2: October only: no baseline in any month.
    _asa_month(a2, 10, 10)
    ids = [a.pk, a2.pk, b.pk]
    previous = improvement_values("asa", agent_ids=ids, year=2026, month=10, baseline="previous")
    # A: 30 s → 25 s is a fall of a lower-is-better metric: +5. B and A2 have no September: absent.
    assert table(previous) == {a.pk: row("5.0000", 25, 1)}
    trailing = improvement_values("asa", agent_ids=ids, year=2026, month=10, baseline="trailing3")
    # A: mean(42, 24, 30) = 32 → 25: +7. B: the only baseline month with data is July (40) → 20: +20.
    assert table(trailing) == {a.pk: row("7.0000", 25, 1), b.pk: row("20.0000", 20, 1)}
    # A rise of ASA is a worsening: November 31 s against October 25 s is −6.
    _asa_month(a, 11, 31)
    worse = improvement_values("asa", agent_ids=[a.pk], year=2026, month=11, baseline="previous")
    assert table(worse) == {a.pk: row("-6.0000", 31, 1)}


def test_improvement_of_a_higher_is_better_metric_keeps_its_sign(people):
    a, b = people.agent_a, people.agent_b
    # A: September 1 of 2 answered (50 %), October 3 of 4 (75 %): +25.
    call(a, at(10, month=9))
    call(a, at(11, month=9), answered=False)
    for answered in (True, True, True, False):
        call(a, at(10), answered=answered)
    # B: September 100 %, October 2 of 3 (66.6667 %): −33.3333.
    call(b, at(10, month=9))
    for answered in (True, True, False):
        call(b, at(10), answered=answered)
    result = improvement_values(
        "answer_rate", agent_ids=[a.pk, b.pk], year=2026, month=10, baseline="previous"
    )
    assert table(result) == {a.pk: row("25.0000", 3, 4), b.pk: row("-33.3333", 2, 3)}
    assert result[b.pk].value == Fraction(-100, 3)  # exact, as the values it is the difference of
    # Trailing three months (July–September): only September has data, so the same.
    trailing = improvement_values(
        "answer_rate", agent_ids=[a.pk, b.pk], year=2026, month=10, baseline="trailing3"
    )
    assert table(trailing) == table(result)


def test_improvement_with_no_data_this_month_or_in_the_baseline_is_no_data(people):
    a, b = people.agent_a, people.agent_b
    _asa_month(a, 9, 30)  # baseline only: nothing in October
    _asa_month(b, 6, 30)  # four months back: outside even the trailing three
    _asa_month(b, 10, 20)
    for baseline in ("previous", "trailing3"):
        assert (
            improvement_values(
                "asa", agent_ids=[a.pk, b.pk], year=2026, month=10, baseline=baseline
            )
            == {}
        )
    with pytest.raises(ValueError, match="Unknown baseline"):
        improvement_values("asa", agent_ids=[a.pk], year=2026, month=10, baseline="last_year")


def test_improvement_crosses_the_year_boundary(people):
    a = people.agent_a
    call(a, dt.datetime(2026, 12, 31, 23, 0, tzinfo=SHANGHAI), wait=40)  # December
    call(a, dt.datetime(2026, 12, 31, 16, 30, tzinfo=dt.UTC), wait=10)  # 00:30 on 1 January 2027
    result = improvement_values("asa", agent_ids=[a.pk], year=2027, month=1, baseline="previous")
    # December 40 s → January 10 s: +30.
    assert table(result) == {a.pk: row("30.0000", 10, 1)}


def test_queue_measures_and_repeat_contacts_count_inbound_calls_only(people):
    a = people.agent_a
    call(a, at(3), wait=10)
    call(a, at(3, 11), wait=50)
    # An outbound call: its "wait" is the customer's phone ringing, not a queue; it is ignored.
    call(a, at(3, 12), wait=90, direction=Call.Direction.OUTBOUND)
    assert table(october("asa", people)) == {a.pk: row("30.0000", 60, 2)}
    assert table(october("service_level", people)) == {a.pk: row("50.0000", 1, 2)}
    # An agent's outbound call-back to a customer is not the customer contacting again.
    call(a, at(5), customer_key=99)
    call(a, at(6), customer_key=99, direction=Call.Direction.OUTBOUND)
    assert table(october("fcr", people)) == {a.pk: row("100.0000", 1, 1)}
    call(a, at(7), customer_key=99)
    assert table(october("fcr", people)) == {a.pk: row("50.0000", 1, 2)}


def test_a_parameter_is_a_whole_number_not_a_boolean():
    with pytest.raises(ValueError, match="whole number"):
        metric("service_level").param_values({"answer_within_seconds": True})


def test_effective_talk_ratio_of_a_window_ending_within_a_day_counts_that_days_work_time(people):
    """Today so far (a dashboard's window) reads today's logged-in time; a window ending at midnight
    does not read the next day's."""
    a = people.agent_a
    call(a, at(20, 9), talk_seconds=600)
    worktime(a, dt.date(2026, 10, 20), 3600)
    worktime(a, dt.date(2026, 10, 21), 7200)
    today_so_far = metric_values(
        "effective_talk_ratio", agent_ids=[a.pk], start=at(20, 0), end=at(20, 12)
    )
    assert table(today_so_far) == {a.pk: row("16.6667", 600, 3600)}
    whole_day = metric_values(
        "effective_talk_ratio", agent_ids=[a.pk], start=at(20, 0), end=at(21, 0)
    )
    assert table(whole_day) == {a.pk: row("16.6667", 600, 3600)}


def test_values_are_exact_fractions_of_the_counts(people):
    """A third is a third: 1 of 3 answered is 100/3 %, and 20 minutes to convert is 1/3 h (counted in
    seconds, shown in hours), never a decimal rounded somewhere on the way."""
    a, b = people.agent_a, people.agent_b
    for answered in (True, False, False):
        call(a, at(10), answered=answered)
    fact(Conversion, b, kind="sale", call=call(b, at(12, 9)), occurred_at=at(12, 9, 20))
    answer = october("answer_rate", people)[a.pk]
    assert answer.value == Fraction(100, 3) and (answer.numerator, answer.denominator) == (1, 3)
    convert = october("time_to_convert", people)[b.pk]
    assert convert.value == Fraction(1, 3)
    assert (convert.numerator, convert.denominator) == (Decimal(1200) / 3600, 1)  # hours, as shown
    # A team's value adds the counts, exactly.
    team = rollup("answer_rate", [Ratio(Decimal(1), Decimal(3)), Ratio(Decimal(0), Decimal(3))])
    assert team.value == Fraction(100, 6)
