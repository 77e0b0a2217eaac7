"""Per queue: a queue's figures over a period (whoever answered its calls, or nobody), and the queue
metrics of the catalogue, which give each agent who took part in its calls the queue's value."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import NamedTuple

from django.db.models import Q, Sum

from calls.metrics.formulas import ANSWERED, INBOUND, UNANSWERED, WAIT_KNOWN, _in_queue
from calls.metrics.ratios import ONE, PERCENT, Formula, Ratio
from calls.metrics.sql import Rows, _calls, _of_agents
from calls.models import Call, RingAttempt
from calls.numbers import rounded
from calls.rational import Rational

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
        answered=Rows(answered),  # type: ignore[no-redef]  # a name, not Call.answered (a property)
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
            row["queue"],
            row["offered"],
            row["answered"],
            row["answered_within"],
            row["wait_answered"] or 0,
            row["abandoned"],
            row["abandoned_short"],
            row["refused"],
            row["transfers"] or 0,
            rung.get(row["queue"], 0),
            row["answered_timed"],
        )
        for row in rows
    }
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
            start=start,
            end=end,
            queue=p.get("queue", ""),
            answer_within_seconds=p.get("answer_within_seconds", 20),
            short_abandon_seconds=p.get("short_abandon_seconds", 5),
        )
        numerator, denominator = (
            (sum(values) for values in zip(*(terms(f) for f in figures), strict=True))
            if figures
            else (0, 0)
        )
        if not denominator:
            return {}
        ratio = Ratio(Decimal(numerator), Decimal(denominator))
        return dict.fromkeys(_queue_participants(ids, start, end, p), ratio)

    return formula
