"""Asterisk queue_log: calls, waits, abandons, ring-no-answers and agents' logged-in time from queue events.

Two variants carry the same events: the pipe-separated file
``1760000000|1760000000.12|support|PJSIP/1001|CONNECT|7|1760000000.13|3`` and the database table
(``time, callid, queuename, agent, event, data1 … data5``, exported as CSV, times as text). Both become
rows of the canonical call and work-time layouts, which the engine then validates and upserts like any
other file.

What the events say (Asterisk's documentation of queue_log):
ENTERQUEUE (url, callerid, position) · CONNECT (holdtime, bridged channel, ringtime) · COMPLETEAGENT /
COMPLETECALLER (holdtime, calltime, position) · ABANDON / EXITWITHTIMEOUT (position, original position,
waittime) · RINGNOANSWER (ringtime in ms) · TRANSFER, BLINDTRANSFER, ATTENDEDTRANSFER (…, holdtime,
calltime) · ADDMEMBER / REMOVEMEMBER, AGENTLOGIN / AGENTLOGOFF, PAUSE / UNPAUSE (member events).

A call still open at the end of the file (entered or connected, never completed) is reported, never
invented; lines of other systems, or events this importer does not use, are skipped and counted.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zoneinfo
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from calls.importers.facts import CALLS, WORKTIME
from calls.importers.sources import FileError, RowSource

CALL_COLUMNS = [f.name for f in CALLS.fields if f.target]
WORKTIME_COLUMNS = [f.name for f in WORKTIME.fields]
CALL_EVENTS = {"ENTERQUEUE", "CONNECT", "COMPLETEAGENT", "COMPLETECALLER", "ABANDON", "EXITWITHTIMEOUT",
               "EXITWITHKEY", "EXITEMPTY", "RINGNOANSWER", "TRANSFER", "BLINDTRANSFER", "ATTENDEDTRANSFER"}  # fmt: skip
LOGIN_EVENTS = {"ADDMEMBER", "AGENTLOGIN", "AGENTCALLBACKLOGIN"}
LOGOFF_EVENTS = {"REMOVEMEMBER", "AGENTLOGOFF", "AGENTCALLBACKLOGOFF"}
PAUSE_EVENTS = {"PAUSE", "PAUSEALL"}
UNPAUSE_EVENTS = {"UNPAUSE", "UNPAUSEALL"}
_INTERFACE = re.compile(r"^(?:[A-Za-z]+/)?([^@/]+)")


def agent_name(interface: str) -> str:
    """``PJSIP/1001`` → ``1001``, ``Local/1001@agents/n`` → ``1001``, ``Agent/007`` → ``007``; a column
    mapping's value map then turns it into an employee id where the two differ."""
    match = _INTERFACE.match(interface.strip())
    return match.group(1) if match else interface.strip()


@dataclass
class _Call:
    callid: str
    queue: str
    entered: dt.datetime | None = None
    customer: str = ""
    agent: str = ""
    answered: dt.datetime | None = None
    wait: int = 0
    talk: int = 0
    transfers: int = 0
    outcome: str = ""
    ended_by: str = ""
    done: bool = False


@dataclass
class Parsed:
    calls: list[list[str]] = field(default_factory=list)
    worktime: list[list[str]] = field(default_factory=list)
    open_calls: list[str] = field(default_factory=list)
    skipped_lines: int = 0
    events: int = 0


def _seconds(value: str) -> int:
    try:
        return max(0, int(float(value)))
    except (TypeError, ValueError):
        return 0


def _iso(moment: dt.datetime) -> str:
    return moment.isoformat(sep=" ")


def _file_events(lines: Iterable[str]) -> Iterator[tuple[dt.datetime, list[str]] | None]:
    for raw in lines:
        parts = raw.rstrip("\r\n").split("|")
        if len(parts) < 5 or not parts[0].isdigit():
            yield None  # another system's line in the same log
            continue
        moment = dt.datetime.fromtimestamp(int(parts[0]), tz=dt.UTC)
        yield moment, [parts[1], parts[2], parts[3], parts[4], *parts[5:]]


def _table_events(
    text: io.TextIOBase, tz: zoneinfo.ZoneInfo
) -> Iterator[tuple[dt.datetime, list[str]] | None]:
    reader = csv.DictReader(text)
    needed = {"time", "callid", "queuename", "agent", "event"}
    if not needed <= set(reader.fieldnames or []):
        raise FileError(
            f"Line 1: a queue_log table export needs the columns {', '.join(sorted(needed))}."
        )
    data_columns = sorted(c for c in reader.fieldnames if c.startswith("data") and c != "data")
    for row in reader:
        try:
            moment = dt.datetime.fromisoformat(row["time"].strip().replace("/", "-"))
        except ValueError:
            yield None
            continue
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=tz)
        data = [row[c] or "" for c in data_columns]
        if not data_columns and row.get("data"):
            data = row["data"].split("|")
        yield moment, [row["callid"], row["queuename"], row["agent"], row["event"], *data]


