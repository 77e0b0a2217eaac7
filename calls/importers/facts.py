"""What each kind of fact looks like in a file: its fields, their types and rules, and where they go.

One description per kind, used by every source format and by the engine that validates and upserts:
the rules of a call are written once, here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from django.db import models

from calls.importers import grammar
from calls.models import Call, Conversion, QaAssessment, RingAttempt, Survey, WorkTime
from calls.months import month_bounds

MAX_SECONDS = (
    24 * 3600
)  # no single wait or talk lasts a day; larger is a unit error (milliseconds?)


@dataclass(frozen=True)
class Field:
    name: str  # the canonical name: the column of the canonical layout, and of a mapping
    kind: str  # a kind of ``calls.importers.grammar``: text, int, key, decimal, duration, bool, datetime, …
    target: str | None  # the fact's column (attname), None for a field that only feeds another
    required: bool = False  # the file must give it (a column, a constant or a computation)
    max_length: int | None = None
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    # An empty or absent value is unknown: NULL for numbers, times and flags, "" for texts and choices.
    # Never a 0 nobody wrote: a file without talk times has no talk time, not a talk time of 0.
    aliases: dict = field(default_factory=dict)  # built-in value maps, e.g. 呼入 → inbound
    digits: int = 12  # a decimal's digits before the point, and after it: the column's own
    places: int = 6

    @property
    def forms(self) -> str:
        return grammar.KINDS[self.kind].forms


@dataclass(frozen=True)
class Check:
    """A rule across fields of one row: ``sql`` is true when the row is wrong (typed columns t.*)."""

    column: str
    reason: str
    sql: str


@dataclass(frozen=True)
class FactKind:
    code: str
    model: type[models.Model]
    fields: tuple[Field, ...]
    key: tuple[str, ...]  # canonical fields that, with the source, identify a fact
    period_field: str  # the datetime or date that places a fact in a month
    checks: tuple[Check, ...] = ()
    # Fields a file must give beyond the required ones, each with the words that say how: (field, hint).
    needs: tuple[tuple[str, str], ...] = ()
    # The fields this kind can compute from the others a file gives (``calls.importers.mapping``).
    derive: Callable[[set[str]], set[str]] | None = None

    @property
    def table(self) -> str:
        return self.model._meta.db_table

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)

    def month_range(self, year: int, month: int):
        """[start, end) of a month for this kind's period field: dates for a date, instants on the
        center's clock for a time."""
        if self.field(self.period_field).kind == "date":
            start = dt.date(year, month, 1)
            return start, (dt.date(year + 1, 1, 1) if month == 12 else dt.date(year, month + 1, 1))
        return month_bounds(year, month)


YES_NO = {
    "1": "1",
    "true": "1",
    "yes": "1",
    "y": "1",
    "是": "1",
    "0": "0",
    "false": "0",
    "no": "0",
    "n": "0",
    "否": "0",
}
DIRECTIONS = {
    "in": "inbound",
    "呼入": "inbound",
    "inbound": "inbound",
    "out": "outbound",
    "呼出": "outbound",
    "outbound": "outbound",
}


def _calls_derive(present: set[str]) -> set[str]:
    """A call's answer time from an answered flag (the entry plus the wait), or its wait from the answer's
    time (the answer less the entry), when the file gives the one and not the other."""
    if "answered_at" not in present and {"answered", "entered_at", "wait_seconds"} <= present:
        return {"answered_at"}
    if "wait_seconds" not in present and {"answered_at", "entered_at"} <= present:
        return {"wait_seconds"}
    return set()


CALLS = FactKind(
    code="calls",
    model=Call,
    key=("call_id",),
    period_field="entered_at",
    fields=(
        Field("call_id", "text", "external_id", required=True, max_length=100),
        Field("agent_id", "agent", "agent_id"),
        Field("queue", "text", "queue", max_length=100),
        Field(
            "direction",
            "choice",
            "direction",
            required=True,
            choices=("inbound", "outbound"),
            aliases=DIRECTIONS,
        ),
        Field("customer_number", "customer", "customer_key"),
        Field("entered_at", "datetime", "started_at", required=True),
        Field("answered_at", "datetime", "answered_at"),
        Field("wait_seconds", "duration", "wait_seconds", minimum=0, maximum=MAX_SECONDS),
        Field("talk_seconds", "duration", "talk_seconds", minimum=0, maximum=MAX_SECONDS),
        Field("hold_seconds", "duration", "hold_seconds", minimum=0, maximum=MAX_SECONDS),
        Field("acw_seconds", "duration", "acw_seconds", minimum=0, maximum=MAX_SECONDS),
        Field("transfers", "int", "transfers", minimum=0, maximum=100),
        Field("outcome", "choice", "outcome", choices=tuple(c.value for c in Call.Outcome)),
        Field("complaint", "bool", "complaint", aliases=YES_NO),
        Field("transfer_correct", "bool", "transfer_correct", aliases=YES_NO),
        Field("ended_by", "choice", "ended_by", choices=tuple(c.value for c in Call.EndedBy)),
        # Whether the call was answered, where a file says so by a flag or a disposition rather than by
        # the answer's time; the time is then the entry plus the wait (see _calls_derive).
        Field("answered", "bool", None, aliases=YES_NO),
    ),
    checks=(
        Check("answered_at", "before entered_at", "t.answered_at < t.started_at"),
        Check(
            "talk_seconds",
            "talk time on a call that was not answered",
            "t.answered_at IS NULL AND t.talk_seconds > 0",
        ),
    ),
    needs=(("answered_at", "answered_at (or answered, a flag, with wait_seconds)"),),
    derive=_calls_derive,
)

