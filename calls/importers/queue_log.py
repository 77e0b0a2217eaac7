"""Asterisk queue_log: offered calls (a leg per call and queue), ring attempts, waits, abandons, transfers
and agents' logged-in time, each event read as Asterisk's reference defines it.

Two variants carry the same events: the pipe-separated file
``1760000000|1760000000.12|support|PJSIP/1001|CONNECT|7|1760000000.13|3`` and the database table
(``time, callid, queuename, agent, event, data1 … data5``, exported as CSV, times as text in the
center's time zone; Asterisk puts a sixth field and more into data5, joined by ``|``).

The events (Asterisk, "Queue Logs", https://docs.asterisk.org/Operation/Logging/Queue-Logs/; Wazo's
queue_log table documentation shows the same in a database) and what becomes of them:

============================================================  =========================================
ENTERQUEUE(url|callerid|origposition)                          a call offered to the queue: a leg
CONNECT(holdtime|bridgedchanneluniqueid|ringtime)              answered after holdtime s by the member
COMPLETEAGENT / COMPLETECALLER(holdtime|calltime|origposition) ended by the agent / the caller
TRANSFER / BLINDTRANSFER(extension|context|holdtime|calltime|origposition)   transferred: counted
ATTENDEDTRANSFER(method|method-data|holdtime|calltime|origposition)  the same; LINK has two data fields
ABANDON / EXITWITHTIMEOUT / EXITEMPTY(position|origposition|waittime)  left the queue unanswered
EXITWITHKEY(key|position|origposition|waittime)                 the caller left with a key
RINGNOANSWER(ringtime in ms)                                   a ring attempt on the member, never a call
JOINEMPTY / JOINUNAVAIL / FULL (no data fields, as Wazo shows)  refused: the call never joined the queue
ADDMEMBER / REMOVEMEMBER, AGENTLOGIN / AGENTLOGOFF, PAUSE / UNPAUSE   an agent's logged-in time
============================================================  =========================================

A call that passes through two queues is a leg in each, each with its own agent, wait and talk: the
first leg keeps the call's id, a later one is ``<callid>@<queue>`` (``leg_names``). FreePBX writes an
attended transfer under the id of the consultation call the agent placed, not the id of the call
transferred (asterisk/asterisk#759: Local channels); such a line is matched with the one call the same
agent was answering in that queue, and noted. A call still open at the end of a file is kept
(``QueueLogLeg``, by the service) and finished by the next file of the log; a file that starts
mid-call imports what its lines give (a COMPLETE carries the hold and talk time) and says so. Every
row remembers the file line of the event that finished it, and every note and error names a line.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zoneinfo
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import NamedTuple

from calls.importers.facts import QUEUE_LOG_CALLS, RINGS, WORKTIME
from calls.importers.mapping import echo
from calls.importers.sources import FileError, RowSource
from calls.privacy import customer_key

CALL_COLUMNS = [f.name for f in QUEUE_LOG_CALLS.fields if f.target]
RING_COLUMNS = [f.name for f in RINGS.fields]
WORKTIME_COLUMNS = [f.name for f in WORKTIME.fields]

COMPLETE_EVENTS = {"COMPLETEAGENT": "agent", "COMPLETECALLER": "customer"}
TRANSFER_EVENTS = {"TRANSFER", "BLINDTRANSFER", "ATTENDEDTRANSFER"}
# (outcome, ended by, position of waittime in the data) of a call that left the queue unanswered
EXIT_EVENTS = {
    "ABANDON": ("abandoned", "customer", 2),
    "EXITWITHTIMEOUT": ("no_answer", "system", 2),
    "EXITEMPTY": ("no_answer", "system", 2),
    "EXITWITHKEY": ("other", "customer", 3),
}
REFUSED_EVENTS = {"JOINEMPTY", "JOINUNAVAIL", "FULL"}
LOGIN_EVENTS = {"ADDMEMBER", "AGENTLOGIN", "AGENTCALLBACKLOGIN"}
LOGOFF_EVENTS = {"REMOVEMEMBER", "AGENTLOGOFF", "AGENTCALLBACKLOGOFF"}
PAUSE_EVENTS = {"PAUSE", "PAUSEALL"}
UNPAUSE_EVENTS = {"UNPAUSE", "UNPAUSEALL"}
MEMBER_EVENTS = LOGIN_EVENTS | LOGOFF_EVENTS | PAUSE_EVENTS | UNPAUSE_EVENTS
HEADER = ("time", "callid", "queue", "agent", "event")
MAX_NOTES = 200  # notes kept on the batch; the count says how many there were
LOOKBACK = dt.timedelta(days=1)  # legs a file may find open from earlier files: no call lasts a day
_INTERFACE = re.compile(r"^(?:[A-Za-z]+/)?([^@/]+)")
_EVENT_NAME = re.compile(r"^[A-Z][A-Z_0-9]*$")
_FILE_LINE = re.compile(rb"^[0-9]{9,11}\|[^|\r\n]*\|[^|\r\n]*\|[^|\r\n]*\|[A-Za-z_]+")


def agent_name(interface: str) -> str:
    """``PJSIP/1001`` → ``1001``, ``Local/1001@agents/n`` → ``1001``, ``Agent/007`` → ``007``; a column
    mapping's value map then turns it into an employee id where the two differ. NONE is nobody."""
    text = interface.strip()
    if not text or text.upper() == "NONE":
        return ""
    match = _INTERFACE.match(text)
    return match.group(1) if match else text


