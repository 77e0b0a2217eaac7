"""A large CSV file on PostgreSQL is loaded and checked in parts by sessions of their own
(``calls.importers.parallel``): the same rows, the same errors on the same lines, nothing left behind.

The parts are cut here from small files by setting the threshold to zero."""

import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from calls.importers import parallel
from calls.models import Call, ImportBatch
from calls.privacy import customer_key
from calls.services import ImportRefused, facts_import

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the parallel load is PostgreSQL's (COPY per session)"
)

HEADER = (
    "call_id,agent_id,queue,direction,customer_number,entered_at,answered_at,wait_seconds,"
    "talk_seconds,hold_seconds,acw_seconds,transfers,outcome,complaint\n"
)


def _rows(count, start=1, agent="A1"):
    return "".join(
        f"p{n:04d},{agent},general,inbound,1380000{n:04d},2026-10-05 09:{n % 60:02d}:00,"
        f"2026-10-05 09:{n % 60:02d}:10,10,100,0,5,0,resolved,0\n"
        for n in range(start, start + count)
    )


@pytest.fixture
def in_parts(settings):
    settings.IMPORT_PARALLEL_BYTES = 0
    settings.IMPORT_WORKERS = 2


def _import(text, **kwargs):
    kwargs.setdefault("source", "acd")
    data = text.encode() if isinstance(text, str) else text
    return facts_import(stream=io.BytesIO(data), filename="big.csv", **kwargs)


