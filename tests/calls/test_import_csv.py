"""Importing facts: every row or none, errors that name line and column, no duplicates, changes recorded,
rollback, closed months, every format and encoding, flat memory."""

import datetime as dt
import io
import tracemalloc
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from calls.generator import csv_lines, generate_calls
from calls.models import (
    Call,
    ColumnMapping,
    Conversion,
    FactChange,
    ImportBatch,
    MonthLock,
    QaAssessment,
    Survey,
    WorkTime,
)
from calls.privacy import customer_key
from calls.services import ImportRefused, RollbackRefused, batch_rollback, facts_import

HEADER = (
    "call_id,agent_id,queue,direction,customer_number,entered_at,answered_at,wait_seconds,"
    "talk_seconds,hold_seconds,acw_seconds,transfers,outcome,complaint\n"
)
GOOD = HEADER + (
    "c1,A1,general,inbound,138 0000 0001,2026-10-05 09:00:00,2026-10-05 09:00:12,12,200,0,30,0,resolved,0\n"
    "c2,A1,general,inbound,13800000002,2026-10-05 09:05:00,,40,0,0,0,0,abandoned,0\n"
    "c3,B1,billing,outbound,13800000003,2026-10-05T09:10:00+08:00,2026-10-05T09:10:05+08:00,5,90,0,10,0,converted,1\n"
)


def _import(text, *, encoding="utf-8", filename="oct.csv", **kwargs):
    data = text.encode(encoding) if isinstance(text, str) else text
    kwargs.setdefault("source", "acd")
    return facts_import(stream=io.BytesIO(data), filename=filename, **kwargs)


def test_a_valid_file_imports_every_row(people):
    batch = _import(GOOD)
    assert batch.status == ImportBatch.Status.APPLIED
    assert (batch.rows_total, batch.rows_created, batch.rows_rejected) == (3, 3, 0)
    c1 = Call.objects.get(external_id="c1")
    assert c1.agent == people.agent_a and c1.source == "acd" and c1.batch == batch
    # Naive times are the center's local time (Asia/Shanghai, UTC+8).
    assert c1.started_at == dt.datetime(2026, 10, 5, 1, 0, tzinfo=dt.UTC)
    assert c1.answered_at - c1.started_at == dt.timedelta(seconds=12)
    # The number is kept only as a keyed hash, the same in SQL as in Python; spaces don't count.
    assert c1.customer_key == customer_key("13800000001")
    c3 = Call.objects.get(external_id="c3")
    assert c3.complaint is True and c3.started_at == dt.datetime(2026, 10, 5, 1, 10, tzinfo=dt.UTC)
    assert c3.transfer_correct is None and c3.ended_by == ""


def test_importing_the_same_file_twice_creates_no_duplicates(people):
    _import(GOOD)
    again = _import(GOOD)
    assert (again.rows_created, again.rows_updated, again.rows_unchanged) == (0, 0, 3)
    assert Call.objects.count() == 3


def test_a_changed_row_updates_its_call_and_the_change_is_recorded(people):
    first = _import(GOOD)
    changed = GOOD.replace(
        ",2026-10-05 09:05:00,,40,0,0,0,0,abandoned,0",
        ",2026-10-05 09:05:00,2026-10-05 09:05:40,40,60,0,0,0,resolved,0",
    )
    batch = _import(changed, filename="oct-v2.csv")
    assert (batch.rows_created, batch.rows_updated, batch.rows_unchanged) == (0, 1, 2)
    c2 = Call.objects.get(external_id="c2")
    assert c2.answered and c2.talk_seconds == 60 and c2.batch == batch
    change = FactChange.objects.get(batch=batch)
    assert (
        change.fact_id == c2.pk
        and change.before["talk_seconds"] == 0
        and change.after["talk_seconds"] == 60
    )
    assert change.before["outcome"] == "abandoned" and change.before["batch_id"] == first.pk


