"""Ready-made column mappings for the exports people actually have (saved by migration ``calls/0007``;
HR copies and edits them in the administration).

- **Asterisk ``Master.csv``** (``cdr_csv``): no header line; accountcode, src, dst, dcontext, clid,
  channel, dstchannel, lastapp, lastdata, start, answer, end, duration, billsec, disposition, amaflags,
  uniqueid, userfield (``cdr.conf`` ``[csv]`` with ``loguniqueid=yes``: without it the file has no call
  id at all). A queue call writes a row per agent it rang, all with the caller's uniqueid: the rows are
  folded into one call (the answered leg kept, the wait counted from the first leg's start). The agent
  is the extension in the destination channel (``SIP/301-0000001a`` → ``301``); answered is the
  disposition; the wait is duration − billsec.
- **FreeSWITCH ``mod_cdr_csv``**, its default ("example") template: no header line; caller_id_name,
  caller_id_number, destination_number, context, start_stamp, answer_stamp, end_stamp, duration,
  billsec, hangup_cause, uuid, bleg_uuid, accountcode, read_codec, write_codec. A row per leg with
  ``legs="a"`` (the default); the agent is the destination number (an extension), the answer its
  ``answer_stamp`` (empty when unanswered), the wait duration − billsec.
- **A generic ACD export with an answered flag and the wait in seconds**, and no answer time: a
  header ``call_id, agent, queue, direction, caller, date, time, answered, wait, talk`` (the date and
  the time in two columns; answered as 1/0, 是/否, ANSWERED / NO ANSWER or 接通 / 呼损; durations in
  seconds, mm:ss or hh:mm:ss). The answer is the entry plus the wait.

Where an export's agent ids are not the employee ids, add a value map to the copy:
``{"agent_id": {"301": "A01"}}``.
"""

DISPOSITIONS = {"ANSWERED": "1", "NO ANSWER": "0", "BUSY": "0", "FAILED": "0", "CONGESTION": "0"}

READY_MADE = {
    "asterisk-master-csv": {
        "kind": "calls",
        "source": "asterisk",
        "has_header": False,
        "fold_legs": True,
        "columns": {
            "call_id": 17,
            "agent_id": {"column": 7, "pattern": "^[A-Za-z0-9]+/([^-@/;]+)"},
            "direction": {"constant": "inbound"},
            "customer_number": 2,
            "entered_at": 10,
            "answered": {"column": 15, "map": DISPOSITIONS},
            "wait_seconds": {"minus": [13, 14]},
            "talk_seconds": 14,
            "outcome": {
                "column": 15,
                "map": {
                    "ANSWERED": "",
                    "NO ANSWER": "no_answer",
                    "BUSY": "no_answer",
                    "FAILED": "no_answer",
                    "CONGESTION": "no_answer",
                },
            },
        },
        "value_maps": {},
    },
    "freeswitch-cdr-csv": {
        "kind": "calls",
        "source": "freeswitch",
        "has_header": False,
        "fold_legs": False,
        "columns": {
            "call_id": 11,
            "agent_id": 3,
            "direction": {"constant": "inbound"},
            "customer_number": 2,
            "entered_at": 5,
            "answered_at": 6,
            "wait_seconds": {"minus": [8, 9]},
            "talk_seconds": 9,
        },
        "value_maps": {},
    },
    "acd-answered-flag": {
        "kind": "calls",
        "source": "acd",
        "has_header": True,
        "fold_legs": False,
        "columns": {
            "call_id": "call_id",
            "agent_id": "agent",
            "queue": "queue",
            "direction": "direction",
            "customer_number": "caller",
            "entered_at": {"date": "date", "time": "time"},
            "answered": {
                "column": "answered",
                "map": {**DISPOSITIONS, "接通": "1", "呼损": "0", "未接通": "0", "放弃": "0"},
            },
            "wait_seconds": "wait",
            "talk_seconds": "talk",
        },
        "value_maps": {},
    },
}
