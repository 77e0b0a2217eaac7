"""Mappings that read real exports: Asterisk's Master.csv and FreeSWITCH's CDR CSV as they write them
(no header, a row per leg, durations instead of an answer time), a generic ACD export with an answered
flag; positions, constants, patterns, a date and a time column, computed fields, folded legs and
duplicate lines; a missing column refused before anything is written; an absent one unknown, never 0.

The files under ``data/cdr`` are written in the formats of Asterisk's ``cdr_csv`` (``cdr/cdr_csv.c``:
strings quoted, durations bare, an unset time empty) and FreeSWITCH's ``mod_cdr_csv`` default template.
"""

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from calls import selectors
from calls.importers.formats import READY_MADE
from calls.metrics import metric_values
from calls.models import Call, ColumnMapping, ImportBatch, Survey
from calls.privacy import customer_key
from calls.services import ImportRefused, facts_import
from tests.factories import AgentFactory

DATA = Path(__file__).parent / "data" / "cdr"
UTC = dt.UTC


def at(hour, minute, second=0):
    """A time on 5 October 2026 in Shanghai (UTC+8)."""
    return dt.datetime(2026, 10, 5, hour - 8, minute, second, tzinfo=UTC)


DAY = (
    dt.datetime(2026, 10, 4, 16, tzinfo=UTC),
    dt.datetime(2026, 10, 5, 16, tzinfo=UTC),
)  # the 5th


@pytest.fixture
def extensions(db):
    return {ext: AgentFactory(employee_id=ext) for ext in ("301", "302", "303")}


def _import_file(name, mapping, **kwargs):
    with (DATA / name).open("rb") as stream:
        return facts_import(stream=stream, filename=name, mapping=mapping, **kwargs)


def test_the_ready_made_mappings_are_there_and_valid(db):
    for name in READY_MADE:
        mapping = ColumnMapping.objects.get(name=name)
        mapping.full_clean()


def test_asterisk_master_csv_folds_a_calls_legs(extensions):
    batch = _import_file(
        "asterisk-Master.csv", ColumnMapping.objects.get(name="asterisk-master-csv")
    )
    assert batch.status == ImportBatch.Status.APPLIED, batch.errors
    # 7 lines: 4 calls, a leg folded into its call twice, and the last line a repeat of line 5.
    assert (batch.rows_total, batch.rows_created, batch.rows_folded, batch.rows_rejected) == (
        7,
        4,
        3,
        0,
    )
    rang_twice = Call.objects.get(source="asterisk", external_id="1759626000.1")
    # Rang 302 for 15 s (no answer), then 301 answered 12 s into its own leg: 27 s from the first ring.
    assert rang_twice.agent == extensions["301"]
    assert (rang_twice.started_at, rang_twice.answered_at) == (at(9, 0), at(9, 0, 27))
    assert (rang_twice.wait_seconds, rang_twice.talk_seconds, rang_twice.transfers) == (27, 200, 0)
    assert rang_twice.customer_key == customer_key("13800000001")
    abandoned = Call.objects.get(external_id="1759626600.4")
    assert (abandoned.agent, abandoned.answered_at, abandoned.wait_seconds, abandoned.outcome) == (
        None,
        None,
        40,
        "no_answer",
    )
    transferred = Call.objects.get(external_id="1759627200.5")
    # The first answered leg is kept (301); the talk of both legs, one transfer; line 7 repeated line 5.
    assert (transferred.agent, transferred.talk_seconds, transferred.transfers) == (
        extensions["301"],
        150,
        1,
    )
    assert transferred.wait_seconds == 5 and transferred.direction == "inbound"
    busy = Call.objects.get(external_id="1759627800.8")
    assert (busy.agent, busy.answered_at, busy.outcome) == (extensions["302"], None, "no_answer")
    # 302 was rung on two calls and answered neither; the ring of the first is no call of 302's.
    start, end = DAY
    rates = metric_values(
        "answer_rate", agent_ids=[a.pk for a in extensions.values()], start=start, end=end
    )
    assert (rates[extensions["301"].pk].numerator, rates[extensions["301"].pk].denominator) == (
        2,
        2,
    )
    assert (rates[extensions["302"].pk].numerator, rates[extensions["302"].pk].denominator) == (
        0,
        1,
    )
    again = _import_file(
        "asterisk-Master.csv", ColumnMapping.objects.get(name="asterisk-master-csv")
    )
    assert (again.rows_created, again.rows_updated, again.rows_unchanged) == (0, 0, 4)