SURVEYS = FactKind(
    code="surveys",
    model=Survey,
    key=("survey_id",),
    period_field="answered_at",
    fields=(
        Field("survey_id", "text", "external_id", required=True, max_length=100),
        Field("agent_id", "agent", "agent_id", required=True),
        Field("kind", "choice", "kind", required=True, choices=("csat", "nps", "ces")),
        Field("score", "int", "score", required=True, minimum=0, maximum=10),
        Field("answered_at", "datetime", "answered_at", required=True),
    ),
    checks=(
        Check(
            "score",
            "out of the survey's scale (CSAT 1-5, NPS 0-10, CES 1-7)",
            "(t.kind = 'csat' AND (t.score < 1 OR t.score > 5)) "
            "OR (t.kind = 'ces' AND (t.score < 1 OR t.score > 7))",
        ),
    ),
)

CONVERSIONS = FactKind(
    code="conversions",
    model=Conversion,
    key=("conversion_id",),
    period_field="occurred_at",
    fields=(
        Field("conversion_id", "text", "external_id", required=True, max_length=100),
        Field("agent_id", "agent", "agent_id", required=True),
        Field(
            "kind", "choice", "kind", required=True, choices=tuple(c.value for c in Conversion.Kind)
        ),
        Field("occurred_at", "datetime", "occurred_at", required=True),
        Field("accepted", "bool", "accepted", aliases=YES_NO),
        Field("amount", "decimal", "amount", minimum=0, digits=12, places=2),
    ),
    checks=(
        Check(
            "accepted",
            "an invitation says whether it was accepted; other kinds leave it empty",
            "(t.kind = 'invitation') <> (t.accepted IS NOT NULL)",
        ),
    ),
)

QA = FactKind(
    code="qa",
    model=QaAssessment,
    key=("assessment_id",),
    period_field="assessed_at",
    fields=(
        Field("assessment_id", "text", "external_id", required=True, max_length=100),
        Field("agent_id", "agent", "agent_id", required=True),
        Field(
            "score", "decimal", "score", required=True, minimum=0, maximum=100, digits=3, places=2
        ),
        Field("assessed_at", "datetime", "assessed_at", required=True),
    ),
)

WORKTIME = FactKind(
    code="worktime",
    model=WorkTime,
    key=("agent_id", "day"),
    period_field="day",
    fields=(
        Field("agent_id", "agent", "agent_id", required=True),
        Field("day", "date", "day", required=True),
        Field(
            "logged_in_seconds",
            "duration",
            "logged_in_seconds",
            required=True,
            minimum=0,
            maximum=86400,
        ),
        Field("available_seconds", "duration", "available_seconds", minimum=0, maximum=86400),
    ),
    checks=(
        Check(
            "available_seconds",
            "more than the logged-in time",
            "t.available_seconds > t.logged_in_seconds",
        ),
    ),
)

RINGS = FactKind(
    code="rings",
    model=RingAttempt,
    key=("attempt_id",),
    period_field="rang_at",
    fields=(
        Field("attempt_id", "text", "external_id", required=True, max_length=150),
        Field("agent_id", "agent", "agent_id", required=True),
        Field("queue", "text", "queue", max_length=100),
        Field("call_id", "text", "call_ref", max_length=100),
        Field("rang_at", "datetime", "rang_at", required=True),
        Field("ring_ms", "int", "ring_ms", required=True, minimum=0, maximum=MAX_SECONDS * 1000),
    ),
)

KINDS: dict[str, FactKind] = {
    kind.code: kind for kind in (CALLS, SURVEYS, CONVERSIONS, QA, WORKTIME, RINGS)
}

# Calls as the queue_log importer gives them: the customer as its key, computed in Python by
# calls.privacy (the same function the engine uses on SQLite), because the legs a file leaves open
# are kept until the next file and the number itself is never stored. Same facts, same rules.
QUEUE_LOG_CALLS = replace(
    CALLS,
    fields=tuple(
        Field("customer_key", "key", "customer_key") if f.name == "customer_number" else f
        for f in CALLS.fields
    ),
)
