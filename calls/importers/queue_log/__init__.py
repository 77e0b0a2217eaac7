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

# The parts, in the order a file goes through them: ``events`` (its lines read), ``fold`` (the events
# folded into legs), ``legs`` (a leg and what carries it over to the next file), ``rows`` (the rows the
# import engine reads). Importers use the names below, as they did when this was one module.
from calls.importers.queue_log.events import (
    COMPLETE_EVENTS,
    EXIT_EVENTS,
    HEADER,
    LOGIN_EVENTS,
    LOGOFF_EVENTS,
    MEMBER_EVENTS,
    PAUSE_EVENTS,
    REFUSED_EVENTS,
    TRANSFER_EVENTS,
    UNPAUSE_EVENTS,
    Event,
    LineError,
    Where,
    agent_name,
    read_events,
    sniff,
)
from calls.importers.queue_log.fold import parse, read
from calls.importers.queue_log.legs import LOOKBACK, MAX_NOTES, Closed, Leg, Parsed, Snapshot
from calls.importers.queue_log.rows import (
    CALL_COLUMNS,
    RING_COLUMNS,
    WORKTIME_COLUMNS,
    call_row,
    leg_names,
    name_candidates,
    sources,
)

__all__ = [
    "CALL_COLUMNS",
    "COMPLETE_EVENTS",
    "EXIT_EVENTS",
    "HEADER",
    "LOGIN_EVENTS",
    "LOGOFF_EVENTS",
    "LOOKBACK",
    "MAX_NOTES",
    "MEMBER_EVENTS",
    "PAUSE_EVENTS",
    "REFUSED_EVENTS",
    "RING_COLUMNS",
    "TRANSFER_EVENTS",
    "UNPAUSE_EVENTS",
    "WORKTIME_COLUMNS",
    "Closed",
    "Event",
    "Leg",
    "LineError",
    "Parsed",
    "Snapshot",
    "Where",
    "agent_name",
    "call_row",
    "leg_names",
    "name_candidates",
    "parse",
    "read",
    "read_events",
    "sniff",
    "sources",
]