def test_a_leg_with_an_error_refuses_its_whole_call(extensions):
    text = (DATA / "asterisk-Master.csv").read_text().replace("212,200", "212,x")
    mapping = ColumnMapping.objects.get(name="asterisk-master-csv")
    batch = facts_import(
        stream=io.BytesIO(text.encode()), filename="Master.csv", mapping=mapping, allow_partial=True
    )
    found = {(e["line"], e["column"]): e["reason"] for e in batch.errors}
    assert found[(2, "talk_seconds")].startswith("not a duration")
    assert found[(1, "call_id")] == "another leg of this call has an error, on line 2"
    assert not Call.objects.filter(external_id="1759626000.1").exists()
    assert Call.objects.filter(source="asterisk").count() == 3


def test_freeswitch_cdr_csv(extensions):
    batch = _import_file(
        "freeswitch-Master.csv", ColumnMapping.objects.get(name="freeswitch-cdr-csv")
    )
    assert (batch.status, batch.rows_created) == (ImportBatch.Status.APPLIED, 3), batch.errors
    answered = Call.objects.get(
        source="freeswitch", external_id="a5c9f6c0-e752-11e3-8bfb-65b6c3cdac7d"
    )
    assert (answered.agent, answered.answered_at, answered.wait_seconds, answered.talk_seconds) == (
        extensions["301"],
        at(9, 0, 8),
        8,
        120,
    )
    cancelled = Call.objects.get(external_id="e2fe712e-e752-11e3-8c03-65b6c3cdac7d")
    assert (cancelled.answered_at, cancelled.wait_seconds) == (None, 4)
    assert cancelled.customer_key == customer_key("8613800000003")


def test_an_acd_export_with_an_answered_flag_and_no_answer_time(extensions):
    mapping = ColumnMapping.objects.get(name="acd-answered-flag")
    batch = _import_file("acd-answered-flag.csv", mapping, allow_partial=True)
    assert batch.errors == [
        {
            "line": 5,
            "column": "wait_seconds",
            "value": "",
            "reason": "an answered call needs its wait: the answer is the entry plus the wait",
        },
    ]
    g1, g2, g3 = (Call.objects.get(source="acd", external_id=i) for i in ("g1", "g2", "g3"))
    assert (g1.started_at, g1.answered_at, g1.talk_seconds, g1.direction) == (
        at(9, 0),
        at(9, 0, 12),
        200,
        "inbound",
    )
    assert (g2.answered_at, g2.wait_seconds) == (None, 40)
    assert (g3.started_at, g3.answered_at, g3.talk_seconds) == (at(9, 10), at(9, 10, 5), 95)


def test_the_preview_reads_as_the_import_does(extensions):
    mapping = ColumnMapping.objects.get(name="asterisk-master-csv")
    upload = SimpleUploadedFile("Master.csv", (DATA / "asterisk-Master.csv").read_bytes())
    preview = selectors.upload_preview(uploaded=upload, kind="calls", mapping=mapping)
    heads = dict(preview["columns"])
    assert (
        heads["agent_id"] == "7 ~ ^[A-Za-z0-9]+/([^-@/;]+)" and heads["wait_seconds"] == "13 − 14"
    )
    assert heads["direction"] == "= 'inbound'" and heads["answered_at"].startswith(
        "entered_at + wait"
    )
    first = dict(zip([name for name, _ in preview["columns"]], preview["rows"][1], strict=True))
    assert (first["agent_id"], first["wait_seconds"], first["answered"]) == ("301", "12", "1")
    # The answer as the import computes it: the leg's start plus its wait, in UTC.
    assert first["answered_at"] == "2026-10-05 01:00:27.000000Z"
    assert "queue" in preview["absent"] and "1" in preview["unmapped"]