def parse(
    events: Iterable[tuple[dt.datetime, list[str]] | None], *, center_tz: zoneinfo.ZoneInfo
) -> Parsed:
    """Fold the events into finished calls, ring-no-answer legs and work time per agent and day."""
    parsed = Parsed()
    calls: dict[str, _Call] = {}
    logged_in: dict[str, dt.datetime] = {}
    paused: dict[str, dt.datetime] = {}
    work: dict[tuple[str, dt.date], list[float]] = {}  # (agent, day) → [logged-in s, paused s]
    rna = 0

    def add_span(agent: str, start: dt.datetime, end: dt.datetime, slot: int) -> None:
        """Split a span at local midnights into the days it covers."""
        local_start, local_end = start.astimezone(center_tz), end.astimezone(center_tz)
        while local_start < local_end:
            midnight = dt.datetime.combine(
                local_start.date() + dt.timedelta(days=1), dt.time(), center_tz
            )
            piece_end = min(midnight, local_end)
            totals = work.setdefault((agent, local_start.date()), [0.0, 0.0])
            totals[slot] += (piece_end - local_start).total_seconds()
            local_start = piece_end

    for item in events:
        if item is None:
            parsed.skipped_lines += 1
            continue
        moment, (callid, queue, agent, event, *data) = item
        data += [""] * (6 - len(data))
        event = event.strip().upper()
        member = agent_name(agent) if agent and agent.upper() != "NONE" else ""
        if event in LOGIN_EVENTS and member:
            logged_in.setdefault(member, moment)
        elif event in LOGOFF_EVENTS and member:
            if member in paused:
                add_span(member, paused.pop(member), moment, 1)
            start = logged_in.pop(member, None)
            if start is not None:
                add_span(member, start, moment, 0)
        elif event in PAUSE_EVENTS and member:
            paused.setdefault(member, moment)
        elif event in UNPAUSE_EVENTS and member:
            start = paused.pop(member, None)
            if start is not None:
                add_span(member, start, moment, 1)
        elif event in CALL_EVENTS:
            call = calls.setdefault(callid, _Call(callid=callid, queue=queue))
            if event == "ENTERQUEUE":
                call.entered, call.customer = moment, data[1]
            elif event == "CONNECT":
                call.agent, call.answered, call.wait = member, moment, _seconds(data[0])
                if call.entered is None:
                    call.entered = moment - dt.timedelta(seconds=call.wait)
            elif event in ("COMPLETEAGENT", "COMPLETECALLER"):
                call.talk = _seconds(data[1])
                call.ended_by = "agent" if event == "COMPLETEAGENT" else "customer"
                call.done = True
            elif event in ("TRANSFER", "BLINDTRANSFER", "ATTENDEDTRANSFER"):
                call.transfers += 1
                call.talk = _seconds(data[3])
                call.done = True
            elif event in ("ABANDON", "EXITWITHTIMEOUT", "EXITWITHKEY", "EXITEMPTY"):
                call.wait = _seconds(data[2])
                call.outcome = "abandoned" if event == "ABANDON" else "no_answer"
                call.ended_by = "customer" if event == "ABANDON" else "system"
                call.done = True
            elif event == "RINGNOANSWER" and member:
                # The call rang this agent who did not pick up: a leg offered to the agent, not answered.
                ring = _seconds(data[0]) // 1000  # RINGNOANSWER gives milliseconds
                rna += 1
                parsed.calls.append(
                    [
                        f"{callid}-rna{rna}",
                        member,
                        queue,
                        "inbound",
                        "",
                        _iso(moment - dt.timedelta(seconds=ring)),
                        "",
                        str(ring),
                        "0",
                        "0",
                        "0",
                        "0",
                        "no_answer",
                        "0",
                        "",
                        "",
                    ]
                )
            if call.done and call.entered is not None:
                parsed.calls.append(
                    [
                        call.callid,
                        call.agent,
                        call.queue,
                        "inbound",
                        call.customer,
                        _iso(call.entered),
                        _iso(call.answered) if call.answered else "",
                        str(call.wait),
                        str(call.talk),
                        "0",
                        "0",
                        str(call.transfers),
                        call.outcome,
                        "0",
                        "",
                        call.ended_by,
                    ]
                )
                del calls[callid]
        parsed.events += 1
    parsed.open_calls = sorted(calls)
    parsed.worktime = [
        [agent, day.isoformat(), str(int(total)), str(int(max(0.0, total - pause)))]
        for (agent, day), (total, pause) in sorted(work.items())
    ]
    return parsed


def read(stream, filename: str, *, tz_name: str) -> Parsed:
    """Either variant, recognised by its first line."""
    tz = zoneinfo.ZoneInfo(tz_name)
    stream.seek(0)
    text = io.TextIOWrapper(stream, encoding="utf-8", errors="replace", newline="")
    try:
        first = text.readline()
        text.seek(0)
        if first.lower().startswith("time,") or ",callid," in first.lower():
            return parse(_table_events(text, tz), center_tz=tz)
        return parse(_file_events(text), center_tz=tz)
    finally:
        text.detach()


def sources(parsed: Parsed, filename: str) -> tuple[RowSource, RowSource]:
    return (
        RowSource(CALL_COLUMNS, parsed.calls, filename=filename, encoding="queue_log"),
        RowSource(WORKTIME_COLUMNS, parsed.worktime, filename=filename, encoding="queue_log"),
    )