def test_a_file_with_errors_imports_nothing_and_names_line_and_column(people):
    bad = GOOD + (
        "c4,ZZ9,general,inbound,1,2026-10-05 09:20:00,,5,0,0,0,0,abandoned,0\n"
        "c5,A1,general,sideways,1,2026-10-05 09:20:00,2026-10-05 09:19:00,-5,0,0,0,0,,maybe\n"
        "c1,A1,general,inbound,1,2026-10-05 09:20:00,,5,0,0,0,0,,0\n"
        "c6,A1,general,inbound,1,2026-02-30 09:20:00,,5,x,0,0,0,teleported,0\n"
        ",A1,general,inbound,1,,,5,90000,0,0,0,,0\n"
        "c8,A1,general,inbound,1,2026-10-05 09:20:00,,5,30,0,0,0,,0\n"
    )
    batch = _import(bad)
    assert batch.status == ImportBatch.Status.REJECTED
    assert Call.objects.count() == 0
    assert batch.rows_rejected == 6 and batch.rows_total == 9
    found = {(e["line"], e["column"]): e["reason"] for e in batch.errors}
    assert found[(5, "agent_id")] == "unknown agent: no agent has this employee id"
    assert found[(6, "direction")] == "must be one of inbound, outbound"
    assert found[(6, "wait_seconds")] == "negative"
    assert found[(6, "complaint")] == "must be 1 or 0 (yes or no)"
    assert found[(7, "call_id")] == "duplicate, first seen on line 2"
    assert found[(8, "entered_at")].startswith("not a date and time")  # 30 February
    assert found[(8, "talk_seconds")] == "not a duration (seconds, mm:ss or hh:mm:ss)"
    assert found[(8, "outcome")].startswith("must be one of")
    assert found[(9, "call_id")] == "required" and found[(9, "entered_at")] == "required"
    assert found[(9, "talk_seconds")] == "larger than 86400"
    assert found[(10, "talk_seconds")] == "talk time on a call that was not answered"
    # A rule across fields is checked on rows that pass the field rules: line 6's times are wrong too.
    assert batch.message == "6 of 9 rows have errors: nothing was imported."


def test_answered_before_entered_is_an_error(people):
    batch = _import(
        HEADER + "c9,A1,q,inbound,1,2026-10-05 09:20:00,2026-10-05 09:19:00,5,10,0,0,0,,0\n"
    )
    assert batch.errors == [
        {"line": 2, "column": "answered_at", "value": "", "reason": "before entered_at"}
    ]


def test_valid_rows_only_when_hr_chooses_it(people):
    bad = GOOD + "c4,ZZ9,general,inbound,1,2026-10-05 09:20:00,,5,0,0,0,0,abandoned,0\n"
    batch = _import(bad, allow_partial=True)
    assert batch.status == ImportBatch.Status.APPLIED and batch.partial
    assert (batch.rows_created, batch.rows_rejected) == (3, 1)
    assert not Call.objects.filter(external_id="c4").exists()


def test_ten_thousand_rows_with_one_bad_row_import_nothing(people, tmp_path):
    rows = list(
        generate_calls(
            employee_ids=["A1", "A2", "B1"],
            first_day=dt.date(2026, 10, 1),
            days=31,
            calls_per_agent_day=130,
            seed=3,
        )
    )[:10000]
    rows[7345]["wait_seconds"] = "-1"
    path = tmp_path / "big.csv"
    path.write_text("".join(csv_lines(rows)))
    with path.open("rb") as stream:
        batch = facts_import(stream=stream, filename="big.csv", source="acd")
    assert batch.rows_total == 10000 and Call.objects.count() == 0
    assert batch.errors == [
        {"line": 7347, "column": "wait_seconds", "value": "-1", "reason": "negative"}
    ]


def test_gbk_file_with_semicolons_and_chinese_values(people):
    text = HEADER.replace(",", ";") + "c9;A1;综合;呼入;13800000009;2026/10/5 9:00;;3;0;0;0;0;;否\n"
    batch = _import(text, encoding="gbk")
    assert batch.status == ImportBatch.Status.APPLIED, batch.errors
    assert batch.encoding == "gb18030"
    call = Call.objects.get(external_id="c9")
    assert (
        call.queue == "综合"
        and call.direction == Call.Direction.INBOUND
        and call.complaint is False
    )
    assert call.started_at == dt.datetime(2026, 10, 5, 1, 0, tzinfo=dt.UTC)


def test_utf8_with_bom_and_tabs(people):
    batch = _import(GOOD.replace(",", "\t"), encoding="utf-8-sig")
    assert batch.rows_created == 3