def test_a_constant_makes_every_row_a_csat_answer(people):
    mapping = ColumnMapping.objects.create(
        name="csat-tool",
        kind="surveys",
        source="csat-tool",
        columns={
            "survey_id": "id",
            "agent_id": "agent",
            "kind": {"constant": "CSAT"},
            "score": "stars",
            "answered_at": "when",
        },
    )
    text = "id,agent,stars,when\ns1,A1,5,2026-10-05 10:00\ns2,A1,4,2026-10-05 10:05\n"
    batch = facts_import(stream=io.BytesIO(text.encode()), filename="csat.csv", mapping=mapping)
    assert batch.rows_created == 2, batch.errors
    assert set(Survey.objects.values_list("kind", flat=True)) == {"csat"}


def test_a_value_map_that_puts_text_into_a_number_names_the_row(people):
    """On PostgreSQL this crashed with "invalid input syntax for type integer"."""
    mapping = ColumnMapping.objects.create(
        name="survey-words",
        kind="surveys",
        source="survey-words",
        value_maps={"score": {"very satisfied": "five", "satisfied": "4"}},
    )
    text = (
        "survey_id,agent_id,kind,score,answered_at\ns1,A1,csat,very satisfied,2026-10-05 10:00\n"
        "s2,A1,csat,satisfied,2026-10-05 10:00\n"
    )
    batch = facts_import(stream=io.BytesIO(text.encode()), filename="s.csv", mapping=mapping)
    assert batch.status == ImportBatch.Status.REJECTED
    assert batch.errors == [
        {"line": 2, "column": "score", "value": "five", "reason": "not a whole number"}
    ]


def test_a_pattern_that_does_not_match_is_named(extensions):
    mapping = ColumnMapping.objects.get(name="asterisk-master-csv")
    text = (DATA / "asterisk-Master.csv").read_text().replace("SIP/302-00000009", "weird channel")
    batch = facts_import(stream=io.BytesIO(text.encode()), filename="Master.csv", mapping=mapping)
    assert batch.status == ImportBatch.Status.REJECTED
    assert batch.errors == [
        {
            "line": 6,
            "column": "agent_id",
            "value": "",
            "reason": "does not match the mapping's pattern ^[A-Za-z0-9]+/([^-@/;]+)",
        },
    ]


def test_a_column_the_mapping_names_must_be_in_the_file(people):
    mapping = ColumnMapping.objects.create(
        name="talky",
        kind="calls",
        source="talky",
        columns={"talk_seconds": "talk", "answered_at": "answered_at"},
    )
    text = "call_id,direction,entered_at,answered_at\nt1,inbound,2026-10-05 09:00,\n"
    with pytest.raises(
        ImportRefused,
        match=r"lacks the column\(s\) the mapping names: talk_seconds \(column 'talk'\)",
    ):
        facts_import(stream=io.BytesIO(text.encode()), filename="t.csv", mapping=mapping)
    assert not Call.objects.exists()
    assert ImportBatch.objects.get().status == ImportBatch.Status.REJECTED


def test_a_file_without_a_header_names_columns_by_position(people):
    mapping = ColumnMapping.objects.create(
        name="no-header",
        kind="calls",
        source="nh",
        has_header=False,
        columns={
            "call_id": "id",
            "direction": {"constant": "inbound"},
            "entered_at": 2,
            "answered_at": 3,
        },
    )
    with pytest.raises(
        ImportRefused,
        match="no header line: the mapping must name call_id's column by its position",
    ):
        facts_import(
            stream=io.BytesIO(b"n1,2026-10-05 09:00,\n"), filename="n.csv", mapping=mapping
        )
    mapping.columns["call_id"] = 1
    mapping.columns["talk_seconds"] = 9
    mapping.save()
    with pytest.raises(ImportRefused, match=r"talk_seconds \(column 9; the file has 3\)"):
        facts_import(
            stream=io.BytesIO(b"n1,2026-10-05 09:00,\n"), filename="n.csv", mapping=mapping
        )
    del mapping.columns["talk_seconds"]
    mapping.save()
    batch = facts_import(
        stream=io.BytesIO(b"n1,2026-10-05 09:00,\n"), filename="n.csv", mapping=mapping
    )
    assert batch.rows_created == 1 and Call.objects.get().external_id == "n1"


