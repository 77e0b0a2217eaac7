"""The per-agent formulas: (agent ids, start, end, parameters) → {agent id: Ratio}.

Most are one conditional aggregate over one table, declared with ``_over(facts)`` as
parameters → (numerator, denominator); the others are functions that query as they need.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import (
    DateTimeField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Sum,
)
from django.utils import timezone

from calls.metrics.ratios import Params, Ratio
from calls.metrics.sql import (
    Rows,
    _assessments,
    _calls,
    _conversions,
    _decimal,
    _grouped,
    _of_agents,
    _over,
    _survey_answers,
)
from calls.models import Call, Conversion, RingAttempt, Survey, WorkTime
from calls.months import center_tz, local_day

ANSWERED = Q(answered_at__isnull=False)
INBOUND = Q(direction=Call.Direction.INBOUND)
UNANSWERED = Q(answered_at__isnull=True)
# A value the file did not give is unknown (NULL), never 0: a formula counts only the calls whose inputs
# it knows, so a file without talk times has no AHT rather than an AHT of 0.
WAIT_KNOWN = Q(wait_seconds__isnull=False)
TALK_KNOWN = Q(talk_seconds__isnull=False)
HANDLING_KNOWN = TALK_KNOWN & Q(hold_seconds__isnull=False, acw_seconds__isnull=False)
CUSTOMER_ENDED = Q(ended_by=Call.EndedBy.CUSTOMER) | Q(ended_by="", outcome=Call.Outcome.HUNG_UP)


def effective_call(p: Params) -> Q:
    """An effective call (有效通话): answered, with at least ``effective_call_minutes`` of talk (the
    parameters of ``effective_talk_ratio``). The ratio sums their talk; the floor's no-effective-call
    alert looks for one."""
    return ANSWERED & Q(talk_seconds__gte=p["effective_call_minutes"] * 60)


def _in_queue(p: Mapping[str, Any], condition: Q | None = None) -> Q | None:
    """``condition`` on the calls of the parameters' queue (all calls when it names none)."""
    if not p.get("queue"):
        return condition
    return Q(queue=p["queue"]) if condition is None else condition & Q(queue=p["queue"])


@_over(_calls)
def _answer_rate(p):
    return Rows(_in_queue(p, ANSWERED)), Rows(_in_queue(p))


@_over(_calls)
def _asa(p):
    # Speed of answer is a queue measure: inbound calls only (an outbound wait is the customer's ring).
    answered = _in_queue(p, INBOUND & ANSWERED & WAIT_KNOWN)
    return Sum("wait_seconds", filter=answered), Rows(answered)


@_over(_calls)
def _service_level(p):
    within = INBOUND & ANSWERED & Q(wait_seconds__lte=p["answer_within_seconds"])
    # An answered call of unknown wait cannot be said to be within or beyond: it counts in neither.
    return Rows(_in_queue(p, within)), Rows(_in_queue(p, INBOUND & (UNANSWERED | WAIT_KNOWN)))


@_over(_calls)
def _abandon_rate(p):
    # A short abandon is left out on evidence: an abandon of unknown wait counts.
    short = UNANSWERED & Q(wait_seconds__lt=p["short_abandon_seconds"])
    return Rows(_in_queue(p, INBOUND & UNANSWERED & ~short)), Rows(_in_queue(p, INBOUND & ~short))


def _ring_no_answer_rate(ids, start, end, p):
    """Rings without answer ÷ times the agent was rung (those rings and the calls the agent answered):
    of the queue's offers to the agent, the share left ringing. Two grouped queries."""
    rings = _of_agents(RingAttempt.objects.filter(rang_at__gte=start, rang_at__lt=end), ids)
    if p.get("queue"):
        rings = rings.filter(queue=p["queue"])
    rung = dict(rings.values("agent_id").annotate(n=Rows()).values_list("agent_id", "n"))
    answered = _calls(ids, start, end).filter(_in_queue(p, ANSWERED))
    taken = dict(answered.values("agent_id").annotate(n=Rows()).values_list("agent_id", "n"))
    return {
        agent: Ratio(Decimal(rung.get(agent, 0)), Decimal(rung.get(agent, 0) + taken.get(agent, 0)))
        for agent in rung.keys() | taken.keys()
    }


