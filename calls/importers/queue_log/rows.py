"""The folded legs, ring attempts and work time as rows of the facts' layouts: each leg's external id,
stable across imports (``leg_names``), and the row sources the import engine reads."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from calls.importers.facts import QUEUE_LOG_CALLS, RINGS, WORKTIME
from calls.importers.queue_log.legs import Leg, Parsed
from calls.importers.sources import RowSource

CALL_COLUMNS = [f.name for f in QUEUE_LOG_CALLS.fields if f.target]
RING_COLUMNS = [f.name for f in RINGS.fields]
WORKTIME_COLUMNS = [f.name for f in WORKTIME.fields]


def name_candidates(leg: Leg, more: int = 3) -> list[str]:
    """The ids a leg may take, in order: the call's own, then ``<callid>@<queue>`` (and numbered, for a
    call that comes back to a queue)."""
    return [leg.callid, f"{leg.callid}@{leg.queue}"] + [
        f"{leg.callid}@{leg.queue}#{n}" for n in range(2, 2 + more)
    ]


def leg_names(
    legs: Iterable[Leg], taken: Mapping[str, tuple[str, dt.datetime]] | None = None
) -> dict[int, str]:
    """Each leg's external id (by ``id(leg)``), stable across imports: the first leg of a call keeps the
    call's id, a later one ``<callid>@<queue>``. ``taken`` holds the ids the source already has, with
    the queue and entry of the leg that has each: an id held by another leg (an earlier file's) is
    not this one's."""
    taken = taken or {}
    names: dict[int, str] = {}
    used: set[str] = set()
    for leg in sorted(legs, key=lambda leg: (leg.entered, leg.queue)):
        candidates = name_candidates(leg)
        n = len(candidates)
        while True:
            name = next(
                (
                    c
                    for c in candidates
                    if c not in used
                    and taken.get(c, (leg.queue, leg.entered)) == (leg.queue, leg.entered)
                ),
                None,
            )
            if name is not None:
                break
            n += 1
            candidates = [f"{leg.callid}@{leg.queue}#{n}"]
        used.add(name)
        names[id(leg)] = name
    return names


def call_row(leg: Leg, name: str) -> list[str]:
    """A leg as a row of the canonical call layout, built by field name."""
    values = {
        "call_id": name,
        "agent_id": leg.agent,
        "queue": leg.queue,
        "direction": "inbound",
        "customer_key": "" if leg.customer is None else str(leg.customer),
        "entered_at": leg.entered.isoformat(sep=" "),
        "answered_at": leg.answered.isoformat(sep=" ") if leg.answered else "",
        "wait_seconds": str(leg.wait),
        "talk_seconds": str(leg.talk),
        "transfers": str(leg.transfers),
        "outcome": leg.outcome,
        "ended_by": leg.ended_by,
    }
    return [values.get(column, "") for column in CALL_COLUMNS]


def _cells(columns: list[str], values: dict) -> list[str]:
    return [values.get(column, "") for column in columns]


def sources(
    parsed: Parsed, names: Mapping[int, str] | None = None
) -> tuple[RowSource, RowSource, RowSource]:
    """The calls, ring attempts and work time, as row sources numbered by the file's lines."""
    names = names if names is not None else leg_names(leg for leg, _line in parsed.finished)
    calls = [(line, call_row(leg, names[id(leg)])) for leg, line in parsed.finished]
    rings = [(line, _cells(RING_COLUMNS, values)) for line, values in parsed.rings]
    work = [(line, _cells(WORKTIME_COLUMNS, values)) for line, values in parsed.worktime]
    return (
        RowSource(
            CALL_COLUMNS, calls, filename=parsed.filename, encoding="queue_log", numbered=True
        ),
        RowSource(
            RING_COLUMNS, rings, filename=parsed.filename, encoding="queue_log", numbered=True
        ),
        RowSource(
            WORKTIME_COLUMNS, work, filename=parsed.filename, encoding="queue_log", numbered=True
        ),
    )
