"""A leg (one call in one queue) and what carries it over from one file of the log to the next: the
snapshot the store keeps of it (``QueueLogLeg``), its closing by a later file, and a file's outcome."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import NamedTuple

from calls.importers.queue_log.events import Where

MAX_NOTES = 200  # notes kept on the batch; the count says how many there were
LOOKBACK = dt.timedelta(days=1)  # legs a file may find open from earlier files: no call lasts a day


class Snapshot(NamedTuple):
    """A leg as the store keeps it (``QueueLogLeg``): its state when an import left it open, or, with
    ``closed_at``, the state an import started from before an event at that time ended it."""

    callid: str
    queue: str
    entered: dt.datetime
    state: dict
    closed_at: dt.datetime | None
    where: Where


@dataclass
class Leg:
    """One call in one queue, from its entry to its end."""

    callid: str
    queue: str
    entered: dt.datetime
    opened: Where  # the line that opened it (its ENTERQUEUE, or the first line seen of it)
    customer: int | None = None  # the key of the caller's number (calls.privacy), never the number
    agent: str = ""
    answered: dt.datetime | None = None
    wait: int = 0
    talk: int = 0
    transfers: int = 0
    # the file began after its ENTERQUEUE: what it has, it has from later lines
    mid_call: bool = False
    outcome: str = ""
    ended_by: str = ""
    stored: dict | None = None  # the state the store gave it when this import began
    touched: bool = False  # an event of this file concerned it

    @property
    def key(self) -> tuple[str, str, dt.datetime]:
        return self.callid, self.queue, self.entered

    def state(self) -> dict:
        return {
            "customer": self.customer,
            "agent": self.agent,
            "answered": self.answered.isoformat() if self.answered else None,
            "wait": self.wait,
            "talk": self.talk,
            "transfers": self.transfers,
            "mid_call": self.mid_call,
            "opened": [self.opened.file, self.opened.line],
        }

    @classmethod
    def restored(cls, snapshot: Snapshot) -> Leg:
        s = snapshot.state
        answered = dt.datetime.fromisoformat(s["answered"]) if s.get("answered") else None
        opened = Where(*s["opened"]) if s.get("opened") else snapshot.where
        return cls(
            snapshot.callid,
            snapshot.queue,
            snapshot.entered,
            opened,
            customer=s.get("customer"),
            agent=s.get("agent", ""),
            answered=answered,
            wait=s.get("wait", 0),
            talk=s.get("talk", 0),
            transfers=s.get("transfers", 0),
            mid_call=s.get("mid_call", False),
            stored=dict(s),
        )


class Closed(NamedTuple):
    """A leg the store had open (or this very file's earlier import had closed) that this file ends."""

    leg: Leg
    closed_at: dt.datetime
    where: Where


@dataclass
class Parsed:
    filename: str
    finished: list[tuple[Leg, int]] = field(default_factory=list)  # (leg, file line of its end)
    rings: list[tuple[int, dict]] = field(default_factory=list)
    worktime: list[tuple[int, dict]] = field(default_factory=list)
    open_legs: list[Leg] = field(default_factory=list)  # still open at the end of the file
    closed_stored: list[Closed] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    skipped_lines: int = 0
    skipped: list[int] = field(default_factory=list)  # the first of those lines
    events: int = 0
    first_event: dt.datetime | None = None

    def note(self, where: Where, text: str) -> None:
        self.notes.append(f"{where.said(self.filename)}: {text}")

    @property
    def open_calls(self) -> list[str]:
        return sorted({leg.callid for leg in self.open_legs if leg.touched})