@_over(_calls)
def _aht(p):
    handled = F("talk_seconds") + F("hold_seconds") + F("acw_seconds")
    known = ANSWERED & HANDLING_KNOWN
    return Sum(handled, filter=known), Rows(known)


def _repeat_counts(ids, start, end, window_days) -> dict[int, tuple[int, int]]:
    """Per agent: (answered inbound contacts with a known customer, those the customer followed with
    another inbound contact within the window — to any agent, even after the period's end).

    Set-based: one window over the inbound calls from the period's start to its end plus the window,
    partitioned by customer and ordered by time, gives each call the customer's next call. An agent's
    outbound call-back is not a repeat contact.
    """
    ids = list(ids)
    if not ids:
        return {}
    table = Call._meta.db_table
    placeholders = ", ".join(["%s"] * len(ids))
    if connection.vendor == "postgresql":
        within = "n.next_at <= n.started_at + make_interval(days => %s)"
        window_param = [window_days]
    else:  # SQLite keeps UTC text; datetime() shifts it in the same format
        within = "n.next_at <= datetime(n.started_at, %s)"
        window_param = [f"+{window_days} days"]
    sql = f"""
        SELECT n.agent_id, COUNT(*), SUM(CASE WHEN n.next_at IS NOT NULL AND {within} THEN 1 ELSE 0 END)
        FROM (
            SELECT c.agent_id, c.started_at, c.answered_at,
                   LEAD(c.started_at) OVER (PARTITION BY c.customer_key ORDER BY c.started_at, c.id) AS next_at
            FROM {table} c
            WHERE c.direction = 'inbound' AND c.customer_key IS NOT NULL
              AND c.started_at >= %s AND c.started_at < %s
        ) n
        WHERE n.agent_id IN ({placeholders}) AND n.answered_at IS NOT NULL AND n.started_at < %s
        GROUP BY n.agent_id
    """  # noqa: S608 (the table's name and placeholders are ours; every value is a parameter)
    horizon = end + dt.timedelta(days=window_days, seconds=1)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*window_param, start, horizon, *ids, end])
        return {agent: (contacts, repeated or 0) for agent, contacts, repeated in cursor.fetchall()}


def _fcr(ids, start, end, p):
    counts = _repeat_counts(ids, start, end, p["window_days"])
    return {a: Ratio(Decimal(n - r), Decimal(n)) for a, (n, r) in counts.items() if n}


def _repeat_contact_rate(ids, start, end, p):
    counts = _repeat_counts(ids, start, end, p["window_days"])
    return {a: Ratio(Decimal(r), Decimal(n)) for a, (n, r) in counts.items() if n}


def _callback_missed_rate(ids, start, end, p):
    """Callbacks the customer asked for (the call's outcome: callback requested; the customer known)
    that nobody made: no outbound call to that customer, by any agent, within the window after it."""
    window = dt.timedelta(hours=p["callback_hours"])
    made = Exists(
        Call.objects.filter(
            customer_key=OuterRef("customer_key"),
            direction=Call.Direction.OUTBOUND,
            started_at__gt=OuterRef("started_at"),
            started_at__lte=ExpressionWrapper(
                OuterRef("started_at") + window, output_field=DateTimeField()
            ),
        )
    )
    requested = _calls(ids, start, end).filter(
        outcome=Call.Outcome.CALLBACK, customer_key__isnull=False
    )
    return _grouped(requested.annotate(made=made), Rows(Q(made=False)), Rows())