def test_xlsx(people):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(HEADER.strip().split(","))
    sheet.append(
        [
            "x1",
            "A1",
            "general",
            "inbound",
            13800000001,
            dt.datetime(2026, 10, 5, 9, 0),
            dt.datetime(2026, 10, 5, 9, 0, 12),
            12,
            200,
            0,
            30,
            0,
            "resolved",
            0,
        ]
    )
    stream = io.BytesIO()
    book.save(stream)
    batch = facts_import(stream=stream, filename="oct.xlsx", source="acd")
    assert batch.status == ImportBatch.Status.APPLIED, batch.errors
    call = Call.objects.get(external_id="x1")
    assert call.talk_seconds == 200 and call.customer_key == customer_key("13800000001")


def test_a_saved_mapping_reads_a_vendors_columns(people):
    mapping = ColumnMapping.objects.create(
        name="vendor-x",
        kind="calls",
        source="vendor-x",
        columns={
            "call_id": "流水号",
            "agent_id": "工号",
            "direction": "呼叫类型",
            "entered_at": "进线时间",
            "answered_at": "接通时间",
            "wait_seconds": "排队时长",
        },
        value_maps={"direction": {"来电": "inbound"}},
    )
    text = "流水号,工号,呼叫类型,进线时间,接通时间,排队时长\nv1,A1,来电,2026-10-05 09:00:00,2026-10-05 09:00:07,7\n"
    batch = facts_import(stream=io.BytesIO(text.encode("gbk")), filename="x.csv", mapping=mapping)
    assert batch.status == ImportBatch.Status.APPLIED, batch.errors
    call = Call.objects.get(source="vendor-x", external_id="v1")
    assert call.wait_seconds == 7 and call.direction == "inbound"


def test_a_header_without_required_columns_is_refused(people):
    with pytest.raises(
        ImportRefused,
        match=r"Line 1: the header lacks the required column\(s\) direction, entered_at",
    ):
        _import("call_id,agent_id\nx,A1\n")
    assert ImportBatch.objects.get().status == ImportBatch.Status.REJECTED


def test_other_kinds_of_facts(people):
    surveys = "survey_id,agent_id,kind,score,answered_at\ns1,A1,csat,5,2026-10-05 10:00\ns2,A1,nps,9,2026-10-05 10:00\n"
    assert _import(surveys, kind="surveys", source="survey-tool").rows_created == 2
    bad = _import(
        "survey_id,agent_id,kind,score,answered_at\ns3,A1,csat,7,2026-10-05 10:00\n",
        kind="surveys",
        source="survey-tool",
    )
    assert bad.errors[0]["reason"].startswith("out of the survey's scale")
    conversions = (
        "conversion_id,agent_id,kind,occurred_at,accepted,amount\nv1,A1,sale,2026-10-06 10:00,,199.90\n"
        "v2,A1,invitation,2026-10-06 11:00,是,\n"
    )
    assert _import(conversions, kind="conversions", source="crm").rows_created == 2
    assert Conversion.objects.get(external_id="v1").amount == D("199.90")
    assert Conversion.objects.get(external_id="v2").accepted is True
    qa = "assessment_id,agent_id,score,assessed_at\nq1,A1,87.5,2026-10-07 12:00\n"
    assert _import(qa, kind="qa", source="qa").rows_created == 1
    assert QaAssessment.objects.get().score == D("87.5")
    work = "agent_id,day,logged_in_seconds,available_seconds\nA1,2026-10-05,28800,25000\nA1,2026-10-06,3600,4000\n"
    refused = _import(work, kind="worktime", source="roster")
    assert refused.errors == [
        {
            "line": 3,
            "column": "available_seconds",
            "value": "",
            "reason": "more than the logged-in time",
        }
    ]
    assert (
        _import(
            work.replace("3600,4000", "3600,3000"), kind="worktime", source="roster"
        ).rows_created
        == 2
    )
    assert WorkTime.objects.count() == 2 and Survey.objects.count() == 2


def test_a_batch_can_be_rolled_back_while_its_month_is_open(people):
    first = _import(GOOD)
    second = _import(
        GOOD.replace(",40,0,0,0,0,abandoned,0", ",40,0,0,0,0,no_answer,0")
        + "c4,A1,general,inbound,1,2026-10-06 09:00:00,,5,0,0,0,0,,0\n"
    )
    assert (second.rows_created, second.rows_updated) == (1, 1)
    with pytest.raises(RollbackRefused, match="roll that import back first"):
        batch_rollback(batch=first)
    batch_rollback(batch=second)
    assert sorted(Call.objects.values_list("external_id", flat=True)) == ["c1", "c2", "c3"]
    c2 = Call.objects.get(external_id="c2")
    assert c2.outcome == "abandoned" and c2.batch == first
    assert ImportBatch.objects.get(pk=second.pk).status == ImportBatch.Status.ROLLED_BACK
    batch_rollback(batch=first)
    assert Call.objects.count() == 0