def test_an_absent_optional_column_is_unknown_not_zero(people):
    text = "call_id,agent_id,direction,entered_at,answered_at\nu1,A1,inbound,2026-10-05 09:00:00,2026-10-05 09:00:05\n"
    batch = facts_import(stream=io.BytesIO(text.encode()), filename="u.csv", source="acd")
    assert batch.rows_created == 1, batch.errors
    call = Call.objects.get()
    assert (
        call.talk_seconds,
        call.hold_seconds,
        call.acw_seconds,
        call.transfers,
        call.complaint,
    ) == (None,) * 5
    # The wait is the answer less the entry; the talk is unknown, so is the AHT — never 0 s.
    assert call.wait_seconds == 5
    values = metric_values("aht", agent_ids=[people.agent_a.pk], start=DAY[0], end=DAY[1])
    assert people.agent_a.pk not in values
    asa = metric_values("asa", agent_ids=[people.agent_a.pk], start=DAY[0], end=DAY[1])
    assert asa[people.agent_a.pk].value == 5
    complaints = metric_values(
        "complaint_rate", agent_ids=[people.agent_a.pk], start=DAY[0], end=DAY[1]
    )
    assert people.agent_a.pk not in complaints


def test_a_line_repeated_exactly_is_folded_and_a_different_one_refused(people):
    header = "call_id,agent_id,direction,entered_at,answered_at,wait_seconds,talk_seconds\n"
    line = "d1,A1,inbound,2026-10-05 09:00:00,2026-10-05 09:00:05,5,60\n"
    batch = facts_import(
        stream=io.BytesIO((header + line + line).encode()), filename="d.csv", source="acd"
    )
    assert (batch.status, batch.rows_created, batch.rows_folded) == (
        ImportBatch.Status.APPLIED,
        1,
        1,
    )
    changed = line.replace(",60", ",61")
    refused = facts_import(
        stream=io.BytesIO((header + line + changed).encode()), filename="e.csv", source="acd2"
    )
    assert refused.errors == [
        {"line": 3, "column": "call_id", "value": "d1", "reason": "duplicate, first seen on line 2"}
    ]


def test_computed_fields_minus_and_plus_seconds(people):
    mapping = ColumnMapping.objects.create(
        name="durations",
        kind="calls",
        source="durations",
        columns={
            "call_id": "id",
            "agent_id": "agent",
            "direction": {"constant": "inbound"},
            "entered_at": "start",
            "wait_seconds": {"minus": ["duration", "billsec"]},
            "talk_seconds": "billsec",
            "answered_at": {"plus_seconds": [{"field": "entered_at"}, {"field": "wait_seconds"}]},
        },
    )
    text = "id,agent,start,duration,billsec\nm1,A1,2026-10-05 09:00:00,0:03:32,200\nm2,A1,2026-10-05 09:10:00,3,9\n"
    batch = facts_import(
        stream=io.BytesIO(text.encode()), filename="m.csv", mapping=mapping, allow_partial=True
    )
    assert batch.errors == [
        {"line": 3, "column": "wait_seconds", "value": "-6", "reason": "negative"}
    ]
    call = Call.objects.get(external_id="m1")
    assert (call.wait_seconds, call.talk_seconds, call.answered_at) == (12, 200, at(9, 0, 12))


@pytest.mark.parametrize(
    ("columns", "words"),
    [
        ({"call_idd": "x"}, "calls have no field call_idd"),
        ({"call_id": {"column": "a", "constant": "b"}}, "give exactly one of column, constant"),
        ({"agent_id": {"column": 7, "pattern": "([0-9]+)-([0-9]+)"}}, "has 2 groups"),
        ({"agent_id": {"column": 7, "pattern": r"\d+"}}, "the pattern .* uses"),
        ({"agent_id": {"column": 7, "pattern": "(["}}, "is not a regular expression"),
        ({"call_id": 0}, "a column is its name or its position"),
        ({"wait_seconds": {"minus": ["a"]}}, "minus takes two operands"),
        (
            {
                "wait_seconds": {"minus": [{"field": "talk_seconds"}, "b"]},
                "talk_seconds": {"minus": [{"field": "wait_seconds"}, "b"]},
            },
            "computed from each other",
        ),
    ],
)
def test_a_mapping_that_cannot_be_read_is_refused_when_saved(db, columns, words):
    mapping = ColumnMapping(name="broken", kind="calls", source="x", columns=columns)
    with pytest.raises(ValidationError, match=words):
        mapping.full_clean()