@_over(_calls)
def _first_correct_transfer(p):
    known = Q(transfers__gt=0, transfer_correct__isnull=False)
    return Rows(known & Q(transfer_correct=True)), Rows(known)


def _conversion_rate(ids, start, end, p):
    converted = Exists(
        Conversion.objects.filter(
            call=OuterRef("pk"),
            kind__in=[
                Conversion.Kind.SALE,
                Conversion.Kind.APPOINTMENT,
                Conversion.Kind.INTENT,
            ],
        )
    )
    calls = _calls(ids, start, end).filter(ANSWERED).annotate(converted=converted)
    return _grouped(calls, Rows(Q(converted=True)), Rows())


def _time_to_convert(ids, start, end, p):
    conversions = _conversions(ids, start, end).filter(
        call__isnull=False, kind__in=[Conversion.Kind.SALE, Conversion.Kind.APPOINTMENT]
    )
    delay = ExpressionWrapper(
        F("occurred_at") - F("call__started_at"), output_field=DurationField()
    )
    # Summed in seconds (the catalogue's ``per_unit`` makes them hours).
    return _grouped(conversions, Sum(delay), Rows())


@_over(_conversions)
def _invitation_success(p):
    invitation = Q(kind=Conversion.Kind.INVITATION)
    return Rows(invitation & Q(accepted=True)), Rows(invitation)


@_over(_survey_answers)
def _csat(p):
    csat = Q(kind=Survey.Kind.CSAT)
    return Sum("score", filter=csat), Rows(csat)


# CES 2.0 (1-7): "the company made it easy to handle my issue", 1 strongly disagree … 7 strongly agree;
# higher is less effort, and 5-7 (agree) is a low-effort answer.
LOW_EFFORT_FROM = 5


@_over(_survey_answers)
def _ces(p):
    ces = Q(kind=Survey.Kind.CES)
    return Sum("score", filter=ces), Rows(ces)


@_over(_survey_answers)
def _ces_low_effort(p):
    ces = Q(kind=Survey.Kind.CES)
    return Rows(ces & Q(score__gte=LOW_EFFORT_FROM)), Rows(ces)


@_over(_survey_answers)
def _nps(p):
    nps = Q(kind=Survey.Kind.NPS)
    promoters_less_detractors = Rows(nps & Q(score__gte=9)) - Rows(nps & Q(score__lte=6))
    return promoters_less_detractors, Rows(nps)


@_over(_calls)
def _complaint_rate(p):
    return Rows(Q(complaint=True)), Rows(Q(complaint__isnull=False))


@_over(_calls)
def _early_hangup_rate(p):
    early = ANSWERED & CUSTOMER_ENDED & Q(talk_seconds__lt=p["early_hangup_seconds"])
    return Rows(early), Rows(ANSWERED & TALK_KNOWN)


def _effective_talk_ratio(ids, start, end, p):
    effective = effective_call(p)
    talk = {
        row["agent_id"]: _decimal(row["talk"])
        for row in _calls(ids, start, end)
        .values("agent_id")
        .annotate(talk=Sum("talk_seconds", filter=effective))
    }
    # Work time is kept per day of the center's calendar: the days [start, end) touches — with the day
    # of ``end`` itself when the window stops within it (today so far on a dashboard).
    last = local_day(end)
    through = (
        Q(day__lte=last)
        if timezone.localtime(end, center_tz()).time() != dt.time()
        else Q(day__lt=last)
    )
    logged = (
        WorkTime.objects.filter(through, agent_id__in=ids, day__gte=local_day(start))
        .values("agent_id")
        .annotate(seconds=Sum("logged_in_seconds"))
    )
    return {
        row["agent_id"]: Ratio(talk.get(row["agent_id"], Decimal(0)), _decimal(row["seconds"]))
        for row in logged
        if row["seconds"]
    }


@_over(_assessments)
def _qa_score(p):
    return Sum("score"), Rows()