def sniff(stream) -> bool:
    """Whether a file is a queue_log: its first lines hold a queue event (``1760000000|…|…|…|EVENT``),
    or it is the table export (a header with time, callid, queuename, agent and event)."""
    stream.seek(0)
    head = stream.read(64 * 1024)
    stream.seek(0)
    lines = head.lstrip(b"\xef\xbb\xbf").splitlines()[:20]
    if lines:
        header = {name.strip().lower() for name in lines[0].decode("utf-8", "replace").split(",")}
        if {"time", "callid", "queuename", "agent", "event"} <= header:
            return True
    return any(_FILE_LINE.match(line) for line in lines)


# --- events --------------------------------------------------------------------------------------


class Where(NamedTuple):
    """A line of a file of the log."""

    file: str
    line: int

    def said(self, current: str) -> str:
        return f"line {self.line}" if self.file == current else f"line {self.line} of {self.file}"


class Event(NamedTuple):
    at: dt.datetime
    callid: str
    queue: str
    member: str  # the agent as the product names it (agent_name), "" for NONE
    name: str  # ENTERQUEUE, CONNECT, …
    data: tuple[str, ...]
    line: int


class LineError(NamedTuple):
    line: int
    column: str
    value: str
    reason: str


class _Read(NamedTuple):
    events: Iterator[Event]
    errors: list[LineError]  # filled as the events are read
    skipped: list[int]  # one item per line of another system


def _file_events(lines: Iterable[str], errors: list[LineError], skipped: list[int]):
    for number, raw in enumerate(lines, start=1):
        text = raw.rstrip("\r\n")
        if not text.strip():
            continue
        parts = text.split("|")
        if not parts[0].strip().isdigit():
            skipped.append(number)  # another system's line in the same log
            continue
        if len(parts) < len(HEADER):
            errors.append(LineError(number, HEADER[len(parts)], echo(text),
                                    f"cut short: a queue event has at least {len(HEADER)} fields "
                                    f"(time|callid|queue|agent|event), this line {len(parts)}"))  # fmt: skip
            continue
        try:
            moment = dt.datetime.fromtimestamp(int(parts[0]), tz=dt.UTC)
        except (OverflowError, OSError, ValueError):
            errors.append(LineError(number, "time", echo(parts[0]), "not a Unix time"))
            continue
        event = _event(moment, parts[1:], number, errors)
        if event is not None:
            yield event


def _event(moment, fields: list[str], number: int, errors: list[LineError]) -> Event | None:
    callid, queue, agent, name, *data = fields
    name = name.strip().upper()
    if not _EVENT_NAME.match(name):
        errors.append(LineError(number, "event", echo(name), "not an event name"))
        return None
    return Event(moment, callid.strip(), queue.strip(), agent_name(agent), name,
                 tuple(d.strip() for d in data), number)  # fmt: skip


