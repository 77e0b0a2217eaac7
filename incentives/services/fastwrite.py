"""The fast paths of writing a run's statements: tricks the rules in ``statements`` call, kept here.

Each is measured on ``benchmarks/compute_month.py`` (2,000 agents, 12,000 statement lines, PostgreSQL,
this project's 2-core machine), and each has its plain form beside it that SQLite takes:

- ``rows_insert``: COPY instead of ``bulk_create`` (building a model object and an INSERT per row cost
  more than the database's work for tens of thousands of lines), with the ids drawn first from the
  table's sequence by its name (15 ms for 2,000 ids looked up per row, 2.5 ms resolved once). The rows
  go through psycopg's ``Copy.write_row`` (C-accelerated in psycopg's binary package): the hand-written
  COPY text encoder the statement lines had before did not pay (benchmark median 3.54 s a run with it
  against 2.41 s without, ratio to the SQL baseline 3.13 against 3.17: within this machine's noise),
  so there is none.
- ``gc_paused``: the cyclic garbage collector paused while a chunk computes (about 0.1 s a run).
"""

from __future__ import annotations

import contextlib
import functools
import gc
import threading
from collections.abc import Sequence

from django.db import connection

_gc_lock = threading.Lock()
_gc_pauses = 0  # chunks computing now in this process (a threaded worker may run several)
_gc_was_enabled = False


@contextlib.contextmanager
def gc_paused():
    """Python's cyclic garbage collector paused while a chunk computes, and resumed after.

    A chunk of 2,000 agents builds some 100,000 objects (values, rules, lines) that all live until it
    ends and hold no cycles; the collector would walk them, and the whole of Django, again and again
    for nothing: about a tenth of a second of each run. Reference counting still frees everything; a
    cycle made meanwhile waits for the next collection. Nested and concurrent pauses (threads) share
    one count, so the collector resumes when the last one ends, and only if it was running before."""
    global _gc_pauses, _gc_was_enabled
    with _gc_lock:
        if _gc_pauses == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pauses += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pauses -= 1
            if _gc_pauses == 0 and _gc_was_enabled:
                gc.enable()


@contextlib.contextmanager
def copy_into(model, columns: Sequence[str]):
    """A COPY into ``model``'s table of ``columns`` (attribute names), open for writing."""
    # get_field knows a foreign key by its attname too ("statement_id"); otherwise the identity column
    # numbers the rows.
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(model._meta.get_field(n).column) for n in columns)
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy,
    ):
        yield copy


@functools.cache
def _id_sequence(table: str) -> str:
    """The sequence that numbers a table's ids (a schema fact: read once per process)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        return cursor.fetchone()[0]


def ids_draw(model, count: int) -> list[int]:
    """``count`` new ids from ``model``'s table's sequence (PostgreSQL)."""
    with connection.cursor() as cursor:
        # The sequence by its name, which PostgreSQL resolves once: looked up in the query, it is
        # looked up again for every row (15 ms for 2,000 ids against 2.5 ms).
        cursor.execute(
            "SELECT nextval(%s::regclass) FROM generate_series(1, %s)",
            [_id_sequence(model._meta.db_table), count],
        )
        return [row[0] for row in cursor.fetchall()]


def rows_insert(
    model, columns: Sequence[str], rows: Sequence[tuple], *, ids: bool = True
) -> list[int]:
    """Insert new rows (tuples in the order of ``columns``) and return their ids in order (none with
    ``ids=False``): by COPY on PostgreSQL, ids drawn first; elsewhere ``bulk_create``."""
    if not rows:
        return []
    if connection.vendor != "postgresql":
        created = model.objects.bulk_create(
            [model(**dict(zip(columns, row, strict=True))) for row in rows]
        )
        return [obj.pk for obj in created]
    numbers: list[int] = []
    if ids:
        numbers = ids_draw(model, len(rows))
        columns = ("id", *columns)
        rows = [(pk, *row) for pk, row in zip(numbers, rows, strict=True)]
    with copy_into(model, columns) as copy:
        for row in rows:
            copy.write_row(row)
    return numbers
