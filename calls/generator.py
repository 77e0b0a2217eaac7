"""Realistic synthetic call data, for the demo, the tests and the benchmarks.

Deterministic for a given seed: the same arguments give the same calls, byte for byte, so the demo can be
seeded twice without duplicates and a benchmark compares like with like. Shapes follow what the floor
sees: two daily peaks (late morning, early afternoon), exponential waits, log-normal talk times, agents
who differ in how reliably they pick up.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import random
from collections.abc import Iterable, Iterator, Sequence

from calls.importers.facts import CALLS
from calls.months import center_tz

CALL_COLUMNS = tuple(field.name for field in CALLS.fields if field.target)

# Share of the day's calls per hour, 08:00-20:59, with the two peaks of an inbound service line.
HOURLY_WEIGHTS = {
    8: 4,
    9: 9,
    10: 12,
    11: 11,
    12: 6,
    13: 7,
    14: 11,
    15: 12,
    16: 10,
    17: 7,
    18: 5,
    19: 3,
    20: 3,
}
QUEUES = ("general", "billing", "technical")


def generate_calls(
    *,
    employee_ids: Sequence[str],
    first_day: dt.date,
    days: int,
    calls_per_agent_day: int = 40,
    seed: int = 1,
    prefix: str = "GEN",
) -> Iterator[dict]:
    """Rows in the canonical CSV layout (``calls.importers.csv_calls.COLUMNS``), one per call."""
    rng = random.Random(seed)
    tz = center_tz()
    hours = list(HOURLY_WEIGHTS)
    weights = list(HOURLY_WEIGHTS.values())
    # Each agent's reliability: most pick up 90-99% of what they are offered, a few struggle.
    profiles = {
        employee_id: {
            "answer_p": min(0.995, max(0.80, rng.gauss(0.95, 0.03))),
            "talk_mu": rng.gauss(math.log(220), 0.15),
            "complaint_p": max(0.0, rng.gauss(0.004, 0.003)),
        }
        for employee_id in employee_ids
    }
    # A customer base about a third the size of the calls, so some customers call again (repeat
    # contacts, FCR) as they do on a real line.
    customers = max(100, len(employee_ids) * calls_per_agent_day * days // 3)
    for day_index in range(days):
        day = first_day + dt.timedelta(days=day_index)
        for employee_id in employee_ids:
            profile = profiles[employee_id]
            count = max(0, int(rng.gauss(calls_per_agent_day, calls_per_agent_day * 0.15)))
            for number in range(count):
                hour = rng.choices(hours, weights)[0]
                started = dt.datetime(
                    day.year,
                    day.month,
                    day.day,
                    hour,
                    rng.randrange(60),
                    rng.randrange(60),
                    tzinfo=tz,
                )
                wait = int(rng.expovariate(1 / 14))
                answered = rng.random() < profile["answer_p"]
                talk = int(rng.lognormvariate(profile["talk_mu"], 0.6)) if answered else 0
                transfers = 1 if answered and rng.random() < 0.05 else 0
                outcome = (
                    rng.choices(["resolved", "converted", "callback"], [80, 12, 8])[0]
                    if answered
                    else rng.choice(["abandoned", "no_answer"])
                )
                yield {
                    "call_id": f"{prefix}-{employee_id}-{day:%Y%m%d}-{number:04d}",
                    "agent_id": employee_id,
                    "queue": rng.choice(QUEUES),
                    "direction": "inbound",
                    "customer_number": f"13{rng.randrange(customers):09d}",
                    "entered_at": started.strftime("%Y-%m-%d %H:%M:%S"),
                    "answered_at": (
                        (started + dt.timedelta(seconds=wait)).strftime("%Y-%m-%d %H:%M:%S")
                        if answered
                        else ""
                    ),
                    "wait_seconds": wait,
                    "talk_seconds": talk,
                    "hold_seconds": int(rng.expovariate(1 / 20))
                    if answered and rng.random() < 0.2
                    else 0,
                    "acw_seconds": max(0, int(rng.gauss(30, 8))) if answered else 0,
                    "transfers": transfers,
                    "outcome": outcome,
                    "complaint": 1 if answered and rng.random() < profile["complaint_p"] else 0,
                    "transfer_correct": (1 if rng.random() < 0.85 else 0) if transfers else "",
                    "ended_by": (rng.choice(["agent", "customer"]) if answered else ""),
                }


def csv_lines(rows: Iterable[dict], columns: Sequence[str] = CALL_COLUMNS) -> Iterator[str]:
    """Rows (dicts keyed by the canonical column names) as CSV text, header first."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    yield buffer.getvalue()
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(row)
        yield buffer.getvalue()
