"""Calls CSV import: every row or none, errors that name line and column, no duplicates."""

import datetime as dt

import pytest
from django.core.management import CommandError, call_command

from calls.models import Call, ImportBatch
from calls.privacy import customer_key
from calls.services import ImportRefused, calls_import_csv

HEADER = (
    "call_id,agent_id,queue,direction,customer_number,entered_at,answered_at,wait_seconds,"
    "talk_seconds,hold_seconds,acw_seconds,transfers,outcome,complaint\n"
)
GOOD = HEADER + (
    "c1,A1,general,inbound,138 0000 0001,2026-10-05 09:00:00,2026-10-05 09:00:12,12,200,0,30,0,resolved,0\n"
    "c2,A1,general,inbound,13800000002,2026-10-05 09:05:00,,40,0,0,0,0,abandoned,0\n"
    "c3,B1,billing,outbound,13800000003,2026-10-05T09:10:00+08:00,2026-10-05T09:10:05+08:00,5,90,0,10,0,converted,1\n"
)


def test_a_valid_file_imports_every_row(people):
    batch = calls_import_csv(data=GOOD.encode(), filename="oct.csv", source="acd")
    assert batch.status == ImportBatch.Status.APPLIED
    assert (batch.rows_total, batch.rows_created, batch.rows_rejected) == (3, 3, 0)
    c1 = Call.objects.get(external_id="c1")
    assert c1.agent == people.agent_a
    # Naive times are the center's local time (Asia/Shanghai, UTC+8).
    assert c1.started_at == dt.datetime(2026, 10, 5, 1, 0, tzinfo=dt.UTC)
    assert c1.answered_at - c1.started_at == dt.timedelta(seconds=12)
    # The number is kept only as a keyed hash; spaces do not make a different customer.
    assert c1.customer_key == customer_key("13800000001") and "138" not in c1.customer_key
    assert Call.objects.get(external_id="c3").complaint is True


def test_importing_the_same_file_twice_creates_no_duplicates(people):
    calls_import_csv(data=GOOD.encode(), filename="oct.csv", source="acd")
    again = calls_import_csv(data=GOOD.encode(), filename="oct.csv", source="acd")
    assert (again.rows_created, again.rows_updated, again.rows_unchanged) == (0, 0, 3)
    assert Call.objects.count() == 3


def test_a_changed_row_updates_its_call(people):
    calls_import_csv(data=GOOD.encode(), filename="oct.csv", source="acd")
    changed = GOOD.replace(
        "c2,A1,general,inbound,13800000002,2026-10-05 09:05:00,,40,0,0,0,0,abandoned,0",
        "c2,A1,general,inbound,13800000002,2026-10-05 09:05:00,2026-10-05 09:05:40,40,60,0,0,0,resolved,0",
    )
    batch = calls_import_csv(data=changed.encode(), filename="oct-v2.csv", source="acd")
    assert (batch.rows_created, batch.rows_updated, batch.rows_unchanged) == (0, 1, 2)
    c2 = Call.objects.get(external_id="c2")
    assert c2.answered and c2.talk_seconds == 60 and c2.batch == batch


def test_a_file_with_errors_imports_nothing_and_names_line_and_column(people):
    bad = GOOD + (
        "c4,ZZ9,general,inbound,1,2026-10-05 09:20:00,,5,0,0,0,0,abandoned,0\n"
        "c5,A1,general,sideways,1,2026-10-05 09:20:00,2026-10-05 09:19:00,-5,0,0,0,0,,maybe\n"
        "c1,A1,general,inbound,1,2026-10-05 09:20:00,,5,0,0,0,0,,0\n"
    )
    batch = calls_import_csv(data=bad.encode(), filename="bad.csv", source="acd")
    assert batch.status == ImportBatch.Status.REJECTED
    assert Call.objects.count() == 0
    assert batch.rows_rejected == 3
    found = {(e["line"], e["column"]): e for e in batch.errors}
    assert found[(5, "agent_id")]["value"] == "ZZ9"
    assert "unknown agent" in found[(5, "agent_id")]["reason"]
    assert (6, "direction") in found
    assert found[(6, "answered_at")]["reason"] == "before entered_at"
    assert found[(6, "wait_seconds")]["reason"] == "negative"
    assert (6, "complaint") in found
    assert "line 2" in found[(7, "call_id")]["reason"]  # duplicate of the first row


def test_valid_rows_only_when_hr_chooses_it(people):
    bad = GOOD + "c4,ZZ9,general,inbound,1,2026-10-05 09:20:00,,5,0,0,0,0,abandoned,0\n"
    batch = calls_import_csv(
        data=bad.encode(), filename="bad.csv", source="acd", allow_partial=True
    )
    assert batch.status == ImportBatch.Status.APPLIED and batch.partial
    assert (batch.rows_created, batch.rows_rejected) == (3, 1)
    assert not Call.objects.filter(external_id="c4").exists()


def test_gbk_file_with_semicolons_and_chinese_values(people):
    text = (
        HEADER.replace(",", ";")
        + "c9;A1;综合;呼入;13800000009;2026/10/05 09:00:00;;3;0;0;0;0;;否\n"
    )
    batch = calls_import_csv(data=text.encode("gbk"), filename="gbk.csv", source="acd")
    assert batch.status == ImportBatch.Status.APPLIED, batch.errors
    assert batch.encoding == "gb18030"
    call = Call.objects.get(external_id="c9")
    assert call.queue == "综合" and call.direction == Call.Direction.INBOUND


def test_utf8_with_bom(people):
    batch = calls_import_csv(data=GOOD.encode("utf-8-sig"), filename="bom.csv", source="acd")
    assert batch.rows_created == 3


def test_a_header_without_required_columns_is_refused(people):
    with pytest.raises(ImportRefused, match=r"Line 1.*entered_at"):
        calls_import_csv(data=b"call_id,agent_id\nx,A1\n", filename="h.csv", source="acd")


def test_the_management_command_reports_and_fails_on_errors(people, tmp_path, capsys):
    good = tmp_path / "good.csv"
    good.write_text(GOOD)
    call_command("import_calls", str(good), "--source", "acd")
    assert "3 created" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "c7,A1,general,inbound,1,not-a-date,,5,0,0,0,0,,0\n")
    with pytest.raises(CommandError, match="Nothing was imported"):
        call_command("import_calls", str(bad), "--source", "acd")
    assert "line 2, column entered_at" in capsys.readouterr().err