def _table_events(text: io.TextIOBase, tz, errors: list[LineError], skipped: list[int]):
    """The table export, in the order of its times (a database export may come in any order)."""
    reader = csv.DictReader(text)
    needed = {"time", "callid", "queuename", "agent", "event"}
    try:
        header = reader.fieldnames or []
    except csv.Error as exc:
        raise FileError(f"Line 1: not readable as CSV ({exc}).") from None
    names = {(name or "").strip().lower(): name for name in header}
    if not needed <= set(names):
        raise FileError(
            f"Line 1: a queue_log table export needs the columns {', '.join(sorted(needed))}."
        )
    data_columns = sorted(
        (c for c in names if re.fullmatch(r"data[0-9]+", c)), key=lambda c: int(c[4:])
    )
    events = []
    try:
        for row in reader:
            _table_row(reader, row, names, data_columns, tz, errors, events)
    except csv.Error as exc:
        raise FileError(f"Line {reader.reader.line_num}: not readable as CSV ({exc}).") from None
    events.sort(key=lambda e: (e.at, e.line))
    return iter(events)


def _table_row(reader, row, names, data_columns, tz, errors: list[LineError], events: list) -> None:
    """One row of the table export as an event (or an error naming its line)."""
    number = reader.line_num
    value = (row.get(names["time"]) or "").strip()
    try:
        moment = dt.datetime.fromisoformat(value.replace("/", "-"))
    except ValueError:
        errors.append(LineError(number, "time", echo(value), "not a date and time"))
        return
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    if data_columns:
        # data1 … data5 as Asterisk's realtime queue_log writes them; the fields beyond the fifth are
        # in data5, joined by "|": joined again and split, every field is at its place.
        data = "|".join(row.get(names[c]) or "" for c in data_columns).split("|")
    else:
        data = (row.get(names.get("data", "")) or "").split("|")
    fields = [row.get(names[c]) or "" for c in ("callid", "queuename", "agent", "event")]
    event = _event(moment, [*fields, *data], number, errors)
    if event is not None:
        events.append(event)


def read_events(stream, filename: str, *, tz_name: str) -> _Read:
    """Either variant, recognised by its first line. The file variant is streamed in its order (Asterisk
    writes it as things happen); the table variant is sorted by time."""
    tz = zoneinfo.ZoneInfo(tz_name)
    stream.seek(0)
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="replace", newline="")
    errors: list[LineError] = []
    skipped: list[int] = []
    first = text.readline()
    text.seek(0)
    if first.lower().startswith("time,") or ",callid," in first.lower():
        try:
            events = _table_events(text, tz, errors, skipped)
        finally:
            text.detach()
        return _Read(events, errors, skipped)

    def lines():
        try:
            yield from text
        finally:
            text.detach()

    return _Read(_file_events(lines(), errors, skipped), errors, skipped)


# --- legs ----------------------------------------------------------------------------------------


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
            "customer": self.customer, "agent": self.agent,
            "answered": self.answered.isoformat() if self.answered else None, "wait": self.wait,
            "talk": self.talk, "transfers": self.transfers, "mid_call": self.mid_call,
            "opened": [self.opened.file, self.opened.line],
        }  # fmt: skip

    @classmethod
    def restored(cls, snapshot: Snapshot) -> Leg:
        s = snapshot.state
        answered = dt.datetime.fromisoformat(s["answered"]) if s.get("answered") else None
        opened = Where(*s["opened"]) if s.get("opened") else snapshot.where
        return cls(snapshot.callid, snapshot.queue, snapshot.entered, opened,
                   customer=s.get("customer"), agent=s.get("agent", ""), answered=answered,
                   wait=s.get("wait", 0), talk=s.get("talk", 0), transfers=s.get("transfers", 0),
                   mid_call=s.get("mid_call", False), stored=dict(s))  # fmt: skip


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


