"""The metric catalogue: every KPI of the field, and its formula, here and only here.

Every KPI is a ratio of two sums over the facts — answered ÷ offered, total wait ÷ answered calls,
promoters − detractors ÷ responses — so a formula returns, per agent, a numerator and a denominator, and
any roll-up (a team, a group, a region, a pilot against the rest) adds numerators and denominators:
rates over calls are ratios of counts, never averages of per-agent rates. Each formula answers for many
agents with one set-based query (conditional aggregation grouped by agent), never a query per agent.

HR chooses metrics and their parameters (``MetricDefinition.params``); code is never needed for that.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any, NamedTuple

from django.db import NotSupportedError, connection
from django.db.models import (
    Case,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.expressions import Star
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import get_language

from calls.models import Call, Conversion, QaAssessment, Queue, RingAttempt, Survey, WorkTime
from calls.months import center_tz, local_day, month_bounds, shift_month
from calls.numbers import rounded
from calls.rational import Rational

UP, DOWN = "up", "down"
PERCENT, ONE = Decimal(100), Decimal(1)


@dataclass(frozen=True)
class Param:
    """A parameter HR sets on a plan metric: a whole number in a range (``kind="number"``), or the code
    of a queue (``kind="queue"``: empty for every queue; once HR has listed the queues, one of them)."""

    code: str
    name_en: str
    name_zh: str
    default: int | str
    minimum: int | None
    maximum: int | None
    unit: str
    kind: str = "number"


# Ratio and MetricValue are tuples: a month's computation makes one of each per agent and metric,
# and a frozen dataclass costs five times as much to build.
class Ratio(NamedTuple):
    """The sums a formula gives for one agent (or day, or group): exact Decimals, in the units the
    facts are counted in (``MetricDefinition.per_unit``)."""

    numerator: Decimal
    denominator: Decimal


class MetricValue(NamedTuple):
    """A metric's value for one agent (or team) and period, and the sums behind it.

    ``value`` is exact — numerator × scale ÷ denominator as a ``calls.rational.Rational`` (a fraction;
    equal to the ``Fraction`` of the same value), never rounded — or None when there is no data; the
    curve, the gates and every comparison read it as it is, and only what is shown or stored for
    display is rounded from it (``calls.numbers``). ``numerator`` and ``denominator`` are the sums as
    a statement shows them ("1,204 of 1,251")."""

    value: Rational | None
    numerator: Decimal
    denominator: Decimal


Formula = Callable[[list[int], dt.datetime, dt.datetime, Mapping[str, int]], dict[int, Ratio]]
Facts = Callable[[list[int], dt.datetime, dt.datetime], QuerySet]


@dataclass(frozen=True)
class Aggregate:
    """A formula that is one conditional aggregate over one table: ``facts`` gives the agents' rows of the
    period, ``terms`` the numerator and denominator expressions over them for the parameters.

    Declared rather than written as a function so that ``metric_ratios_many`` can put every such metric
    over the same ``facts`` into one grouped query; called on its own, it is that query with one pair.
    """

    facts: Facts
    terms: Callable[[Mapping[str, int]], tuple[Any, Any]]

    def __call__(self, ids, start, end, p) -> dict[int, Ratio]:
        return _grouped(self.facts(ids, start, end), *self.terms(p))


@dataclass(frozen=True)
class MetricDefinition:
    code: str
    name_en: str
    name_zh: str
    unit: str  # "%", "s", "h", "score", "points"
    direction: str  # UP: higher is better; DOWN: lower is better
    facts: tuple[str, ...]
    formula: Formula
    scale: Decimal  # value = numerator × scale ÷ denominator; a whole number (100 for a %)
    minimum: Decimal  # the range a value (and a gate's value) can take
    maximum: Decimal | None
    definition_en: str
    params: tuple[Param, ...] = field(default=())
    # The value is a queue's, the same for every agent it is given to: a roll-up (a team) keeps it
    # rather than adding the agents' counts, which would count the queue's calls once per agent.
    shared: bool = False
    # The numerator as counted per unit it is shown in: time to convert sums seconds and shows hours
    # (3,600 a unit). Counted in whole seconds, the value stays exact: an hour's thirds have no end
    # in decimals.
    per_unit: int = 1

    @cached_property
    def exact_scale(self) -> tuple[int, int]:
        """(scale, per_unit) as integers: a value is numerator × scale ÷ (denominator × per_unit)."""
        return int(self.scale), self.per_unit

    @property
    def aggregate(self) -> Aggregate | None:
        """The formula as a declared aggregate, or None when it needs more than one grouped query."""
        return self.formula if isinstance(self.formula, Aggregate) else None

    @property
    def name(self) -> str:
        return self.name_zh if (get_language() or "").startswith("zh") else self.name_en

    def param_values(
        self, given: Mapping[str, int | str] | None = None, *, known_queue: bool = True
    ) -> dict[str, int | str]:
        """The parameters with the field's defaults filled in; unknown or out-of-range ones refused.
        A queue must be one HR has listed (when HR has listed any): checked when a plan or a rule is
        saved; ``known_queue=False`` skips that look-up when a metric is computed (a queue that has
        gone has no calls: no data)."""
        given = dict(given or {})
        unknown = set(given) - {param.code for param in self.params}
        if unknown:
            raise ValueError(f"{self.code} has no parameter {', '.join(sorted(unknown))}")
        values = {}
        for param in self.params:
            value = given.get(param.code, param.default)
            if param.kind == "queue":
                values[param.code] = _queue_code(self.code, value, known_queue)
                continue
            if (
                isinstance(value, bool)
                or not isinstance(value, int)
                or not param.minimum <= value <= param.maximum
            ):
                raise ValueError(
                    f"{self.code}: {param.code} must be a whole number from {param.minimum} "
                    f"to {param.maximum} {param.unit}, got {value!r}"
                )
            values[param.code] = value
        return values


def _queue_code(metric_code: str, value, known: bool) -> str:
    if not isinstance(value, str) or len(value.strip()) > 100:
        raise ValueError(
            f"{metric_code}: queue must be a queue's code (at most 100 characters), got {value!r}"
        )
    value = value.strip()
    if known and value and Queue.objects.exists() and not Queue.objects.filter(code=value).exists():
        raise ValueError(f"{metric_code}: no queue has the code {value!r}")
    return value


# --- helpers -------------------------------------------------------------------------------------


def _of_agents(queryset: QuerySet, agent_ids: list[int]) -> QuerySet:
    """Rows of these agents. On PostgreSQL many ids travel as one array parameter (``= ANY``): a
    chunk's thousands of ids as as many placeholders cost more to send and parse than the grouping.

    The array is cast to the column's type: psycopg sends small ids as ``int2[]``, and against an
    array of another type PostgreSQL cannot hash the list, so it walks the agents' index one id at a
    time instead of one parallel scan of the period (0.57 s against 0.32 s for 2,000 agents' month)."""
    if connection.vendor == "postgresql" and len(agent_ids) > 100:
        table = connection.ops.quote_name(queryset.model._meta.db_table)
        where = f'{table}."agent_id" = ANY(%s::bigint[])'  # our table's name; the ids a parameter
        return queryset.extra(where=[where], params=[list(agent_ids)])  # noqa: S610
    return queryset.filter(agent_id__in=agent_ids)


def _calls(agent_ids: list[int], start: dt.datetime, end: dt.datetime) -> QuerySet[Call]:
    return _of_agents(Call.objects.filter(started_at__gte=start, started_at__lt=end), agent_ids)


def _survey_answers(agent_ids: list[int], start: dt.datetime, end: dt.datetime) -> QuerySet[Survey]:
    """Answers of every kind: each survey metric filters its kind in its terms, so CSAT and NPS share a
    query."""
    return Survey.objects.filter(
        agent_id__in=agent_ids, answered_at__gte=start, answered_at__lt=end
    )


def _conversions(
    agent_ids: list[int], start: dt.datetime, end: dt.datetime
) -> QuerySet[Conversion]:
    return Conversion.objects.filter(
        agent_id__in=agent_ids, occurred_at__gte=start, occurred_at__lt=end
    )


def _assessments(
    agent_ids: list[int], start: dt.datetime, end: dt.datetime
) -> QuerySet[QaAssessment]:
    return QaAssessment.objects.filter(
        agent_id__in=agent_ids, assessed_at__gte=start, assessed_at__lt=end
    )


class Rows(Count):
    """``COUNT(*)``, or with a condition ``COUNT(*) FILTER (WHERE …)``: rows counted without reading a
    column, a tenth faster than ``COUNT(id)`` over a month of calls. Django's own Count refuses ``*``
    with a filter because of the ``CASE`` it writes for databases without ``FILTER``; ours have it
    (PostgreSQL, SQLite from 3.30)."""

    def __init__(self, condition: Q | None = None):
        # Count's own __init__ is passed over: it is what refuses * with a filter.
        super(Count, self).__init__(Star(), filter=condition)

    def as_sql(self, compiler, connection, **extra_context):
        if self.filter is not None and not connection.features.supports_aggregate_filter_clause:
            raise NotSupportedError("Rows(condition) needs the database's FILTER clause.")
        return super().as_sql(compiler, connection, **extra_context)


# The instant that places each kind of fact in a period, and on a day of the center's calendar.
_WHEN = {
    Call: "started_at",
    Survey: "answered_at",
    Conversion: "occurred_at",
    QaAssessment: "assessed_at",
}


def _over(facts: Facts) -> Callable[[Callable[[Mapping[str, int]], tuple[Any, Any]]], Aggregate]:
    """Declares a formula as an aggregate over ``facts``: the decorated function gives, for the
    parameters, the numerator and denominator expressions."""
    return lambda terms: Aggregate(facts, terms)


def _grouped(queryset: QuerySet, numerator, denominator) -> dict[int, Ratio]:
    return _grouped_many(queryset, [(numerator, denominator)])[0]


def _columns(terms: Sequence[tuple[Any, Any]]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The aggregate columns for (numerator, denominator) pairs, by name, and each pair's two names.
    An expression asked for twice (offered calls are many metrics' denominator) is one column."""
    columns: dict[tuple[Any, str], str] = {}

    def column(expression) -> str:
        # Expressions compare equal when their arguments do, and True == 1 in Python: the repr keeps a
        # boolean condition apart from a numeric one.
        return columns.setdefault((expression, repr(expression)), f"term{len(columns)}")

    pairs = [(column(numerator), column(denominator)) for numerator, denominator in terms]
    return {name: expression for (expression, _), name in columns.items()}, pairs


def _grouped_many(queryset: QuerySet, terms: Sequence[tuple[Any, Any]]) -> list[dict[int, Ratio]]:
    """Per agent, a ratio for each (numerator, denominator) pair, all from one query grouped by agent;
    an agent whose denominator is 0 is absent from that pair's ratios."""
    annotations, pairs = _columns(terms)
    rows = list(queryset.values("agent_id").annotate(**annotations))
    return [
        {row["agent_id"]: Ratio(_decimal(row[num]), _decimal(row[den])) for row in rows if row[den]}
        for num, den in pairs
    ]


def _decimal(value) -> Decimal:
    if value is None:
        return Decimal(0)
    if isinstance(value, dt.timedelta):  # a summed duration: in seconds
        return Decimal(value.days * 86400 + value.seconds) + Decimal(value.microseconds) / 10**6
    return Decimal(value)


ANSWERED = Q(answered_at__isnull=False)
INBOUND = Q(direction=Call.Direction.INBOUND)
UNANSWERED = Q(answered_at__isnull=True)
# A value the file did not give is unknown (NULL), never 0: a formula counts only the calls whose inputs
# it knows, so a file without talk times has no AHT rather than an AHT of 0.
WAIT_KNOWN = Q(wait_seconds__isnull=False)
TALK_KNOWN = Q(talk_seconds__isnull=False)
HANDLING_KNOWN = TALK_KNOWN & Q(hold_seconds__isnull=False, acw_seconds__isnull=False)
CUSTOMER_ENDED = Q(ended_by=Call.EndedBy.CUSTOMER) | Q(ended_by="", outcome=Call.Outcome.HUNG_UP)


def effective_call(p: Mapping[str, int]) -> Q:
    """An effective call (有效通话): answered, with at least ``effective_call_minutes`` of talk (the
    parameters of ``effective_talk_ratio``). The ratio sums their talk; the floor's no-effective-call
    alert looks for one."""
    return ANSWERED & Q(talk_seconds__gte=p["effective_call_minutes"] * 60)


# --- formulas: (agent ids, start, end, parameters) → {agent id: Ratio} ---------------------------
# Most are one conditional aggregate over one table, declared with ``_over(facts)`` as
# parameters → (numerator, denominator); the others are functions that query as they need.


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
    """
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


# --- per queue ------------------------------------------------------------------------------------

REFUSED = Q(outcome=Call.Outcome.REFUSED)
OFFERED = INBOUND & ~REFUSED  # an inbound call that joined the queue (a queue_log ENTERQUEUE)


class QueueFigures(NamedTuple):
    """A queue's calls over a period, whoever answered them (or nobody): the figures HR and leads read
    per queue, and the queue metrics of the catalogue. Offered calls joined the queue (an ENTERQUEUE);
    refused ones could not (JOINEMPTY, FULL) and count in nothing else; ring attempts on agents are
    never calls."""

    queue: str
    offered: int
    answered: int
    answered_within: int  # answered within the service level's N seconds
    wait_answered: int  # seconds waited by the answered calls
    abandoned: int  # offered and not answered: the caller hung up, timed out or left with a key
    abandoned_short: int  # of which within the short-abandon threshold
    refused: int
    transfers: int
    rings: int  # ring attempts without answer on agents of the queue
    answered_timed: int = (
        0  # answered calls whose wait is known (the others are in no speed figure)
    )

    @property
    def timed(self) -> int:
        """Offered calls that can be said to be answered within a time or not: all but those answered
        after an unknown wait."""
        return self.offered - (self.answered - self.answered_timed)

    @property
    def answer_rate(self) -> Decimal | None:
        return _rate(self.answered, self.offered)

    @property
    def asa(self) -> Decimal | None:
        return _rate(self.wait_answered, self.answered_timed, ONE)

    @property
    def service_level(self) -> Decimal | None:
        return _rate(self.answered_within, self.timed)

    @property
    def abandon_rate(self) -> Decimal | None:
        return _rate(self.abandoned - self.abandoned_short, self.offered - self.abandoned_short)


def _rate(numerator: int, denominator: int, scale: Decimal | None = None) -> Decimal | None:
    """A queue's figure as the pages and the API show it (4 places, half-up from the exact ratio); the
    queue metrics of plans read the exact ratios (``_of_the_queue``)."""
    if not denominator:
        return None
    return rounded(Rational(int(numerator) * int(scale or PERCENT), int(denominator)), 4)


def queue_figures(
    *,
    start: dt.datetime,
    end: dt.datetime,
    answer_within_seconds: int = 20,
    short_abandon_seconds: int = 5,
    queue: str = "",
) -> list[QueueFigures]:
    """Each queue's figures over ``[start, end)`` (one queue if ``queue`` names it), by queue: one query
    grouped by queue over the calls, one over the ring attempts."""
    calls = Call.objects.filter(
        started_at__gte=start, started_at__lt=end, direction=Call.Direction.INBOUND
    )
    rings = RingAttempt.objects.filter(rang_at__gte=start, rang_at__lt=end)
    if queue:
        calls, rings = calls.filter(queue=queue), rings.filter(queue=queue)
    answered = OFFERED & ANSWERED
    abandoned = OFFERED & UNANSWERED
    rows = calls.values("queue").annotate(
        offered=Rows(OFFERED),
        answered=Rows(answered),
        answered_within=Rows(answered & Q(wait_seconds__lte=answer_within_seconds)),
        answered_timed=Rows(answered & WAIT_KNOWN),
        wait_answered=Sum("wait_seconds", filter=answered),
        abandoned=Rows(abandoned),
        abandoned_short=Rows(abandoned & Q(wait_seconds__lt=short_abandon_seconds)),
        refused=Rows(REFUSED),
        transfers=Sum("transfers"),
    )
    rung = dict(rings.values("queue").annotate(n=Rows()).values_list("queue", "n"))
    found = {
        row["queue"]: QueueFigures(
            row["queue"], row["offered"], row["answered"], row["answered_within"],
            row["wait_answered"] or 0, row["abandoned"], row["abandoned_short"], row["refused"],
            row["transfers"] or 0, rung.get(row["queue"], 0), row["answered_timed"],
        )
        for row in rows
    }  # fmt: skip
    for name, n in rung.items():
        found.setdefault(name, QueueFigures(name, 0, 0, 0, 0, 0, 0, 0, 0, n))
    return [found[name] for name in sorted(found)]


def _queue_participants(ids, start, end, p) -> set[int]:
    """The agents who took part in the queue's calls: answered one, or were rung for one."""
    answered = _calls(ids, start, end).filter(_in_queue(p, ANSWERED))
    rings = _of_agents(RingAttempt.objects.filter(rang_at__gte=start, rang_at__lt=end), ids)
    if p.get("queue"):
        rings = rings.filter(queue=p["queue"])
    return set(answered.values_list("agent_id", flat=True).distinct()) | set(
        rings.values_list("agent_id", flat=True).distinct()
    )


def _of_the_queue(terms: Callable[[QueueFigures], tuple[int, int]]) -> Formula:
    """A queue metric: the figures of the parameters' queue (all queues together when it names none),
    the same ratio for each agent who took part in its calls in the period; the others have no data."""

    def formula(ids, start, end, p):
        figures = queue_figures(
            start=start, end=end, queue=p.get("queue", ""),
            answer_within_seconds=p.get("answer_within_seconds", 20),
            short_abandon_seconds=p.get("short_abandon_seconds", 5),
        )  # fmt: skip
        numerator, denominator = (
            sum(values) for values in zip(*(terms(f) for f in figures), strict=True)
        ) if figures else (0, 0)  # fmt: skip
        if not denominator:
            return {}
        ratio = Ratio(Decimal(numerator), Decimal(denominator))
        return dict.fromkeys(_queue_participants(ids, start, end, p), ratio)

    return formula


# --- the catalogue --------------------------------------------------------------------------------

_WINDOW = Param("window_days", "Repeat-contact window", "重复来电窗口", 7, 1, 90, "days")
_QUEUE = Param("queue", "Queue", "队列", "", None, None, "", kind="queue")
_WITHIN = Param("answer_within_seconds", "Answered within", "应答时限", 20, 1, 600, "s")
_SHORT = Param(
    "short_abandon_seconds", "Short abandons excluded below", "短时放弃排除阈值", 5, 0, 120, "s"
)

CATALOGUE: tuple[MetricDefinition, ...] = (
    MetricDefinition(
        "answer_rate", "Answer rate", "接通率", "%", UP, ("calls",), _answer_rate, PERCENT,
        Decimal(0), PERCENT, "Answered ÷ offered (inbound), connected ÷ dialled (outbound).",
        (_QUEUE,),
    ),
    MetricDefinition(
        "asa", "Average speed of answer", "平均应答速度", "s", DOWN, ("calls",), _asa, ONE,
        Decimal(0), None, "Mean wait of answered inbound calls.", (_QUEUE,),
    ),
    MetricDefinition(
        "service_level", "Service level", "服务水平", "%", UP, ("calls",), _service_level, PERCENT,
        Decimal(0), PERCENT, "Inbound calls answered within N seconds ÷ offered inbound calls.",
        (_WITHIN, _QUEUE),
    ),
    MetricDefinition(
        "abandon_rate", "Abandonment rate", "放弃率", "%", DOWN, ("calls",), _abandon_rate,
        PERCENT, Decimal(0), PERCENT,
        "Abandoned ÷ offered inbound calls; abandons shorter than N seconds count in neither.",
        (_SHORT, _QUEUE),
    ),
    MetricDefinition(
        "aht", "Average handling time", "平均处理时长", "s", DOWN, ("calls",), _aht, ONE,
        Decimal(0), None, "(Talk + hold + after-call work) ÷ handled calls.",
    ),
    MetricDefinition(
        "fcr", "First-contact resolution", "首次解决率", "%", UP, ("calls",), _fcr, PERCENT,
        Decimal(0), PERCENT,
        "Answered inbound contacts with no repeat inbound contact from the same customer within the "
        "window ÷ answered inbound contacts with a known customer.",
        (_WINDOW,),
    ),
    MetricDefinition(
        "first_correct_transfer", "First-correct-transfer rate", "首次正确转接率", "%", UP,
        ("calls",), _first_correct_transfer, PERCENT, Decimal(0), PERCENT,
        "Transfers that reached the right skill first time ÷ transfers.",
    ),
    MetricDefinition(
        "conversion_rate", "Conversion rate", "转化率", "%", UP, ("calls", "conversions"),
        _conversion_rate, PERCENT, Decimal(0), PERCENT,
        "Answered calls with a sale, appointment or intent ÷ answered calls.",
    ),
    MetricDefinition(
        "time_to_convert", "Time to convert", "转化时长", "h", DOWN, ("calls", "conversions"),
        _time_to_convert, ONE, Decimal(0), None,
        "Mean hours from the call to its sale or appointment.", per_unit=3600,
    ),
    MetricDefinition(
        "invitation_success", "Invitation success rate", "邀约成功率", "%", UP, ("conversions",),
        _invitation_success, PERCENT, Decimal(0), PERCENT,
        "Invitations accepted ÷ invitations made.",
    ),
    MetricDefinition(
        "csat", "CSAT", "客户满意度", "score", UP, ("surveys",), _csat, ONE, Decimal(1), Decimal(5),
        "Mean after-call survey score (1-5).",
    ),
    MetricDefinition(
        "nps", "NPS", "净推荐值", "points", UP, ("surveys",), _nps, PERCENT, Decimal(-100),
        PERCENT, "% promoters (9-10) − % detractors (0-6).",
    ),
    MetricDefinition(
        "complaint_rate", "Complaint rate", "合规投诉率", "%", DOWN, ("calls",), _complaint_rate,
        PERCENT, Decimal(0), PERCENT, "Calls with a compliance complaint ÷ calls.",
    ),
    MetricDefinition(
        "early_hangup_rate", "Early hang-up rate", "早挂率", "%", DOWN, ("calls",),
        _early_hangup_rate, PERCENT, Decimal(0), PERCENT,
        "Connected calls ended by the customer within N seconds ÷ connected calls.",
        (Param("early_hangup_seconds", "Ended within", "挂断时限", 30, 1, 600, "s"),),
    ),
    MetricDefinition(
        "effective_talk_ratio", "Effective talk ratio", "有效通话时长占比", "%", UP,
        ("calls", "work time"), _effective_talk_ratio, PERCENT, Decimal(0), PERCENT,
        "Talk time of calls of at least N minutes ÷ logged-in time.",
        (Param("effective_call_minutes", "Effective call from", "有效通话时长起点", 2, 0, 60,
               "min"),),
    ),
    MetricDefinition(
        "repeat_contact_rate", "Repeat-contact rate", "重复来电率", "%", DOWN, ("calls",),
        _repeat_contact_rate, PERCENT, Decimal(0), PERCENT,
        "Answered inbound contacts followed by another inbound contact of the same customer within the "
        "window ÷ answered inbound contacts with a known customer.",
        (_WINDOW,),
    ),
    MetricDefinition(
        "qa_score", "QA score", "质检得分", "score", UP, ("QA",), _qa_score, ONE, Decimal(0),
        PERCENT, "Mean quality score (0-100).",
    ),
    MetricDefinition(
        "ring_no_answer_rate", "Ring-no-answer rate", "振铃未接率", "%", DOWN, ("rings", "calls"),
        _ring_no_answer_rate, PERCENT, Decimal(0), PERCENT,
        "Rings without answer (queue_log RINGNOANSWER) ÷ the times the queue rang the agent: those "
        "rings and the calls the agent answered.",
        (_QUEUE,),
    ),
    MetricDefinition(
        "queue_answer_rate", "Queue answer rate", "队列接通率", "%", UP, ("calls",),
        _of_the_queue(lambda f: (f.answered, f.offered)), PERCENT, Decimal(0), PERCENT,
        "The queue's answered ÷ offered calls (every call that joined it, answered by anyone or by "
        "nobody); each agent who took part in its calls gets the queue's value.",
        (_QUEUE,), shared=True,
    ),
    MetricDefinition(
        "queue_asa", "Queue average speed of answer", "队列平均应答速度", "s", DOWN, ("calls",),
        _of_the_queue(lambda f: (f.wait_answered, f.answered_timed)), ONE, Decimal(0), None,
        "Mean wait of the queue's answered calls; each agent who took part in its calls gets the "
        "queue's value.",
        (_QUEUE,), shared=True,
    ),
    MetricDefinition(
        "queue_service_level", "Queue service level", "队列服务水平", "%", UP, ("calls",),
        _of_the_queue(lambda f: (f.answered_within, f.timed)), PERCENT, Decimal(0), PERCENT,
        "The queue's calls answered within N seconds ÷ its offered calls; each agent who took part "
        "in its calls gets the queue's value.",
        (_WITHIN, _QUEUE), shared=True,
    ),
    MetricDefinition(
        "queue_abandon_rate", "Queue abandonment rate", "队列放弃率", "%", DOWN, ("calls",),
        _of_the_queue(lambda f: (f.abandoned - f.abandoned_short, f.offered - f.abandoned_short)),
        PERCENT, Decimal(0), PERCENT,
        "The queue's offered calls nobody answered ÷ its offered calls, those left within N seconds "
        "counting in neither; each agent who took part in its calls gets the queue's value.",
        (_SHORT, _QUEUE), shared=True,
    ),
)  # fmt: skip
METRICS: dict[str, MetricDefinition] = {definition.code: definition for definition in CATALOGUE}
# Labels in the reader's language, decided when shown (the catalogue carries both names).
METRIC_CHOICES = [(d.code, lazy(lambda d=d: d.name, str)()) for d in CATALOGUE]


def metric(code: str) -> MetricDefinition:
    try:
        return METRICS[code]
    except KeyError:
        raise ValueError(f"Unknown metric {code!r}; known: {', '.join(METRICS)}") from None


def _exact(definition: MetricDefinition, ratio: Ratio) -> Rational:
    """numerator × scale ÷ denominator, exactly: the sums are exact Decimals, divided as integers."""
    n, d = ratio.numerator.as_integer_ratio()
    m, e = ratio.denominator.as_integer_ratio()
    scale, per_unit = definition.exact_scale
    return Rational(n * e * scale, d * m * per_unit)


def _value(definition: MetricDefinition, ratio: Ratio | None) -> MetricValue:
    if ratio is None or ratio.denominator == 0:
        return MetricValue(None, Decimal(0), Decimal(0))
    numerator = ratio.numerator
    if definition.per_unit != 1:
        numerator = numerator / definition.per_unit  # as shown (hours): the value keeps the seconds
    return MetricValue(_exact(definition, ratio), numerator, ratio.denominator)


def ratio_values(code: str, ratios: Mapping[Any, Ratio]) -> dict[Any, Rational]:
    """Each ratio's exact value, by the same keys (an agent's days): what ``rollup(code, [ratio]).value``
    gives, for many ratios at once and without the counts; a ratio over 0 is absent (no data)."""
    definition = metric(code)
    return {key: _exact(definition, ratio) for key, ratio in ratios.items() if ratio.denominator}


def shown_ratio(code: str, numerator: Decimal, denominator: Decimal) -> Ratio:
    """The Ratio of sums as statements show and keep them (time to convert in hours), in the units
    ``rollup`` adds: for roll-ups of stored lines (the comparison of plans)."""
    return Ratio(numerator * metric(code).per_unit, denominator)


def metric_ratios(
    code: str,
    *,
    agent_ids: Iterable[int],
    start: dt.datetime,
    end: dt.datetime,
    params: Mapping[str, int] | None = None,
) -> dict[int, Ratio]:
    definition = metric(code)
    return definition.formula(
        list(agent_ids), start, end, definition.param_values(params, known_queue=False)
    )


def metric_values(
    code: str,
    *,
    agent_ids: Iterable[int],
    start: dt.datetime,
    end: dt.datetime,
    params: Mapping[str, int] | None = None,
) -> dict[int, MetricValue]:
    """Values of metric ``code`` per agent over ``[start, end)``. An agent with no data is absent:
    "no data", which the plan's no-data rule decides about, never a silent 100%."""
    definition = metric(code)
    ratios = metric_ratios(code, agent_ids=agent_ids, start=start, end=end, params=params)
    return {agent: _value(definition, ratio) for agent, ratio in ratios.items()}


Request = tuple[str, str, Mapping[str, int] | None]  # (the caller's key, metric code, parameters)
_Wanted = tuple[str, tuple[tuple[str, int], ...]]  # (metric code, parameters with defaults, sorted)


def _requests_checked(
    requests: Sequence[Request],
) -> tuple[dict[str, _Wanted], dict[_Wanted, dict[str, int]]]:
    """Each request's key → what it wants (code and parameters, defaults filled in), and each distinct
    want → its parameters; unknown codes, bad parameters and a key given twice refused."""
    keys: dict[str, _Wanted] = {}
    params: dict[_Wanted, dict[str, int]] = {}
    for key, code, given in requests:
        if key in keys:
            raise ValueError(f"Metric request key {key!r} given twice")
        values = metric(code).param_values(given, known_queue=False)
        wanted = (code, tuple(sorted(values.items())))
        keys[key] = wanted
        params[wanted] = values
    return keys, params


def metric_ratios_many(
    requests: Sequence[Request],
    *,
    agent_ids: Iterable[int],
    start: dt.datetime,
    end: dt.datetime,
) -> dict[str, dict[int, Ratio]]:
    """``metric_ratios`` for many metrics at once, by the requests' keys. The metrics declared as an
    aggregate over the same table share one grouped query (all the call-table rates and means, the
    survey scores, …); the others run their own formula. A metric asked for twice with the same
    parameters (the defaults filled in) is computed once. Codes and parameters are checked first."""
    agent_ids = list(agent_ids)
    keys, params = _requests_checked(requests)
    if not agent_ids:
        return {key: {} for key in keys}
    ratios: dict[_Wanted, dict[int, Ratio]] = {}
    by_facts: dict[Facts, list[_Wanted]] = {}
    for wanted, values in params.items():
        definition = metric(wanted[0])
        if definition.aggregate is None:
            ratios[wanted] = definition.formula(agent_ids, start, end, values)
        else:
            by_facts.setdefault(definition.aggregate.facts, []).append(wanted)
    for facts, group in by_facts.items():
        terms = [metric(code).aggregate.terms(params[(code, p)]) for code, p in group]
        ratios.update(zip(group, _grouped_many(facts(agent_ids, start, end), terms), strict=True))
    return {key: dict(ratios[wanted]) for key, wanted in keys.items()}  # a dict of its own per key


def metric_values_many(
    requests: Sequence[Request],
    *,
    agent_ids: Iterable[int],
    start: dt.datetime,
    end: dt.datetime,
) -> dict[str, dict[int, MetricValue]]:
    """``metric_values`` for many metrics at once (see ``metric_ratios_many``): for each request's key,
    exactly what ``metric_values(code, …, params=params)`` gives, with one query per table for the
    metrics that are one aggregate over it. Agents with no data are absent."""
    codes = {key: code for key, code, _ in requests}
    ratios = metric_ratios_many(requests, agent_ids=agent_ids, start=start, end=end)
    return {
        key: {agent: _value(metric(codes[key]), ratio) for agent, ratio in by_agent.items()}
        for key, by_agent in ratios.items()
    }


def _days(start: dt.datetime, end: dt.datetime) -> list[tuple[dt.date, dt.datetime, dt.datetime]]:
    """The days of the center's calendar that ``[start, end)`` touches, each with its part of it."""
    tz = center_tz()
    days, day = [], local_day(start)
    while True:
        day_start = max(start, dt.datetime.combine(day, dt.time(), tz))
        if day_start >= end:
            return days
        following = day + dt.timedelta(days=1)
        days.append((day, day_start, min(end, dt.datetime.combine(following, dt.time(), tz))))
        day = following


def metric_ratios_by_day(
    requests: Sequence[Request],
    *,
    agent_ids: Iterable[int],
    start: dt.datetime,
    end: dt.datetime,
) -> dict[str, dict[int, dict[dt.date, Ratio]]]:
    """``metric_ratios_many`` day by day (days of the center's calendar) over ``[start, end)``: per
    request's key, per agent, per day with data; a day without data is absent, never a zero. Days add
    up as agents do — every formula is a ratio of sums — so ``rollup`` makes a week of days, or a team
    of agents on one day. The metrics declared as an aggregate over one table share one query grouped
    by agent and day, whatever the number of agents and days (trends of a 500-agent team); the others
    run their formula once per day, for all the agents at once."""
    agent_ids = list(agent_ids)
    keys, params = _requests_checked(requests)
    if not agent_ids:
        return {key: {} for key in keys}
    ratios: dict[_Wanted, dict[int, dict[dt.date, Ratio]]] = {}
    by_facts: dict[Facts, list[_Wanted]] = {}
    for wanted, values in params.items():
        definition = metric(wanted[0])
        if definition.aggregate is not None:
            by_facts.setdefault(definition.aggregate.facts, []).append(wanted)
            continue
        per_agent: dict[int, dict[dt.date, Ratio]] = {}
        for day, day_start, day_end in _days(start, end):
            for agent, ratio in definition.formula(agent_ids, day_start, day_end, values).items():
                per_agent.setdefault(agent, {})[day] = ratio
        ratios[wanted] = per_agent
    days = _days(start, end)
    for facts, group in by_facts.items():
        queryset = facts(agent_ids, start, end)
        # Each fact's day by the instants where the center's days end, computed here (zoneinfo, as
        # month boundaries are): a call at 00:30 in Shanghai is that day's though the day before in
        # UTC, and a day of 23 or 25 hours is right. Cheaper for the database than converting every
        # row's time to the local date, and the same on PostgreSQL and SQLite.
        when = _WHEN[queryset.model]
        day = Case(
            *[
                When(**{f"{when}__lt": day_end}, then=Value(i))
                for i, (*_, day_end) in enumerate(days)
            ],
            output_field=IntegerField(),
        )
        annotations, pairs = _columns(
            [metric(code).aggregate.terms(params[(code, p)]) for code, p in group]
        )
        rows = (
            queryset.annotate(day=day)
            .values("agent_id", "day")
            .annotate(**annotations)
            .values_list("agent_id", "day", *annotations)
        )
        found: list[dict[int, dict[dt.date, Ratio]]] = [{} for _ in group]
        position = {name: i for i, name in enumerate(annotations, start=2)}
        columns = [
            (per_agent, position[num], position[den])
            for per_agent, (num, den) in zip(found, pairs, strict=True)
        ]
        dates = [date for date, *_ in days]
        # Thousands of rows (500 agents × 14 days): read as tuples, into as few objects as will do.
        for row in rows.iterator(chunk_size=2000):
            agent, date = row[0], dates[row[1]]
            for per_agent, num, den in columns:
                if row[den]:
                    per_agent.setdefault(agent, {})[date] = Ratio(
                        _decimal(row[num]), _decimal(row[den])
                    )
        ratios.update(zip(group, found, strict=True))
    return {key: dict(ratios[wanted]) for key, wanted in keys.items()}  # a dict of its own per key


def rollup(code: str, ratios: Iterable[Ratio]) -> MetricValue:
    """One value for a group of agents (a team, a pilot group): sums of numerators and denominators.
    A shared metric (a queue's value given to each agent) is the queue's: the ratio over the widest
    window among the agents' (the same ratio for all when their windows are the same)."""
    ratios = list(ratios)
    if len(ratios) == 1:  # one agent, one day: a dashboard asks thousands of these
        return _value(metric(code), ratios[0])
    if ratios and metric(code).shared:
        return _value(metric(code), max(ratios, key=lambda r: r.denominator))
    total = Ratio(
        sum((r.numerator for r in ratios), Decimal(0)),
        sum((r.denominator for r in ratios), Decimal(0)),
    )
    return _value(metric(code), total)


def baseline_months(year: int, month: int, baseline: str) -> list[tuple[int, int]]:
    """The months a baseline averages: "previous" (last month) or "trailing3" (the three before)."""
    months = {"previous": 1, "trailing3": 3}.get(baseline)
    if months is None:
        raise ValueError(f"Unknown baseline {baseline!r}; use 'previous' or 'trailing3'")
    return [shift_month(year, month, -back) for back in range(1, months + 1)]


def improvement(code: str, current: MetricValue, past: Iterable[Rational | None]) -> MetricValue:
    """The month's value less the mean of the baseline months' values, in the metric's good direction
    (a fall of ASA from 30 s to 25 s is +5), exact like the values. No data this month, or in every
    baseline month, is no data."""
    past = [value for value in past if value is not None]
    if current.value is None or not past:
        return MetricValue(None, current.numerator, current.denominator)
    base = sum(past, Rational(0)) / len(past)
    sign = 1 if metric(code).direction == UP else -1
    return MetricValue((current.value - base) * sign, current.numerator, current.denominator)


def improvement_values(
    code: str,
    *,
    agent_ids: Iterable[int],
    year: int,
    month: int,
    baseline: str,
    params: Mapping[str, int] | None = None,
) -> dict[int, MetricValue]:
    """Improvement of a metric per agent in a month over a baseline (see ``improvement``); agents with
    no data are absent."""
    agent_ids = list(agent_ids)
    start, end = month_bounds(year, month)
    current = metric_values(code, agent_ids=agent_ids, start=start, end=end, params=params)
    history = [
        metric_values(code, agent_ids=agent_ids, start=b_start, end=b_end, params=params)
        for b_start, b_end in (
            month_bounds(y, m) for y, m in baseline_months(year, month, baseline)
        )
    ]
    result = {}
    for agent, value in current.items():
        moved = improvement(
            code,
            value,
            (month_values[agent].value for month_values in history if agent in month_values),
        )
        if moved.value is not None:
            result[agent] = moved
    return result