def test_a_closed_month_refuses_imports_and_rollbacks(people):
    batch = _import(GOOD)
    MonthLock.objects.create(year=2026, month=10)
    with pytest.raises(RollbackRefused, match="closed month 2026-10"):
        batch_rollback(batch=batch)
    with pytest.raises(ImportRefused, match="The month 2026-10 is closed"):
        _import(GOOD, period=(2026, 10))
    late = _import(GOOD.replace("c1,", "c7,"))
    assert late.status == ImportBatch.Status.REJECTED
    assert {e["reason"] for e in late.errors} == {
        "the month 2026-10 is closed: corrections go into the next open month"
    }


def test_rows_outside_the_chosen_month_are_refused(people):
    batch = _import(
        GOOD + "c9,A1,q,inbound,1,2026-11-01 00:30:00,,5,0,0,0,0,,0\n", period=(2026, 10)
    )
    assert batch.errors == [
        {
            "line": 5,
            "column": "entered_at",
            "value": "",
            "reason": "outside the month 2026-10 chosen for this import",
        }
    ]


def test_the_management_command_reports_and_fails_on_errors(people, tmp_path, capsys):
    good = tmp_path / "good.csv"
    good.write_text(GOOD)
    call_command("import_calls", str(good), "--source", "acd", "--user", "hr_admin")
    assert "3 created" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "c7,A1,general,inbound,1,not-a-date,,5,0,0,0,0,,0\n")
    with pytest.raises(CommandError, match="Nothing was imported"):
        call_command("import_calls", str(bad), "--source", "acd", "--user", "hr_admin")
    assert "line 2, column entered_at" in capsys.readouterr().err


def test_memory_stays_flat_whatever_the_file_size(people, tmp_path):
    """The engine streams: four times the rows must not need anything like four times the memory."""

    def peak(rows: int) -> int:
        path = tmp_path / f"{rows}.csv"
        calls = generate_calls(
            employee_ids=["A1", "A2", "B1"],
            first_day=dt.date(2026, 10, 1),
            days=31,
            calls_per_agent_day=rows // 90 + 1,
            seed=rows,
            prefix=f"M{rows}",
        )
        with path.open("w") as out:
            for line in csv_lines(calls):
                out.write(line)
        tracemalloc.start()
        with path.open("rb") as stream:
            batch = facts_import(stream=stream, filename=path.name, source=f"m{rows}")
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert batch.status == ImportBatch.Status.APPLIED, batch.errors[:3]
        return top

    small, large = peak(3000), peak(12000)
    assert large < small * 2, (small, large)


def test_an_unknown_queue_is_an_error_once_queues_are_set_up(people):
    from calls.models import Queue

    assert _import(GOOD).status == ImportBatch.Status.APPLIED  # no queue listed yet: any name goes
    Queue.objects.create(code="general")
    batch = _import(GOOD.replace("c1,", "c1b,").replace("c2,", "c2b,").replace("c3,", "c3b,"))
    assert batch.status == ImportBatch.Status.REJECTED
    assert batch.errors == [
        {
            "line": 4,
            "column": "queue",
            "value": "billing",
            "reason": "unknown queue: not among the queues set up in the administration",
        }
    ]


def test_a_clean_new_file_is_written_by_one_statement_without_the_full_examination(people):
    with CaptureQueriesContext(connection) as queries:
        batch = _import(GOOD)
    assert (batch.rows_created, batch.rows_rejected) == (3, 0)
    assert not [q for q in queries.captured_queries if "CREATE TEMP TABLE imp_bad_" in q["sql"]]


def test_a_file_whose_later_rows_exist_already_falls_back_to_the_full_examination(people):
    # The first row is new, so the one-statement insert is tried; the key of c2 stops it, nothing of
    # the attempt stays, and the full path counts each row once.
    _import(HEADER + GOOD.splitlines(keepends=True)[2])
    fresh = GOOD.replace("c1,", "c0,", 1)
    with CaptureQueriesContext(connection) as queries:
        batch = _import(fresh)
    assert [q for q in queries.captured_queries if "CREATE TEMP TABLE imp_bad_" in q["sql"]]
    assert (batch.rows_created, batch.rows_unchanged, batch.rows_rejected) == (2, 1, 0)
    assert sorted(Call.objects.values_list("external_id", flat=True)) == ["c0", "c2", "c3"]


