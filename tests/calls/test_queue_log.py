"""Asterisk queue_log as Asterisk's "Queue Logs" reference defines it, with excerpts in the real format
(``tests/calls/data``): a busy queue with many ring-no-answers, an attended transfer logged the FreePBX
way, a call through two queues, a call spanning two files of a rotated log, a file that starts
mid-call, every exit event read from its own field; the database-table variant; errors and notes that
name the file's lines."""

import datetime as dt
import io
from fractions import Fraction
from pathlib import Path

import pytest

from calls.importers import queue_log
from calls.metrics import metric_values, queue_figures
from calls.models import Call, ImportBatch, QueueLogLeg, RingAttempt, WorkTime
from calls.privacy import customer_key
from calls.services import ImportRefused, batch_rollback, queue_log_import
from tests.factories import AgentFactory

DATA = Path(__file__).parent / "data"
T0 = int(dt.datetime(2026, 10, 5, 1, 0, tzinfo=dt.UTC).timestamp())  # 09:00 in Shanghai
DAY = (dt.datetime(2026, 10, 4, tzinfo=dt.UTC), dt.datetime(2026, 10, 6, tzinfo=dt.UTC))


def at(offset: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(T0 + offset, tz=dt.UTC)


def log(*lines):
    return "\n".join(f"{T0 + offset}|{rest}" for offset, rest in lines) + "\n"


def data(name: str) -> str:
    return (DATA / name).read_text()


def load(text: str, filename: str = "queue_log", **options) -> list[ImportBatch]:
    return queue_log_import(
        stream=io.BytesIO(text.encode()), filename=filename, source="pbx", **options
    )


def batch_of(batches, kind: str) -> ImportBatch:
    return next(b for b in batches if b.kind == kind)


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


def test_calls_ring_attempts_and_work_time_from_a_queue_log_file(agents):
    calls, rings, work = load(QUEUE_LOG)
    assert calls.status == rings.status == work.status == ImportBatch.Status.APPLIED
    answered = Call.objects.get(external_id="1760.1")
    assert (answered.agent, answered.wait_seconds, answered.talk_seconds, answered.ended_by) == (
        agents[0],
        12,
        200,
        "customer",
    )
    assert answered.started_at == at(10) and answered.answered_at == at(22)
    assert answered.customer_key == customer_key("13800000001")
    transferred = Call.objects.get(external_id="1760.3")
    assert (transferred.agent, transferred.transfers, transferred.talk_seconds) == (
        agents[0],
        1,
        60,
    )
    abandoned = Call.objects.get(external_id="1760.5")
    assert (abandoned.agent, abandoned.answered_at, abandoned.outcome, abandoned.wait_seconds) == (
        None,
        None,
        "abandoned",
        45,
    )
    # The ring on 1002 is an attempt on 1002, never a call of 1002's.
    assert Call.objects.count() == 3 and not Call.objects.filter(agent=agents[1]).exists()
    ring = RingAttempt.objects.get()
    assert (ring.agent, ring.queue, ring.call_ref, ring.rang_at, ring.ring_ms) == (
        agents[1],
        "support",
        "1760.3",
        at(300),
        15000,
    )
    # The open call is kept for the next file, and the note names its line; the kernel line is skipped.
    assert not Call.objects.filter(external_id="1760.9").exists()
    assert "line 15: call 1760.9 was still talking with 1001 in support" in calls.message
    assert "1 lines were not queue events and were skipped: line 19." in calls.message
    assert QueueLogLeg.objects.get().callid == "1760.9"
    # Work time: both logged in for an hour; 1002 paused ten minutes.
    rows = {
        w.agent.employee_id: (w.logged_in_seconds, w.available_seconds)
        for w in WorkTime.objects.all()
    }
    assert rows == {"1001": (3600, 3600), "1002": (3600, 3000)}
    assert WorkTime.objects.get(agent=agents[1]).day == dt.date(2026, 10, 5)


def test_importing_the_same_log_twice_creates_nothing(agents):
    load(QUEUE_LOG)
    calls, rings, work = load(QUEUE_LOG)
    counts = [(b.rows_created, b.rows_updated, b.rows_unchanged) for b in (calls, rings, work)]
    assert counts == [(0, 0, 3), (0, 0, 1), (0, 0, 2)]
    assert QueueLogLeg.objects.count() == 1  # the open call's state, written once


def test_a_busy_queue_with_many_ring_no_answers(db):
    """19 callers, 221 rings without answer: 19 offered calls, 221 ring attempts; 1001 answered six
    calls and let 20 rings go (formerly stored as 20 unanswered calls of 1001's: 6/26)."""
    text = data("busy_queue.queue_log")
    agents = {
        e: AgentFactory(employee_id=e) for e in ["1001", "1002", "1003", "1004", "1005", "1006"]
    }
    calls, rings, _work = load(text)
    assert calls.status == rings.status == ImportBatch.Status.APPLIED
    assert Call.objects.count() == text.count("|ENTERQUEUE|") == 19
    assert RingAttempt.objects.count() == text.count("|RINGNOANSWER|") == 221
    assert not Call.objects.filter(agent__isnull=False, answered_at__isnull=True).exists()
    ids = [agents["1001"].pk]
    answer = metric_values("answer_rate", agent_ids=ids, start=DAY[0], end=DAY[1])[ids[0]]
    assert (answer.numerator, answer.denominator) == (6, 6)
    rna = metric_values("ring_no_answer_rate", agent_ids=ids, start=DAY[0], end=DAY[1])[ids[0]]
    assert (rna.numerator, rna.denominator, rna.value) == (20, 26, Fraction(20 * 100, 26))  # exact
    (support,) = queue_figures(start=DAY[0], end=DAY[1])
    assert (support.offered, support.answered, support.abandoned, support.rings) == (19, 15, 4, 221)
    everyone = [a.pk for a in agents.values()]
    queue = metric_values("queue_answer_rate", agent_ids=everyone, start=DAY[0], end=DAY[1])
    # Each agent who took part gets the queue's own figures (1005 and 1006 were only rung).
    assert {a: (v.numerator, v.denominator) for a, v in queue.items()} == {
        a: (15, 19) for a in everyone
    }


def test_an_attended_transfer_logged_the_freepbx_way(db):
    """FreePBX logs the ATTENDEDTRANSFER under the consultation call's id (asterisk/asterisk#759):
    noted, not fatal; the transferred call is a leg in each queue, each with its agent."""
    first, second = AgentFactory(employee_id="7009"), AgentFactory(employee_id="7051")
    (calls,) = load(data("freepbx_attended_transfer.queue_log"))
    assert calls.status == ImportBatch.Status.APPLIED and calls.errors == []
    legs = {c.external_id: c for c in Call.objects.all()}
    assert set(legs) == {"1717397243.239826", "1717397243.239826@1509"}
    one, two = legs["1717397243.239826"], legs["1717397243.239826@1509"]
    moment = lambda t: dt.datetime.fromtimestamp(t, tz=dt.UTC)  # noqa: E731
    assert (one.queue, one.agent, one.wait_seconds, one.talk_seconds, one.transfers) == (
        "1501",
        first,
        12,
        120,
        1,
    )
    assert (one.started_at, one.answered_at) == (moment(1717397259), moment(1717397271))
    assert (two.queue, two.agent, two.wait_seconds, two.talk_seconds, two.ended_by) == (
        "1509",
        second,
        7,
        173,
        "agent",
    )
    # The caller waited in 1509 in the consultation call's place, from its ENTERQUEUE on.
    assert (two.started_at, two.answered_at) == (moment(1717397390), moment(1717397397))
    assert one.customer_key == two.customer_key == customer_key("9031396745")
    assert "line 6: ATTENDEDTRANSFER logged under call 1717397390.239830" in calls.message
    assert "taken as the transfer of call 1717397243.239826" in calls.message
    assert not QueueLogLeg.objects.exists()  # nothing left open


def test_a_call_through_two_queues_is_a_leg_in_each(db):
    agents = [AgentFactory(employee_id=e) for e in ["1001", "1002", "1003"]]
    calls, rings = load(data("two_queues.queue_log"))
    assert calls.rows_created == 2 and rings.rows_created == 1
    first = Call.objects.get(external_id=f"{T0 + 10}.5")
    second = Call.objects.get(external_id=f"{T0 + 10}.5@billing")
    assert (first.queue, first.agent, first.wait_seconds, first.talk_seconds, first.transfers) == (
        "support",
        agents[0],
        8,
        80,
        1,
    )
    assert (second.queue, second.agent, second.wait_seconds, second.talk_seconds) == (
        "billing",
        agents[2],
        21,
        300,
    )
    assert second.started_at == at(99) and second.answered_at == at(120)
    figures = {f.queue: f for f in queue_figures(start=DAY[0], end=DAY[1])}
    assert (figures["support"].offered, figures["support"].transfers) == (1, 1)
    assert (figures["billing"].offered, figures["billing"].rings) == (1, 1)
    # Again: the same two legs, unchanged.
    calls, _rings = load(data("two_queues.queue_log"))
    assert (calls.rows_created, calls.rows_unchanged) == (0, 2)


def test_a_transfer_the_log_does_not_show_ends_the_leg_when_the_call_enters_the_next_queue(db):
    """FreePBX may log no transfer at all (FreePBX/issue-tracker#124): the first agent's COMPLETE comes
    when the whole call ends, with the second agent's talk in it. The leg ends when the call entered the
    next queue; the late COMPLETE is noted, not a second leg."""
    first, second = AgentFactory(employee_id="1001"), AgentFactory(employee_id="1003")
    text = log(
        (0, "k1|support|NONE|ENTERQUEUE||13800000031|1"),
        (5, "k1|support|PJSIP/1001|CONNECT|5|k2|2"),
        (65, "k1|billing|NONE|ENTERQUEUE||13800000031|1"),
        (70, "k1|billing|PJSIP/1003|CONNECT|5|k3|2"),
        (370, "k1|billing|PJSIP/1003|COMPLETECALLER|5|300|1"),
        (371, "k1|support|PJSIP/1001|COMPLETECALLER|5|366|1"),
    )
    (calls,) = load(text)
    rows = {c.external_id: (c.agent, c.talk_seconds, c.transfers) for c in Call.objects.all()}
    assert rows == {"k1": (first, 60, 1), "k1@billing": (second, 300, 0)}
    assert (
        "line 3: call k1 enters billing while its leg in support (line 1) had no end event"
        in calls.message
    )
    assert (
        "line 6: COMPLETECALLER of call k1 in support, after the call had entered another queue"
        in calls.message
    )


@pytest.mark.parametrize(
    ("method", "talk"),
    [
        ("BRIDGE|1791162099.77", 95),
        ("APP|Queue", 95),
        ("LINK|Local/8200@a-1;1|Local/8200@a-1;2", 95),
    ],
)
def test_an_attended_transfer_reads_hold_and_talk_after_its_method(agents, method, talk):
    text = log(
        (0, "x1|support|NONE|ENTERQUEUE||1|1"),
        (8, "x1|support|PJSIP/1001|CONNECT|8|x2|2"),
        (8 + talk, f"x1|support|PJSIP/1001|ATTENDEDTRANSFER|{method}|8|{talk}|1"),
    )
    load(text)
    call = Call.objects.get(external_id="x1")
    assert (call.wait_seconds, call.talk_seconds, call.transfers, call.ended_by) == (
        8,
        talk,
        1,
        "agent",
    )


def test_a_transfer_line_of_no_known_call_is_noted_not_fatal(agents):
    text = log(
        (0, "c1|sales|NONE|ENTERQUEUE||1001|1"),
        (5, "c1|support|PJSIP/1001|ATTENDEDTRANSFER|APP|Queue|4|30|1"),
        (20, "c1|sales|NONE|ABANDON|1|1|20"),
    )
    (calls,) = load(text)
    assert calls.status == ImportBatch.Status.APPLIED
    assert "line 2: ATTENDEDTRANSFER under call c1, which is not in support" in calls.message
    assert list(Call.objects.values_list("external_id", "outcome", "transfers")) == [
        ("c1", "abandoned", 0)
    ]


def test_a_call_spanning_two_files_of_a_rotated_log(agents):
    (calls,) = load(data("rotation.1.queue_log"), "queue_log.1")
    # Two calls were still on at the end of the first file: kept, not dropped, and named by line.
    assert calls.rows_created == 1  # the abandoned one
    assert "line 2: call 1791162010.1 was still talking with 1001 in support" in calls.message
    assert "line 4: call 1791162050.3 was still waiting in support" in calls.message
    assert QueueLogLeg.objects.filter(closed_at__isnull=True).count() == 2

    second = load(data("rotation.2.queue_log"), "queue_log")
    calls = batch_of(second, "calls")
    assert calls.status == ImportBatch.Status.APPLIED and calls.rows_created == 3
    talked = Call.objects.get(external_id="1791162010.1")
    assert (talked.agent, talked.started_at, talked.answered_at) == (agents[0], at(10), at(16))
    assert (talked.wait_seconds, talked.talk_seconds, talked.ended_by) == (6, 300, "customer")
    assert talked.customer_key == customer_key("13800000011")  # from the first file's ENTERQUEUE
    waited = Call.objects.get(external_id="1791162050.3")
    assert (waited.started_at, waited.wait_seconds, waited.outcome) == (at(50), 60, "abandoned")
    assert RingAttempt.objects.get().call_ref == "1791162050.3"

    # Either file again: nothing new, nothing changed, nothing reopened.
    again = batch_of(load(data("rotation.2.queue_log"), "queue_log"), "calls")
    assert (again.rows_created, again.rows_updated, again.rows_unchanged) == (0, 0, 3)
    (first_again,) = load(data("rotation.1.queue_log"), "queue_log.1")
    assert (first_again.rows_created, first_again.rows_updated) == (0, 0)
    assert "was finished by a later file (queue_log)" in first_again.message
    assert Call.objects.count() == 4
    assert Call.objects.get(external_id="1791162010.1").customer_key == customer_key("13800000011")
    # The next file finds nothing open from these two.
    later = log((600, "z1|support|NONE|ENTERQUEUE||1|1"), (610, "z1|support|NONE|ABANDON|1|1|10"))
    (third,) = load(later, "queue_log.next")
    assert "still" not in third.message and third.rows_created == 1


def test_the_second_file_first_then_the_first(agents):
    """Out of order: the second file alone begins mid-call; the first, imported after, finds those
    calls imported and leaves nothing open behind."""
    calls = batch_of(load(data("rotation.2.queue_log"), "queue_log"), "calls")
    assert (
        calls.rows_created == 3 and "line 3: COMPLETECALLER of call 1791162010.1" in calls.message
    )
    talked = Call.objects.get(external_id="1791162010.1")
    assert (talked.started_at, talked.answered_at, talked.customer_key) == (at(10), at(16), None)
    (first,) = load(data("rotation.1.queue_log"), "queue_log.1")
    assert first.rows_created == 1 and "was imported finished from another file" in first.message
    assert not QueueLogLeg.objects.exists()
    assert Call.objects.count() == 4


def test_rolling_back_the_second_file_opens_its_calls_again(agents):
    load(data("rotation.1.queue_log"), "queue_log.1")
    calls = batch_of(load(data("rotation.2.queue_log")), "calls")
    batch_rollback(batch=calls)
    assert not Call.objects.filter(external_id__in=["1791162010.1", "1791162050.3"]).exists()
    again = batch_of(load(data("rotation.2.queue_log")), "calls")
    assert again.rows_created == 3
    talked = Call.objects.get(external_id="1791162010.1")
    assert (talked.started_at, talked.customer_key) == (at(10), customer_key("13800000011"))


def test_a_file_that_starts_mid_call_imports_what_its_lines_give(agents):
    calls, rings = load(data("mid_call.queue_log"))
    assert calls.status == ImportBatch.Status.APPLIED and calls.rows_created == 4
    connected = Call.objects.get(external_id=f"{T0 + 191}.1")
    assert (connected.started_at, connected.answered_at, connected.wait_seconds) == (
        at(191),
        at(200),
        9,
    )
    assert (connected.talk_seconds, connected.agent) == (60, agents[0])
    completed = Call.objects.get(external_id=f"{T0 + 166}.3")  # only its COMPLETECALLER is here
    assert (completed.started_at, completed.answered_at, completed.agent) == (
        at(166),
        at(180),
        agents[1],
    )
    assert (completed.wait_seconds, completed.talk_seconds, completed.customer_key) == (
        14,
        120,
        None,
    )
    abandoned = Call.objects.get(external_id=f"{T0 + 215}.4")
    assert (abandoned.started_at, abandoned.wait_seconds, abandoned.outcome) == (
        at(215),
        95,
        "abandoned",
    )
    assert rings.rows_created == 1
    for line in (1, 3, 4):
        assert f"line {line}: " in calls.message and "without its ENTERQUEUE" in calls.message
    assert "line 6:" not in calls.message  # a whole call


def test_every_exit_is_read_from_the_field_asterisk_writes_it_in(db):
    (calls,) = load(data("exits.queue_log"))
    assert calls.status == ImportBatch.Status.APPLIED, calls.errors
    rows = {
        c.external_id: (c.wait_seconds, c.outcome, c.ended_by, c.answered_at)
        for c in Call.objects.all()
    }
    assert rows == {
        f"{T0}.1": (33, "no_answer", "system", None),  # EXITEMPTY(position|origposition|waittime)
        f"{T0 + 40}.2": (
            47,
            "other",
            "customer",
            None,
        ),  # EXITWITHKEY(key|position|origposition|waittime)
        f"{T0 + 90}.3": (
            300,
            "no_answer",
            "system",
            None,
        ),  # EXITWITHTIMEOUT(position|origposition|waittime)
        f"{T0 + 400}.4": (0, "refused", "system", None),  # JOINEMPTY: never joined
        f"{T0 + 410}.5": (0, "refused", "system", None),  # FULL
    }
    (support,) = queue_figures(start=DAY[0], end=DAY[1])
    assert (support.offered, support.answered, support.abandoned, support.refused) == (3, 0, 3, 2)


def test_a_file_with_no_finished_call_keeps_its_notes(agents):
    text = log((0, "o1|support|NONE|ENTERQUEUE||1|1"), (4, "o1|support|PJSIP/1001|CONNECT|4|o2|1"))
    (calls,) = load(text)
    assert (calls.kind, calls.status, calls.rows_total) == ("calls", ImportBatch.Status.APPLIED, 0)
    assert "line 1: call o1 was still talking with 1001 in support" in calls.message
    (finish,) = load(log((90, "o1|support|PJSIP/1001|COMPLETEAGENT|4|86|1")), "queue_log.next")
    call = Call.objects.get(external_id="o1")
    assert (call.started_at, call.answered_at, call.talk_seconds) == (at(0), at(4), 86)
    assert "without its ENTERQUEUE" not in finish.message


def test_a_call_open_at_the_end_with_an_id_too_long_to_keep_is_noted(agents):
    callid = "c" * 120
    text = log(
        (0, f"{callid}|support|NONE|ENTERQUEUE||1|1"),
        (4, f"{callid}|support|PJSIP/1001|CONNECT|4|o2|1"),
    )
    (calls,) = load(text)
    assert calls.status == ImportBatch.Status.APPLIED
    assert "an id or queue name this long cannot be kept open for the next file" in calls.message
    assert not QueueLogLeg.objects.exists()


def test_errors_name_the_file_line_the_column_and_the_reason(agents):
    text = (
        log(
            (0, "x1|support|NONE|ENTERQUEUE||1|1"),
            (5, "x1|support|PJSIP/2999|CONNECT|5|x2|1"),
            (65, "x1|support|PJSIP/2999|COMPLETEAGENT|5|60|1"),
            (70, "y1|support|NONE|ENTERQUEUE||2|1"),
            (75, "y1|support|PJSIP/1001|CONNECT|five|y2|1"),
            (80, "z1|support|NONE|ENTERQUEUE||3|1"),
            (85, "z1|support|NONE|ABANDON|1|1|5"),
            (90, "w1|support|PJSIP/1001|COMPLETECALLER|7"),
        )
        + f"{T0 + 95}|v1|supp"
        + "x" * 300
        + "\n"
    )
    (calls,) = load(text)
    assert calls.status == ImportBatch.Status.REJECTED and not Call.objects.exists()
    errors = {(e["line"], e["column"]): e for e in calls.errors}
    # The unknown agent: the line of the COMPLETEAGENT that finished the call, not a generated row's.
    assert errors[(3, "agent_id")]["value"] == "2999"
    assert errors[(5, "data1 (holdtime)")]["reason"] == "not a whole number"
    assert errors[(8, "data2 (calltime)")]["reason"].startswith("missing")
    cut = errors[(9, "agent")]
    assert cut["reason"].startswith("cut short") and len(cut["value"]) <= 200
    assert calls.rows_rejected == 4 and "nothing was imported" in calls.message
    assert not QueueLogLeg.objects.exists()  # a refused file leaves no open call behind

    (partial,) = load(text, allow_partial=True)
    assert partial.status == ImportBatch.Status.APPLIED and partial.rows_created == 1
    assert Call.objects.get().external_id == "z1"


def test_an_agent_unknown_to_the_product_is_named(agents):
    text = log(
        (0, "x1|support|NONE|ENTERQUEUE||1|1"),
        (5, "x1|support|PJSIP/2999|CONNECT|5|x2|1"),
        (65, "x1|support|PJSIP/2999|COMPLETEAGENT|5|60|1"),
    )
    calls, *_ = load(text)
    assert calls.status == ImportBatch.Status.REJECTED
    assert calls.errors == [
        {
            "line": 3,
            "column": "agent_id",
            "value": "2999",
            "reason": "unknown agent: no agent has this employee id",
        }
    ]


def test_the_database_table_variant(agents):
    # As Wazo shows the table: newest first; a sixth data field (LINK) in data5, joined by "|".
    table = (
        "time,callid,queuename,agent,event,data1,data2,data3,data4,data5\n"
        "2026-10-05 09:09:17,t3,support,SIP/1001,ATTENDEDTRANSFER,LINK,Local/8200@a;1,Local/8200@a;2,4,90|1\n"
        "2026-10-05 09:07:47,t3,support,SIP/1001,CONNECT,4,t4,2,,\n"
        "2026-10-05 09:07:43,t3,support,NONE,ENTERQUEUE,,13800000003,1,,\n"
        "2026-10-05 09:03:17,t1,support,SIP/1002,COMPLETEAGENT,7,180,1,,\n"
        "2026-10-05 09:00:17,t1,support,SIP/1002,CONNECT,7,t2,2,,\n"
        "2026-10-05 09:00:10,t1,support,NONE,ENTERQUEUE,,13800000001,1,,\n"
    )
    (calls,) = queue_log_import(
        stream=io.BytesIO(table.encode()), filename="queue_log.csv", source="pbx-db"
    )
    assert calls.status == ImportBatch.Status.APPLIED, calls.errors
    call = Call.objects.get(external_id="t1")
    assert (call.agent, call.wait_seconds, call.talk_seconds, call.ended_by) == (
        agents[1],
        7,
        180,
        "agent",
    )
    assert call.started_at == at(10)  # table times are local (Shanghai)
    transferred = Call.objects.get(external_id="t3")
    assert (transferred.talk_seconds, transferred.transfers) == (90, 1)


def test_a_table_export_without_its_columns_is_refused(db):
    with pytest.raises(ImportRefused, match="needs the columns"):
        queue_log_import(
            stream=io.BytesIO(b"time,callid,event\n1,2,3\n"), filename="q.csv", source="pbx"
        )


def test_a_table_export_csv_cannot_read_is_refused_with_its_line(db):
    text = (
        "time,callid,queuename,agent,event,data1\n"
        + "2026-10-05 09:00:00,t1,support,NONE,ENTERQUEUE,"
    )
    text += '"' + "x" * 200_000 + '"\n'
    with pytest.raises(ImportRefused, match="Line 2: not readable as CSV") as refused:
        load(text, "queue_log.csv")
    assert refused.value.batch.errors[0]["line"] == 2


def test_a_log_of_member_events_only_imports_work_time(agents):
    text = log(
        (0, "NONE|support|PJSIP/1001|ADDMEMBER|"), (1800, "NONE|support|PJSIP/1001|REMOVEMEMBER|")
    )
    (work,) = load(text)
    assert work.kind == "worktime" and WorkTime.objects.get().logged_in_seconds == 1800
    with pytest.raises(ImportRefused, match="nothing to import: no queue event"):
        load("garbage\n")


def test_the_first_leg_keeps_the_call_id_and_a_later_one_names_its_queue():
    leg = queue_log.Leg("c1", "billing", at(100), queue_log.Where("f", 1))
    earlier = queue_log.Leg("c1", "support", at(0), queue_log.Where("f", 0))
    assert queue_log.leg_names([leg, earlier]) == {id(earlier): "c1", id(leg): "c1@billing"}
    # An earlier file imported the first leg: the id is taken by another leg, so this one is later.
    assert queue_log.leg_names([leg], taken={"c1": ("support", at(0))}) == {id(leg): "c1@billing"}
    # The same leg imported before keeps its id.
    assert queue_log.leg_names([leg], taken={"c1": ("billing", at(100))}) == {id(leg): "c1"}
    back = queue_log.Leg("c1", "billing", at(500), queue_log.Where("f", 9))
    names = queue_log.leg_names([earlier, leg, back])
    assert names[id(back)] == "c1@billing#2"


def test_the_importer_recognises_a_queue_log_by_its_content():
    assert queue_log.sniff(io.BytesIO(QUEUE_LOG.encode()))
    assert queue_log.sniff(io.BytesIO(b"time,callid,queuename,agent,event,data1\n"))
    assert not queue_log.sniff(io.BytesIO(b"call_id,agent_id,direction,entered_at\n1,A1,in,x\n"))
