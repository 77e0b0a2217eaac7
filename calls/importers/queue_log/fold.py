"""The events of one file folded into legs, ring attempts and work time per agent and day: the state
machine of a call as it enters queues, is answered, transferred and ends (``_Folder``)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable, Iterable
from dataclasses import replace

from calls.importers.mapping import echo
from calls.importers.queue_log.events import (
    COMPLETE_EVENTS,
    EXIT_EVENTS,
    LOGIN_EVENTS,
    LOGOFF_EVENTS,
    MEMBER_EVENTS,
    PAUSE_EVENTS,
    REFUSED_EVENTS,
    TRANSFER_EVENTS,
    UNPAUSE_EVENTS,
    Event,
    EventsRead,
    LineError,
    Where,
    read_events,
)
from calls.importers.queue_log.legs import Closed, Leg, Parsed, Snapshot
from calls.privacy import customer_key


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

    def __init__(self, parsed: Parsed, read: EventsRead, restore, center_tz):
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
        self.p.note(
            self.where(event),
            f"{event.name} of call {event.callid} in {event.queue} without "
            "its ENTERQUEUE (the call began before this file): imported from this line, which "
            "gives its wait; entered taken as this time less the wait",
        )
        return leg

    # -- the events --

    def fold(self) -> None:
        errors = self.read.errors
        handlers = {
            "ENTERQUEUE": self.on_enterqueue,
            "CONNECT": self.on_connect,
            "RINGNOANSWER": self.on_ringnoanswer,
            **dict.fromkeys(COMPLETE_EVENTS, self.on_complete),
            **dict.fromkeys(TRANSFER_EVENTS, self.on_transfer),
            **dict.fromkeys(EXIT_EVENTS, self.on_exit),
            **dict.fromkeys(REFUSED_EVENTS, self.on_refused),
            **dict.fromkeys(MEMBER_EVENTS, self.on_member),
        }
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
            self.p.note(
                self.where(event),
                f"call {event.callid} enters {event.queue} while its leg in "
                f"{earlier.queue} ({earlier.opened.said(self.p.filename)}) had no end event: "
                f"that leg is {how}",
            )
        self.open_leg(event, event.at, customer=customer_key(caller))

    def on_connect(self, event: Event, errors) -> None:
        hold = _seconds(event, 0, "holdtime", errors)
        if hold is None:
            return
        leg = self.leg(event.callid, event.queue)
        if leg is None:
            leg = self.mid_call(event, event.at - dt.timedelta(seconds=hold))
        elif leg.answered is not None and leg.answered != event.at:
            self.p.note(
                self.where(event),
                f"a second CONNECT of call {event.callid} in {event.queue}: the first one is kept",
            )
            return
        leg.agent, leg.answered, leg.wait, leg.touched = event.member, event.at, hold, True

    def _late(self, event: Event) -> bool:
        """The end event of a leg already ended when its call moved to another queue: noted, and the
        leg left as it was (its talk counted until the call moved: the rest is the next agent's)."""
        leg = self.moved_on.pop((event.callid, event.queue), None)
        if leg is None or self.leg(event.callid, event.queue) is not None:
            return False
        self.p.note(
            self.where(event),
            f"{event.name} of call {event.callid} in {event.queue}, after the "
            "call had entered another queue: that leg ended when it did",
        )
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
            leg
            for legs in self.calls.values()
            if (leg := legs.get(event.queue)) is not None
            and leg.callid != event.callid
            and leg.answered is not None
            and leg.agent == event.member
        ]
        if len(answering) > 1:
            answering = [leg for leg in answering if leg.wait == hold] or answering
        if not answering and event.callid not in self.calls:
            return False
        if len(answering) != 1:
            self.p.note(
                self.where(event),
                f"ATTENDEDTRANSFER under call {event.callid}, which is not in "
                f"{event.queue}, and no single call answered there by {event.member or 'NONE'} "
                "to take it for: not counted",
            )
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
            leg = replace(
                waiting,
                callid=transferred.callid,
                customer=transferred.customer,
                stored=None,
                touched=True,
            )
            self.calls.setdefault(leg.callid, {})[queue] = leg
            moved.append(
                f"; its place in {queue} ({waiting.opened.said(self.p.filename)}) is the "
                f"caller's of {transferred.callid} from here"
            )
        self.p.note(
            self.where(event),
            f"ATTENDEDTRANSFER logged under call {event.callid} (the "
            f"consultation call, as FreePBX logs it): taken as the transfer of call "
            f"{transferred.callid}, answered in {event.queue} by {event.member} "
            f"({transferred.opened.said(self.p.filename)}){''.join(moved)}",
        )
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
        leg = Leg(
            event.callid,
            event.queue,
            event.at,
            self.where(event),
            outcome="refused",
            ended_by="system",
            touched=True,
        )
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
        self.p.rings.append(
            (
                event.line,
                {
                    "attempt_id": attempt,
                    "agent_id": event.member,
                    "queue": event.queue,
                    "call_id": event.callid,
                    "rang_at": rang_at.isoformat(sep=" "),
                    "ring_ms": str(ring_ms),
                },
            )
        )

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
                self.p.note(
                    leg.opened,
                    f"call {leg.callid} was still {doing} in {leg.queue} at the end "
                    "of the file: kept, the next file of the log finishes it",
                )
        self.p.worktime = [
            (
                line,
                {
                    "agent_id": agent,
                    "day": day.isoformat(),
                    "logged_in_seconds": str(int(total)),
                    "available_seconds": str(int(max(0.0, total - pause))),
                },
            )
            for (agent, day), (total, pause, line) in sorted(self.work.items())
        ]


def parse(
    read: EventsRead,
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