def _scratch_tables() -> set[str]:
    """The sessions' tables visible to the test's transaction (those of earlier tests, dropped by their
    rolled-back transactions, are back: the comparison is with the state before)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_class WHERE relkind = 'r' AND relpersistence = 'u' "
            "AND relname LIKE 'imp\\_par\\_%%'"
        )
        return {name for (name,) in cursor.fetchall()}


def test_a_file_in_two_parts_imports_every_row_once(people, in_parts):
    before = _scratch_tables()
    with CaptureQueriesContext(connection) as queries:
        batch = _import(HEADER + _rows(40))
    assert batch.status == ImportBatch.Status.APPLIED and batch.rows_created == 40
    assert Call.objects.filter(source="acd").count() == 40
    call = Call.objects.get(external_id="p0040")  # a row of the second part
    assert call.agent == people.agent_a and call.customer_key == customer_key("13800000040")
    # The parts were read by the sessions: the import's transaction only wrote the facts.
    assert [
        q for q in queries.captured_queries if "imp_par_" in q["sql"] and "UNION ALL" in q["sql"]
    ]
    assert _scratch_tables() <= before  # none of this import's (a sweep may drop older ones)


def test_errors_in_the_second_part_name_the_lines_of_the_whole_file(people, in_parts):
    text = HEADER + _rows(30) + "p0031,ZZ9,general,inbound,1,2026-10-05 09:20:00,,5,0,0,0,0,,0\n"
    text += _rows(8, start=32) + "p0040,A1,general,inbound,1,2026-02-30 09:20:00,,5,0,0,0,0,,0\n"
    before = _scratch_tables()
    batch = _import(text)
    assert batch.status == ImportBatch.Status.REJECTED and Call.objects.count() == 0
    found = {(e["line"], e["column"]): e["reason"] for e in batch.errors}
    assert found[(32, "agent_id")] == "unknown agent: no agent has this employee id"
    # 30 February cannot be read as a time: every part is read again as text, which names it.
    assert found[(41, "entered_at")].startswith("not a date and time")
    assert batch.rows_total == 40 and batch.rows_rejected == 2
    assert _scratch_tables() <= before  # none of this import's (a sweep may drop older ones)


def test_a_cell_holding_a_line_break_is_never_cut(people, in_parts):
    # A quoted queue name full of line breaks straddles the middle of the file: the cut must fall on a
    # line end outside the quotes, or COPY would read half a record.
    queue = "q\n" * 44 + "q"
    middle = f'p0021,A1,"{queue}",inbound,1,2026-10-05 09:20:00,,5,0,0,0,0,,0\n'
    text = HEADER + _rows(10) + middle + _rows(11, start=22)
    data = text.encode()
    opening = data.index(b'"')
    assert (
        opening < len(data) // 2 < data.index(b'"', opening + 1)
    )  # the middle is inside the quotes
    parts = parallel.split(io.BytesIO(data), 0, 2, 0)
    assert parts[0].end == data.index(b"\n", data.index(b'"', opening + 1)) + 1
    assert parts[1].lines_before == data[: parts[0].end].count(b"\n")
    batch = _import(text)
    assert batch.status == ImportBatch.Status.APPLIED and batch.rows_created == 22
    assert Call.objects.get(external_id="p0021").queue == queue
    assert Call.objects.get(external_id="p0032").started_at is not None


def test_a_bad_record_in_the_second_part_is_named_by_its_line_in_the_file(people, in_parts):
    text = HEADER + _rows(30) + "p0031,A1,general\n" + _rows(9, start=32)
    before = _scratch_tables()
    with pytest.raises(ImportRefused) as refused:
        _import(text)
    assert "line 32" in str(refused.value)
    assert _scratch_tables() <= before  # none of this import's (a sweep may drop older ones)


def test_a_small_file_is_loaded_by_the_import_alone(people, settings):
    settings.IMPORT_PARALLEL_BYTES = 1024 * 1024
    with CaptureQueriesContext(connection) as queries:
        batch = _import(HEADER + _rows(40))
    assert batch.rows_created == 40
    assert not [q for q in queries.captured_queries if "imp_par_" in q["sql"]]


def test_the_parts_check_queues_and_closed_months_as_the_imports_transaction_sees_them(
    people, in_parts
):
    # Both are written by this test's transaction, which the parts' sessions cannot see: they get them
    # from the import's transaction.
    from calls.models import MonthLock, Queue

    Queue.objects.create(code="general")
    text = (
        HEADER + _rows(30) + _rows(1, start=31).replace("general", "billing") + _rows(9, start=32)
    )
    batch = _import(text)
    assert batch.status == ImportBatch.Status.REJECTED
    assert [(e["line"], e["column"]) for e in batch.errors] == [(32, "queue")]
    MonthLock.objects.create(year=2026, month=10)
    batch = _import(HEADER + _rows(40), source="other")
    assert batch.status == ImportBatch.Status.REJECTED and batch.rows_rejected == 40
    assert Call.objects.count() == 0


def test_an_import_sweeps_the_tables_of_imports_gone_and_leaves_a_running_ones(people, in_parts):
    """A rolled-back import leaves its scratch tables behind; the next one in parts drops them, unless
    their import still runs (it holds the advisory lock named after it)."""
    from calls.importers.parallel import _connect

    other = _connect()  # outside the test's transaction, like the sessions of another import
    try:
        other.execute(
            "CREATE UNLOGGED TABLE imp_par_1_deadbeef_stage_0 (c text)"
        )  # its import is gone
        other.execute("CREATE UNLOGGED TABLE imp_par_2_cafebabe_stage_0 (c text)")
        other.execute("SELECT pg_advisory_lock(hashtext('imp_par_2_cafebabe'))")  # this one runs
        assert _import(HEADER + _rows(40)).rows_created == 40
        left = {
            name
            for (name,) in other.execute(
                "SELECT relname FROM pg_class WHERE relname LIKE 'imp\\_par\\_%%\\_stage\\_0'"
            )
        }
        assert "imp_par_1_deadbeef_stage_0" not in left and "imp_par_2_cafebabe_stage_0" in left
    finally:
        other.execute("DROP TABLE IF EXISTS imp_par_1_deadbeef_stage_0, imp_par_2_cafebabe_stage_0")
        other.close()
