"""The lines of a queue_log read into events, in either variant (the file, the table export); the
events' names as Asterisk's reference gives them (the table in ``calls.importers.queue_log``)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zoneinfo
from collections.abc import Iterable, Iterator
from typing import NamedTuple

from calls.importers.mapping import echo
from calls.importers.sources import FileError

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


class EventsRead(NamedTuple):
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
            errors.append(
                LineError(
                    number,
                    HEADER[len(parts)],
                    echo(text),
                    f"cut short: a queue event has at least {len(HEADER)} fields "
                    f"(time|callid|queue|agent|event), this line {len(parts)}",
                )
            )
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
    return Event(
        moment,
        callid.strip(),
        queue.strip(),
        agent_name(agent),
        name,
        tuple(d.strip() for d in data),
        number,
    )


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
    events: list[Event] = []
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


def read_events(stream, filename: str, *, tz_name: str) -> EventsRead:
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
        return EventsRead(events, errors, skipped)

    def lines():
        try:
            yield from text
        finally:
            text.detach()

    return EventsRead(_file_events(lines(), errors, skipped), errors, skipped)