def test_a_mapping_date_format_reads_day_first_and_chinese_dates(people):
    mapping = ColumnMapping.objects.create(
        name="eu-acd",
        kind="calls",
        source="eu-acd",
        date_format="%d/%m/%Y %H:%M",
    )
    text = HEADER + (
        "e1,A1,general,inbound,,5/10/2026 9:00,05/10/2026 09:01,60,200,0,30,0,resolved,0\n"
        "e2,A1,general,inbound,,2026-10-05 09:10:00,,60,0,0,0,0,abandoned,0\n"
    )
    batch = facts_import(stream=io.BytesIO(text.encode()), filename="eu.csv", mapping=mapping)
    assert batch.status == ImportBatch.Status.APPLIED, batch.errors
    e1 = Call.objects.get(external_id="e1")
    assert e1.started_at == dt.datetime(2026, 10, 5, 1, 0, tzinfo=dt.UTC)  # 09:00 in Shanghai
    assert e1.answered_at == dt.datetime(2026, 10, 5, 1, 1, tzinfo=dt.UTC)

    chinese = ColumnMapping.objects.create(
        name="cn-acd", kind="calls", source="cn-acd", date_format="%Y年%m月%d日 %H:%M:%S"
    )
    text = HEADER + "z1,A1,general,inbound,,2026年10月5日 09:00:07,,7,0,0,0,0,abandoned,0\n"
    batch = facts_import(stream=io.BytesIO(text.encode("gbk")), filename="cn.csv", mapping=chinese)
    assert batch.status == ImportBatch.Status.APPLIED, batch.errors
    assert Call.objects.get(external_id="z1").started_at == dt.datetime(
        2026, 10, 5, 1, 0, 7, tzinfo=dt.UTC
    )


def test_a_date_not_in_the_mappings_format_is_named(people):
    mapping = ColumnMapping.objects.create(
        name="eu-acd", kind="calls", source="eu-acd", date_format="%d/%m/%Y %H:%M"
    )
    text = HEADER + "e1,A1,general,inbound,,31/02/2026 9:00,,60,0,0,0,0,abandoned,0\n"
    batch = facts_import(stream=io.BytesIO(text.encode()), filename="eu.csv", mapping=mapping)
    assert batch.status == ImportBatch.Status.REJECTED
    assert batch.errors == [
        {
            "line": 2,
            "column": "entered_at",
            "value": "2026-02-31 9:00:00",
            "reason": "not a date and time in the mapping's format %d/%m/%Y %H:%M",
        }
    ]
    assert not Call.objects.exists()


@pytest.mark.parametrize(
    ("fmt", "words"),
    [
        ("%d/%m %H:%M", "has no %Y"),
        ("%Y-%m-%d %I", "%I in the date format"),
        ("%Y %m %d %M", "no hours"),
    ],
)
def test_a_bad_date_format_is_refused_when_the_mapping_is_saved(db, fmt, words):
    mapping = ColumnMapping(name="x", kind="calls", source="x", date_format=fmt)
    with pytest.raises(ValidationError) as refused:
        mapping.full_clean()
    assert words in str(refused.value.message_dict["date_format"])


def test_a_number_without_digits_has_no_customer_key(people):
    text = GOOD.replace("138 0000 0001", "anonymous", 1).replace("13800000002", "", 1)
    batch = _import(text)
    assert batch.rows_created == 3
    keys = dict(Call.objects.values_list("external_id", "customer_key"))
    assert keys["c1"] is None and keys["c2"] is None
    assert keys["c3"] == customer_key("13800000003")


def test_a_bad_value_is_quoted_back_cut_to_a_readable_length(people):
    long = "x" * 5000
    text = HEADER + f"c1,{long},general,inbound,,2026-10-05 09:00:00,,0,0,0,0,0,,0\n"
    batch = facts_import(stream=io.BytesIO(text.encode()), filename="long.csv", source="acd")
    (error,) = batch.errors
    assert (error["line"], error["column"]) == (2, "agent_id")
    assert len(error["value"]) == 200 and error["value"] == "x" * 199 + "…"