def _seconds(event: Event, index: int, name: str, errors: list[LineError]) -> int | None:
    """A whole number of the event's data, or None with an error naming the line and the field."""
    column = f"data{index + 1} ({name})"
    if index >= len(event.data) or event.data[index] == "":
        errors.append(LineError(event.line, column, "", f"missing: {event.name} gives {name} here"))
        return None
    value = event.data[index]
    if not value.isdigit():
        errors.append(LineError(event.line, column, echo(value), "not a whole number"))
        return None
    number = int(value)
    if number > 10**9:
        errors.append(LineError(event.line, column, echo(value), "too large for a time in seconds"))
        return None
    return number


class _Folder:
    """Folds the events of one file into legs, ring attempts and work time."""

    def __init__(self, parsed: Parsed, read: _Read, restore, center_tz):
        self.p = parsed
        self.read = read
        self.restore = restore
        self.tz = center_tz
        # callid → queue → the open leg
        self.calls: dict[str, dict[str, Leg]] = {}
        # a consultation call's id → the id of the call it transferred (FreePBX)
        self.alias: dict[str, str] = {}
        # Legs ended because their call entered another queue with no end event logged (FreePBX may
        # not log transfers, FreePBX/issue-tracker#124): their end event may still come, late.
        self.moved_on: dict[tuple[str, str], Leg] = {}
        self.ring_ids: set[str] = set()
        self.logged_in: dict[str, dt.datetime] = {}
        self.paused: dict[str, dt.datetime] = {}
        # (agent, day) → [logged-in s, paused s, the line of the last event that added to it]
        self.work: dict[tuple[str, dt.date], list] = {}

    def where(self, event: Event) -> Where:
        return Where(self.p.filename, event.line)

    # -- the legs the store holds --

    def _restore(self, first: dt.datetime) -> None:
        for snapshot in self.restore(first):
            if snapshot.closed_at is not None and snapshot.closed_at < first:
                continue  # ended before this file: history
            leg = Leg.restored(snapshot)
            self.calls.setdefault(leg.callid, {})[leg.queue] = leg

    def leg(self, callid: str, queue: str) -> Leg | None:
        found = self.calls.get(callid, {}).get(queue)
        if found is None and callid in self.alias:
            found = self.calls.get(self.alias[callid], {}).get(queue)
        return found

    def open_leg(self, event: Event, entered: dt.datetime, **values) -> Leg:
        leg = Leg(event.callid, event.queue, entered, self.where(event), touched=True, **values)
        self.calls.setdefault(event.callid, {})[event.queue] = leg
        return leg

    def end(self, leg: Leg, event: Event, *, outcome: str = "", ended_by: str = "") -> None:
        """The leg is over at this event: a call row, and, if the store had it, its closing."""
        leg.outcome, leg.ended_by, leg.touched = outcome, ended_by, True
        self._forget(leg, event)
        self.p.finished.append((leg, event.line))

    def _forget(self, leg: Leg, event: Event) -> None:
        legs = self.calls.get(leg.callid, {})
        if legs.get(leg.queue) is leg:
            del legs[leg.queue]
            if not legs:
                del self.calls[leg.callid]
        if leg.stored is not None:
            self.p.closed_stored.append(Closed(leg, event.at, self.where(event)))

    def mid_call(self, event: Event, entered: dt.datetime, **values) -> Leg:
        leg = self.open_leg(event, entered, mid_call=True, **values)
        self.p.note(self.where(event), f"{event.name} of call {event.callid} in {event.queue} without "
                    "its ENTERQUEUE (the call began before this file): imported from this line, which "
                    "gives its wait; entered taken as this time less the wait")  # fmt: skip
        return leg

    # -- the events --

    def fold(self) -> None:
        errors = self.read.errors
        handlers = {
            "ENTERQUEUE": self.on_enterqueue, "CONNECT": self.on_connect,
            "RINGNOANSWER": self.on_ringnoanswer,
            **dict.fromkeys(COMPLETE_EVENTS, self.on_complete),
            **dict.fromkeys(TRANSFER_EVENTS, self.on_transfer),
            **dict.fromkeys(EXIT_EVENTS, self.on_exit),
            **dict.fromkeys(REFUSED_EVENTS, self.on_refused),
            **dict.fromkeys(MEMBER_EVENTS, self.on_member),
        }  # fmt: skip
        for event in self.read.events:
            if self.p.first_event is None:
                self.p.first_event = event.at
                self._restore(event.at)
            self.p.events += 1
            # Other events (RINGCANCELED, QUEUESTART, DID, …) say nothing this importer keeps.
            handler = handlers.get(event.name)
            if handler is not None:
                handler(event, errors)

    def on_enterqueue(self, event: Event, errors) -> None:
        caller = event.data[1] if len(event.data) > 1 else ""
        same = self.calls.get(event.callid, {}).get(event.queue)
        if same is not None and same.entered == event.at:  # this very entry, from the store
            fresh = self.open_leg(event, event.at, customer=customer_key(caller))
            fresh.stored = same.stored
            return
        for earlier in list(self.calls.get(event.callid, {}).values()):
            # Still in another queue (or again in this one) with no end event: the call moved on.
            self.moved_on[(earlier.callid, earlier.queue)] = earlier
            if earlier.answered is not None:
                earlier.transfers += 1
                earlier.talk = max(0, int((event.at - earlier.answered).total_seconds()))
                self.end(earlier, event, ended_by="agent")
                how = f"taken as transferred by {earlier.agent or 'its agent'} at this time"
            else:
                earlier.wait = max(0, int((event.at - earlier.entered).total_seconds()))
                self.end(earlier, event, outcome="no_answer")
                how = "taken as left unanswered at this time"
            self.p.note(self.where(event), f"call {event.callid} enters {event.queue} while its leg in "
                        f"{earlier.queue} ({earlier.opened.said(self.p.filename)}) had no end event: "
                        f"that leg is {how}")  # fmt: skip
        self.open_leg(event, event.at, customer=customer_key(caller))

    def on_connect(self, event: Event, errors) -> None:
        hold = _seconds(event, 0, "holdtime", errors)
        if hold is None:
            return
        leg = self.leg(event.callid, event.queue)
        if leg is None:
            leg = self.mid_call(event, event.at - dt.timedelta(seconds=hold))
        elif leg.answered is not None and leg.answered != event.at:
            self.p.note(self.where(event), f"a second CONNECT of call {event.callid} in {event.queue}: "
                        "the first one is kept")  # fmt: skip
            return
        leg.agent, leg.answered, leg.wait, leg.touched = event.member, event.at, hold, True

    def _late(self, event: Event) -> bool:
        """The end event of a leg already ended when its call moved to another queue: noted, and the
        leg left as it was (its talk counted until the call moved: the rest is the next agent's)."""
        leg = self.moved_on.pop((event.callid, event.queue), None)
        if leg is None or self.leg(event.callid, event.queue) is not None:
            return False
        self.p.note(self.where(event), f"{event.name} of call {event.callid} in {event.queue}, after the "
                    "call had entered another queue: that leg ended when it did")  # fmt: skip
        return True

    def _answered_leg(self, event: Event, hold: int, talk: int) -> Leg:
        """The leg an end of a conversation ends, made from the line when the file began after its
        CONNECT (the line gives the hold and talk time: everything but the caller's number)."""
        leg = self.leg(event.callid, event.queue)
        answered = event.at - dt.timedelta(seconds=talk)
        if leg is None:
            leg = self.mid_call(event, answered - dt.timedelta(seconds=hold))
        if leg.answered is None:  # no CONNECT line: the end says when and who
            leg.answered, leg.wait, leg.agent = answered, hold, leg.agent or event.member
        leg.talk = talk
        return leg

    def on_complete(self, event: Event, errors) -> None:
        hold, talk = _seconds(event, 0, "holdtime", errors), _seconds(event, 1, "calltime", errors)
        if hold is None or talk is None or self._late(event):
            return
        leg = self._answered_leg(event, hold, talk)
        self.end(leg, event, ended_by=COMPLETE_EVENTS[event.name])

    def on_transfer(self, event: Event, errors) -> None:
        first = 3 if event.name == "ATTENDEDTRANSFER" and event.data[:1] == ("LINK",) else 2
        hold = _seconds(event, first, "holdtime", errors)
        talk = _seconds(event, first + 1, "calltime", errors)
        if hold is None or talk is None or self._late(event):
            return
        if self.leg(event.callid, event.queue) is None and event.name == "ATTENDEDTRANSFER":
            if self._transfer_of_another_call(event, talk, hold):
                return
        leg = self._answered_leg(event, hold, talk)
        leg.transfers += 1
        self.end(leg, event, ended_by="agent")

    def _transfer_of_another_call(self, event: Event, talk: int, hold: int) -> bool:
        """FreePBX (Local channels) logs the attended transfer under the id of the consultation call
        the agent placed, with the queue and member of the call transferred: that call is the one this
        member was answering in this queue (with this hold time, if several). Its leg ends here; the
        consultation's place in another queue is the transferred caller's from now on. False when
        the line is rather the end of a call this file never saw begin (nothing else to take it for)."""
        answering = [
            leg for legs in self.calls.values() if (leg := legs.get(event.queue)) is not None
            and leg.callid != event.callid and leg.answered is not None and leg.agent == event.member
        ]  # fmt: skip
        if len(answering) > 1:
            answering = [leg for leg in answering if leg.wait == hold] or answering
        if not answering and event.callid not in self.calls:
            return False
        if len(answering) != 1:
            self.p.note(self.where(event), f"ATTENDEDTRANSFER under call {event.callid}, which is not in "
                        f"{event.queue}, and no single call answered there by {event.member or 'NONE'} "
                        "to take it for: not counted")  # fmt: skip
            return True
        transferred = answering[0]
        transferred.talk, transferred.transfers = talk, transferred.transfers + 1
        self.end(transferred, event, ended_by="agent")
        self.alias[event.callid] = transferred.callid
        moved = []
        for queue, waiting in list(self.calls.get(event.callid, {}).items()):
            if queue in self.calls.get(transferred.callid, {}):
                continue
            self._forget(waiting, event)
            leg = replace(waiting, callid=transferred.callid, customer=transferred.customer,
                          stored=None, touched=True)  # fmt: skip
            self.calls.setdefault(leg.callid, {})[queue] = leg
            moved.append(f"; its place in {queue} ({waiting.opened.said(self.p.filename)}) is the "
                         f"caller's of {transferred.callid} from here")  # fmt: skip
        self.p.note(self.where(event), f"ATTENDEDTRANSFER logged under call {event.callid} (the "
                    f"consultation call, as FreePBX logs it): taken as the transfer of call "
                    f"{transferred.callid}, answered in {event.queue} by {event.member} "
                    f"({transferred.opened.said(self.p.filename)}){''.join(moved)}")  # fmt: skip
        return True

    def on_exit(self, event: Event, errors) -> None:
        outcome, ended_by, position = EXIT_EVENTS[event.name]
        wait = _seconds(event, position, "waittime", errors)
        if wait is None or self._late(event):
            return
        leg = self.leg(event.callid, event.queue)
        if leg is None:
            leg = self.mid_call(event, event.at - dt.timedelta(seconds=wait))
        leg.wait = wait
        self.end(leg, event, outcome=outcome, ended_by=ended_by)

    def on_refused(self, event: Event, errors) -> None:
        """The call could not join the queue: a leg that was never offered, refused at once."""
        leg = Leg(event.callid, event.queue, event.at, self.where(event), outcome="refused",
                  ended_by="system", touched=True)  # fmt: skip
        self.p.finished.append((leg, event.line))

    def on_ringnoanswer(self, event: Event, errors) -> None:
        ring_ms = _seconds(event, 0, "ringtime (ms)", errors)
        if ring_ms is None or not event.member:
            return
        base = f"{event.callid}:{event.member}:{int(event.at.timestamp())}"
        attempt, n = base, 1
        while attempt in self.ring_ids:  # the same member twice in one second: numbered
            n += 1
            attempt = f"{base}#{n}"
        self.ring_ids.add(attempt)
        rang_at = event.at - dt.timedelta(milliseconds=ring_ms)
        self.p.rings.append((event.line, {
            "attempt_id": attempt, "agent_id": event.member, "queue": event.queue,
            "call_id": event.callid, "rang_at": rang_at.isoformat(sep=" "), "ring_ms": str(ring_ms),
        }))  # fmt: skip

    # -- agents' time --

    def on_member(self, event: Event, errors) -> None:
        member, moment = event.member, event.at
        if not member:
            return
        if event.name in LOGIN_EVENTS:
            self.logged_in.setdefault(member, moment)
        elif event.name in LOGOFF_EVENTS:
            if member in self.paused:
                self._span(member, self.paused.pop(member), moment, 1, event.line)
            start = self.logged_in.pop(member, None)
            if start is not None:
                self._span(member, start, moment, 0, event.line)
        elif event.name in PAUSE_EVENTS:
            self.paused.setdefault(member, moment)
        elif event.name in UNPAUSE_EVENTS:
            start = self.paused.pop(member, None)
            if start is not None:
                self._span(member, start, moment, 1, event.line)

    def _span(self, agent: str, start: dt.datetime, end: dt.datetime, slot: int, line: int) -> None:
        """Split a span at local midnights into the days it covers; each day's row remembers the line
        of the last event that added to it."""
        local_start, local_end = start.astimezone(self.tz), end.astimezone(self.tz)
        while local_start < local_end:
            midnight = dt.datetime.combine(
                local_start.date() + dt.timedelta(days=1), dt.time(), self.tz
            )
            piece_end = min(midnight, local_end)
            totals = self.work.setdefault((agent, local_start.date()), [0.0, 0.0, line])
            totals[slot] += (piece_end - local_start).total_seconds()
            totals[2] = max(totals[2], line)
            local_start = piece_end

    def finish(self) -> None:
        self.p.errors = [e._asdict() for e in self.read.errors]
        self.p.skipped_lines = len(self.read.skipped)
        self.p.skipped = self.read.skipped[:10]
        for legs in self.calls.values():
            for leg in legs.values():
                self.p.open_legs.append(leg)
                if not leg.touched:
                    continue
                doing = f"talking with {leg.agent}" if leg.answered else "waiting"
                self.p.note(leg.opened, f"call {leg.callid} was still {doing} in {leg.queue} at the end "
                            "of the file: kept, the next file of the log finishes it")  # fmt: skip
        self.p.worktime = [
            (line, {"agent_id": agent, "day": day.isoformat(), "logged_in_seconds": str(int(total)),
                    "available_seconds": str(int(max(0.0, total - pause)))})
            for (agent, day), (total, pause, line) in sorted(self.work.items())
        ]  # fmt: skip