def test_a_line_cut_short_is_named_with_its_column(people):
    header = "call_id,agent_id,direction,entered_at,answered_at,talk_seconds\n"
    text = header + "c1,A1,inbound,2026-10-05 09:00,,0\nc2,A1,inb"
    with pytest.raises(
        ImportRefused, match=r"line 3.*missing data for column 'entered_at'.*cut short"
    ):
        facts_import(stream=io.BytesIO(text.encode()), filename="cut.csv", source="acd")
    batch = ImportBatch.objects.get()
    assert batch.status == ImportBatch.Status.REJECTED and batch.errors[0]["line"] == 3
    assert not Call.objects.exists()


def test_an_echoed_value_is_cut(people):
    huge = "x" * 100_000
    text = f"call_id,agent_id,direction,entered_at,answered_at\nc1,A1,{huge},2026-10-05 09:00,\n"
    batch = facts_import(stream=io.BytesIO(text.encode()), filename="big.csv", source="acd")
    assert batch.errors[0]["column"] == "direction" and len(batch.errors[0]["value"]) == 200


def test_the_import_docs_say_which_fields_are_required():
    """docs/imports.md lists every field of every kind, required exactly where the import requires it."""
    from calls.importers.facts import KINDS

    doc = (Path(__file__).parents[2] / "docs" / "imports.md").read_text()
    listed = {}
    for line in doc.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 4 and cells[0] in KINDS and cells[1].startswith("`"):
            listed[(cells[0], cells[1].strip("`"))] = cells[2]
    expected = {}
    for kind in KINDS.values():
        needed = {name for name, _hint in kind.needs}
        for f in kind.fields:
            expected[(kind.code, f.name)] = (
                "required" if f.required or f.name in needed else "optional"
            )
    assert listed == expected


def test_a_spreadsheet_row_without_its_empty_last_cells_is_not_cut_short(people):
    """XLSX leaves a row's empty cells at its end out; the row is padded (a CSV line is refused)."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["call_id", "agent_id", "direction", "entered_at", "answered_at", "outcome"])
    sheet.append(["x1", "A1", "inbound", dt.datetime(2026, 10, 5, 9, 0), None, "abandoned"])
    sheet.append(["x2", "A1", "inbound", dt.datetime(2026, 10, 5, 9, 5)])
    saved = io.BytesIO()
    book.save(saved)
    # As exporters write it that give no dimension: openpyxl then reads each row as long as it is.
    stream = io.BytesIO()
    with zipfile.ZipFile(saved) as source, zipfile.ZipFile(stream, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(rb"<dimension [^>]*/>", b"", data)
            target.writestr(item, data)
    batch = facts_import(stream=stream, filename="ragged.xlsx", source="acd")
    assert (batch.status, batch.rows_created) == (ImportBatch.Status.APPLIED, 2), batch.errors
    assert Call.objects.get(external_id="x2").outcome == ""


def test_a_folded_call_is_checked_against_a_locked_month_as_one_fact(extensions):
    """Legs are compared with the stored call once folded: the same file again passes an approved
    month; a changed leg refuses its whole call, by the month's rule."""
    from calls.models import MonthLock

    mapping = ColumnMapping.objects.get(name="asterisk-master-csv")
    _import_file("asterisk-Master.csv", mapping)
    MonthLock.objects.create(year=2026, month=10, state=MonthLock.State.APPROVED)
    again = _import_file("asterisk-Master.csv", mapping)
    assert (again.status, again.rows_unchanged, again.rows_rejected) == (
        ImportBatch.Status.APPLIED,
        4,
        0,
    )
    text = (DATA / "asterisk-Master.csv").read_text().replace("212,200", "212,201")
    changed = facts_import(stream=io.BytesIO(text.encode()), filename="Master.csv", mapping=mapping)
    found = {(e["line"], e["column"]): e["reason"] for e in changed.errors}
    assert found[(2, "entered_at")].startswith("the month 2026-10 is approved")
    assert found[(1, "call_id")] == "another leg of this call has an error, on line 2"
    assert Call.objects.get(external_id="1759626000.1").talk_seconds == 200
