"""Asterisk queue_log in the real format: answered, abandoned, ring-no-answer, transferred, still-open
calls and member events; the file and the database-table variants."""

import datetime as dt
import io

import pytest

from calls.models import Call, ImportBatch, WorkTime
from calls.services import ImportRefused, queue_log_import
from tests.factories import AgentFactory

T0 = int(dt.datetime(2026, 10, 5, 1, 0, tzinfo=dt.UTC).timestamp())  # 09:00 in Shanghai


def log(*lines):
    return "\n".join(f"{T0 + offset}|{rest}" for offset, rest in lines) + "\n"


QUEUE_LOG = (
    log(
        (0, "NONE|NONE|NONE|QUEUESTART|"),
        (0, "NONE|support|PJSIP/1001|ADDMEMBER|"),
        (0, "NONE|support|PJSIP/1002|ADDMEMBER|"),
        # answered by 1001 after 12 s, 200 s talk, the customer hangs up
        (10, "1760.1|support|NONE|ENTERQUEUE||13800000001|1"),
        (22, "1760.1|support|PJSIP/1001|CONNECT|12|1760.2|3"),
        (222, "1760.1|support|PJSIP/1001|COMPLETECALLER|12|200|1"),
        # rings 1002 for 15 s with no answer, then 1001 answers, then transfers it
        (300, "1760.3|support|NONE|ENTERQUEUE||13800000002|1"),
        (315, "1760.3|support|PJSIP/1002|RINGNOANSWER|15000"),
        (320, "1760.3|support|PJSIP/1001|CONNECT|20|1760.4|5"),
        (380, "1760.3|support|PJSIP/1001|BLINDTRANSFER|8100|sales|20|60|1"),
        # abandoned after 45 s in the queue
        (400, "1760.5|support|NONE|ENTERQUEUE||13800000003|2"),
        (445, "1760.5|support|NONE|ABANDON|2|2|45"),
        # 1002 pauses for ten minutes
        (500, "NONE|support|PJSIP/1002|PAUSE|lunch"),
        (1100, "NONE|support|PJSIP/1002|UNPAUSE|"),
        # still open at the end of the file
        (3000, "1760.9|support|NONE|ENTERQUEUE||13800000009|1"),
        (3005, "1760.9|support|PJSIP/1001|CONNECT|5|1760.10|2"),
        (3600, "NONE|support|PJSIP/1001|REMOVEMEMBER|"),
        (3600, "NONE|support|PJSIP/1002|REMOVEMEMBER|"),
    )
    + "Oct  5 09:30:00 pbx kernel: an unrelated line in the same log\n"
)


@pytest.fixture
def agents(db):
    return AgentFactory(employee_id="1001"), AgentFactory(employee_id="1002")


def test_calls_and_work_time_from_a_queue_log_file(agents):
    calls, work = queue_log_import(
        stream=io.BytesIO(QUEUE_LOG.encode()), filename="queue_log", source="pbx"
    )
    assert calls.status == work.status == ImportBatch.Status.APPLIED
    answered = Call.objects.get(external_id="1760.1")
    assert (answered.agent, answered.wait_seconds, answered.talk_seconds, answered.ended_by) == (
        agents[0],
        12,
        200,
        "customer",
    )
    assert answered.started_at == dt.datetime(2026, 10, 5, 1, 0, 10, tzinfo=dt.UTC)
    assert answered.answered_at - answered.started_at == dt.timedelta(seconds=12)
    transferred = Call.objects.get(external_id="1760.3")
    assert (transferred.agent, transferred.transfers, transferred.talk_seconds) == (
        agents[0],
        1,
        60,
    )
    leg = Call.objects.get(external_id="1760.3-rna1")
    assert (leg.agent, leg.answered_at, leg.outcome, leg.wait_seconds) == (
        agents[1],
        None,
        "no_answer",
        15,
    )
    abandoned = Call.objects.get(external_id="1760.5")
    assert (abandoned.agent, abandoned.answered_at, abandoned.outcome, abandoned.wait_seconds) == (
        None,
        None,
        "abandoned",
        45,
    )
    # The open call is reported, not invented; the unrelated line is skipped.
    assert not Call.objects.filter(external_id="1760.9").exists()
    assert (
        "1 calls were still open at the end of the file and were not imported: 1760.9."
        in calls.message
    )
    assert "1 lines were not queue events and were skipped." in calls.message
    # Work time: both logged in for an hour; 1002 paused ten minutes.
    rows = {
        w.agent.employee_id: (w.logged_in_seconds, w.available_seconds)
        for w in WorkTime.objects.all()
    }
    assert rows == {"1001": (3600, 3600), "1002": (3600, 3000)}
    assert WorkTime.objects.get(agent=agents[1]).day == dt.date(2026, 10, 5)