def parse(
    read: _Read,
    *,
    filename: str,
    center_tz: zoneinfo.ZoneInfo,
    restore: Callable[[dt.datetime], Iterable[Snapshot]] = lambda first: (),
) -> Parsed:
    """Fold a file's events into legs, ring attempts and work time per agent and day. ``restore`` gives,
    for the time of the file's first event, the legs earlier imports of the log left open (and those
    an import of this very file ended, so that importing it again ends them the same way)."""
    parsed = Parsed(filename=filename)
    folder = _Folder(parsed, read, restore, center_tz)
    folder.fold()
    folder.finish()
    return parsed


def read(
    stream,
    filename: str,
    *,
    tz_name: str,
    restore: Callable[[dt.datetime], Iterable[Snapshot]] = lambda first: (),
) -> Parsed:
    """Read and fold a queue_log file (either variant)."""
    return parse(
        read_events(stream, filename, tz_name=tz_name),
        filename=filename,
        center_tz=zoneinfo.ZoneInfo(tz_name),
        restore=restore,
    )


# --- the rows ------------------------------------------------------------------------------------


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
                (c for c in candidates if c not in used
                 and taken.get(c, (leg.queue, leg.entered)) == (leg.queue, leg.entered)),
                None,
            )  # fmt: skip
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
        RowSource(CALL_COLUMNS, calls, filename=parsed.filename, encoding="queue_log", numbered=True),
        RowSource(RING_COLUMNS, rings, filename=parsed.filename, encoding="queue_log", numbered=True),
        RowSource(WORKTIME_COLUMNS, work, filename=parsed.filename, encoding="queue_log",
                  numbered=True),
    )  # fmt: skip