def test_importing_the_same_log_twice_creates_nothing(agents):
    queue_log_import(stream=io.BytesIO(QUEUE_LOG.encode()), filename="queue_log", source="pbx")
    calls, work = queue_log_import(
        stream=io.BytesIO(QUEUE_LOG.encode()), filename="queue_log", source="pbx"
    )
    assert (calls.rows_created, calls.rows_unchanged, work.rows_created, work.rows_unchanged) == (
        0,
        4,
        0,
        2,
    )


def test_the_database_table_variant(agents):
    table = (
        "time,callid,queuename,agent,event,data1,data2,data3,data4,data5\n"
        "2026-10-05 09:00:10,t1,support,NONE,ENTERQUEUE,,13800000001,1,,\n"
        "2026-10-05 09:00:17,t1,support,SIP/1002,CONNECT,7,t2,2,,\n"
        "2026-10-05 09:03:17,t1,support,SIP/1002,COMPLETEAGENT,7,180,1,,\n"
    )
    queue_log_import(stream=io.BytesIO(table.encode()), filename="queue_log.csv", source="pbx-db")
    call = Call.objects.get(external_id="t1")
    assert (call.agent, call.wait_seconds, call.talk_seconds, call.ended_by) == (
        agents[1],
        7,
        180,
        "agent",
    )
    assert call.started_at == dt.datetime(
        2026, 10, 5, 1, 0, 10, tzinfo=dt.UTC
    )  # table times are local


def test_an_agent_unknown_to_the_product_is_named(agents):
    text = log((0, "x1|support|NONE|ENTERQUEUE||1|1"), (5, "x1|support|PJSIP/2999|CONNECT|5|x2|1"),
               (65, "x1|support|PJSIP/2999|COMPLETEAGENT|5|60|1"))  # fmt: skip
    calls, *_ = queue_log_import(
        stream=io.BytesIO(text.encode()), filename="queue_log", source="pbx"
    )
    assert calls.status == ImportBatch.Status.REJECTED
    assert calls.errors[0]["column"] == "agent_id" and calls.errors[0]["value"] == "2999"


def test_a_table_export_without_its_columns_is_refused(db):
    with pytest.raises(ImportRefused, match="needs the columns"):
        queue_log_import(
            stream=io.BytesIO(b"time,callid,event\n1,2,3\n"), filename="q.csv", source="pbx"
        )


def test_a_log_of_member_events_only_imports_work_time(agents):
    text = log(
        (0, "NONE|support|PJSIP/1001|ADDMEMBER|"), (1800, "NONE|support|PJSIP/1001|REMOVEMEMBER|")
    )
    (work,) = queue_log_import(stream=io.BytesIO(text.encode()), filename="queue_log", source="pbx")
    assert work.kind == "worktime" and WorkTime.objects.get().logged_in_seconds == 1800
    with pytest.raises(ImportRefused, match="no finished call and no member event"):
        queue_log_import(stream=io.BytesIO(b"garbage\n"), filename="queue_log", source="pbx")
