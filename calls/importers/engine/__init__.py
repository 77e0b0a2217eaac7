"""The import engine: a file into staging, every row checked and upserted by set-based SQL.

1. The file goes into a temporary staging table of text columns (``staging``): on PostgreSQL by COPY
   straight from the raw bytes, a large file in parts by sessions of their own; elsewhere row by row.
2. A view reads the fact's fields from it through the column mapping (``views``, ``mapping``).
3. The common case, a file whose every row is valid and new, is inserted by one statement that applies
   every rule as a filter (``writing.clean_rows``; on PostgreSQL by the field grammar's fast forms): if
   it inserts every row, the import is done. Otherwise it is rolled back to its savepoint, and
4. one scan finds the bad lines; only those are examined again to say which column and why (``checks``);
5. the valid rows (a call's legs folded into one, where the mapping says so) are compared with the facts
   already there, keyed by source and id: changed facts are recorded (before and after) and updated,
   new ones inserted, unchanged ones left alone — three statements, whatever the number of rows.

The same statements run on SQLite, where Python functions registered on the connection (the grammar's
parsers) stand in for PostgreSQL's regular expressions, time zones and SHA-256. Memory stays flat:
nothing holds the file, and at most the first ``MAX_STORED_ERRORS`` errors are kept. Every failure is an
error that names the file line, the column and the reason; a statement that fails rolls back to the
engine's savepoint first, so the clean-up runs and never hides the cause.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg
from django.conf import settings
from django.db import DataError, connection, transaction
from psycopg.errors import DataError as PsycopgDataError

from calls.importers import mapping, parallel
from calls.importers.engine import checks, staging, views, writing
from calls.importers.engine.dialects import Postgres, dialect
from calls.importers.facts import FactKind
from calls.importers.grammar import quote as quote
from calls.importers.sources import FileError, Source
from calls.models import Call, MonthLock, Queue
from calls.privacy import customer_mask

logger = logging.getLogger(__name__)
MAX_STORED_ERRORS = 1000  # the report keeps the first thousand; the count keeps them all


@dataclass
class Outcome:
    total: int = 0
    rejected: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    folded: int = 0  # lines folded into another: a call's further legs, a line repeated exactly
    errors: list[dict] = field(default_factory=list)


@dataclass
class Import:
    """One file on its way in: what it is, how it reads, and the names of its scratch tables."""

    kind: FactKind
    source: Source
    source_name: str
    batch_id: int
    reading: mapping.Reading
    dialect: Postgres
    tz: str
    period: tuple[int, int] | None = None
    fold_legs: bool = False
    suffix: str = field(default_factory=lambda: uuid.uuid4().hex[:12])

    def table(self, what: str) -> str:
        return f"imp_{what}_{self.suffix}"

    @property
    def targets(self) -> list[str]:
        return [f.target for f in self.kind.fields if f.target]

    @property
    def agent_field(self) -> str:
        return next((f.name for f in self.kind.fields if f.kind == "agent"), "")

    @property
    def agent_table(self) -> str:
        # Through the key: calls never imports incentives.
        agent = Call._meta.get_field("agent").related_model
        assert not isinstance(agent, str)  # resolved once the apps are loaded
        return agent._meta.db_table

    def month_bounds(self, year: int, month: int):
        """[start, end) of a month for the kind's period field, as parameters comparable with the stored
        column (SQLite keeps naive UTC text)."""
        return tuple(_db_time(moment) for moment in self.kind.month_range(year, month))

    def locked_months(self) -> list[tuple]:
        """[start, end) of every month no import may touch (approved or closed)."""
        return [self.month_bounds(lock.year, lock.month) for lock in MonthLock.objects.all()]


def _db_time(moment):
    if connection.vendor == "sqlite" and isinstance(moment, dt.datetime):
        return moment.astimezone(dt.UTC).replace(tzinfo=None).isoformat(sep=" ")
    return moment


def run(
    *,
    kind: FactKind,
    source: Source,
    source_name: str,
    batch_id: int,
    columns: dict | None = None,
    value_maps: dict | None = None,
    time_zone: str | None = None,
    date_format: str = "",
    period: tuple[int, int] | None = None,
    allow_partial: bool = False,
    fold_legs: bool = False,
    progress: Callable[[str, int], None] | None = None,
    write: bool = True,
) -> Outcome:
    """Validate and (unless refused) upsert one file. Call inside the batch's transaction.

    With errors and ``allow_partial=False`` nothing is written to the facts. ``period`` (year, month)
    refuses rows outside that month. Rows in an approved or closed month (``MonthLock``), and rows that
    would change a fact stored in one, are always refused. A file
    that lacks a column the mapping names, or that its kind needs, is refused before anything is read
    (``FileError``, naming the column). ``fold_legs``: rows of one call id are the legs of one call.
    ``write=False`` only names the errors (the caller found others before: nothing may be written).
    Errors name the file's lines (``source.file_line``: a queue_log row is named by the event that
    finished it).
    """
    reading = mapping.read(
        kind,
        source.header,
        columns=columns,
        value_maps=value_maps,
        has_header=source.has_header,
        date_format=date_format,
    )
    imp = Import(
        kind=kind,
        source=source,
        source_name=source_name,
        batch_id=batch_id,
        reading=reading,
        dialect=dialect(),
        tz=time_zone or settings.TIME_ZONE,
        period=period,
        fold_legs=fold_legs,
    )
    notify = progress or (lambda phase, rows: None)
    file_parts = staging.parts(imp.dialect, source)
    sessions = None
    if file_parts:
        try:
            sessions = parallel.Sessions(len(file_parts))
        except psycopg.OperationalError as exc:  # no connection to spare: the import's own will do
            logger.warning("Importing %s in one session: %s", source.filename, exc)
    scratch: list[str] = []  # the sessions' tables, dropped by the import's transaction at the end
    try:
        with connection.cursor() as cursor:
            try:
                # A savepoint: a statement that fails rolls back to here, so the clean-up below can run
                # and the cause reaches the caller instead of "current transaction is aborted".
                with transaction.atomic():
                    return _run(
                        cursor, imp, sessions, file_parts, scratch, notify, allow_partial, write
                    )
            finally:
                _clean_up(cursor, imp, sessions, scratch)
    finally:
        if sessions:
            sessions.close()


def _run(
    cursor, imp: Import, sessions, file_parts, scratch, notify, allow_partial, write
) -> Outcome:
    stage, mapped = imp.table("stage"), imp.table("map")
    if imp.dialect.vendor == "postgresql":  # the fast forms compare with PostgreSQL's own writing
        cursor.execute("SET LOCAL DateStyle = 'ISO, YMD'")
    notify("loading", 0)
    if sessions:
        total, tables = staging.load_parts(
            cursor, imp.dialect, sessions, file_parts, stage, imp.source
        )
        scratch += tables
    else:
        total = staging.load(cursor, imp.dialect, stage, imp.source, notify)
    outcome = Outcome(total=total)
    if total == 0:
        raise FileError(
            f"{imp.source.filename} has no rows"
            + (" under its header." if imp.source.has_header else ".")
        )
    notify("validating", total)
    views.create_mapped_view(cursor, imp, stage, mapped)
    notify("writing", total)
    if (
        write
        and not imp.fold_legs
        and not _first_row_exists(cursor, imp, mapped)
        and _write_if_clean(cursor, imp, sessions, file_parts, mapped, scratch, total)
    ):
        outcome.created = total
        return outcome
    notify("validating", total)
    # The examination reads values by the fast forms where it can, as the insert did; a value of no form
    # at all makes a cast raise, and the examination starts again the careful way (the same verdicts,
    # more slowly: the fast forms only spare the grammar's regular expressions for canonical values).
    for fast in (True, False) if imp.dialect.vendor == "postgresql" else (False,):
        try:
            with transaction.atomic():
                return _examine(
                    cursor, imp, mapped, outcome, allow_partial, notify, write, fast=fast
                )
        except DataError:
            if not fast:
                raise
            outcome = Outcome(total=total)
    raise AssertionError("unreachable")  # pragma: no cover


def _examine(cursor, imp, mapped, outcome, allow_partial, notify, write, *, fast) -> Outcome:
    """Name every bad line, then write the valid ones (``allow_partial``) or none."""
    rows, bad, errs, folded = (imp.table(n) for n in ("rows", "bad", "err", "fold"))
    views.create_rows_table(cursor, imp, mapped, rows, fast=fast)
    checks.find_bad_lines(cursor, imp, rows, bad, errs, folded, imp.table("dups"))
    cursor.execute(f"INSERT INTO {bad} SELECT line FROM {folded}")  # folded lines are not written
    typed = views.typed_rows(imp, rows, bad)
    checks.row_checks(cursor, imp, typed, errs)
    cursor.execute(f"SELECT count(*) FROM {folded}")
    outcome.folded = cursor.fetchone()[0]
    written = typed
    if imp.fold_legs:
        writing.reject_whole_calls(cursor, imp, rows, errs)
        written = imp.table("legs")
        valid = f"(SELECT * FROM {typed} t WHERE NOT EXISTS (SELECT 1 FROM {errs} r WHERE r.line = t.line))"
        writing.create_folded_view(cursor, imp, valid, written)
    checks.month_checks(cursor, imp, written, errs, imp.period)
    if imp.fold_legs:  # a call refused for its month is refused whole, all its legs
        writing.reject_whole_calls(cursor, imp, rows, errs)
        cursor.execute(
            f"SELECT (SELECT count(*) FROM {valid} v) - (SELECT count(*) FROM {written})"
        )
        outcome.folded += cursor.fetchone()[0]
    cursor.execute(f"SELECT count(DISTINCT line) FROM {errs}")
    outcome.rejected = cursor.fetchone()[0]
    cursor.execute(
        f"SELECT line, col, substr(val, 1, {mapping.MAX_ECHO}), length(val), reason, ref FROM {errs} "
        f"ORDER BY line, col LIMIT {MAX_STORED_ERRORS}"
    )
    outcome.errors = _errors_of(imp, cursor.fetchall())
    if not write or (outcome.rejected and not allow_partial):
        return outcome
    notify("writing", outcome.total)
    writing.upsert(cursor, imp, written, errs, imp.table("old"), outcome)
    outcome.unchanged = (
        outcome.total - outcome.rejected - outcome.folded - outcome.created - outcome.updated
    )
    return outcome


def _errors_of(imp: Import, found) -> list[dict]:
    """The error rows as the report keeps them: by the file's lines, a value cut to a readable length,
    a line another refers to (a duplicate's first) said as a line of the file too. A customer's number
    is masked (``calls.privacy.customer_mask``): the report is kept, shown and downloaded, and the
    number is kept nowhere."""
    source = imp.source
    private = _customer_fields(imp.reading)
    errors = []
    for line, column, value, length, reason, ref in found:
        if ref is not None:
            reason = f"{reason} {source.file_line(ref)}"
        said = mapping.echo(value or "", length or 0)
        errors.append(
            {
                "line": source.file_line(line),
                "column": column,
                "value": customer_mask(said) if column in private else said,
                "reason": reason,
            }
        )
    return sorted(errors, key=lambda e: (e["line"], e["column"]))


def _customer_fields(reading: mapping.Reading) -> set[str]:
    """The fields whose values may be a customer's number: the customer's own, and any the mapping reads
    from the same column of the file (a mapping off by a column reads numbers as agents)."""

    def columns(rule) -> set[int]:
        used = (rule.column, rule.date, rule.time, *rule.operands())
        return {c.position for c in used if isinstance(c, mapping.Column) and c.position}

    customers = {name for name in reading.rules if reading.kind.field(name).kind == "customer"}
    held = set().union(*(columns(reading.rules[name]) for name in customers))
    return customers | {name for name, rule in reading.rules.items() if columns(rule) & held}


def _write_if_clean(cursor, imp, sessions, file_parts, mapped, scratch, total) -> bool:
    """The one-statement insert of a clean, new file; False (nothing written) when any row is not."""
    fast = imp.dialect.vendor == "postgresql"
    if sessions:
        scratch += [sessions.table("rows", i) for i in range(len(file_parts))]
        try:
            rows = _clean_parts(cursor, imp, sessions, len(file_parts), fast=fast)
        except PsycopgDataError:  # a value of no form at all: the careful way says which
            return False
        return writing.insert_if_clean(cursor, imp, rows, total, final=True)
    return writing.insert_if_clean(cursor, imp, writing.clean_rows(imp, mapped, fast=fast), total)


def _clean_parts(cursor, imp, sessions, count: int, *, fast: bool) -> str:
    """Each session computes its part's final rows (``clean_rows`` then ``final_rows``) into a table, in
    key order; returns the SELECT of them all, part after part.

    The sessions see only what is committed, so the agents and queues, as the import's transaction sees
    them, are copied to each session first (thousands of rows, against a million calls)."""
    cursor.execute(f"SELECT employee_id, id FROM {imp.agent_table}")
    agents = cursor.fetchall()
    queues = list(Queue.objects.values_list("code", flat=True))
    # The statements are written here: what they read of our tables (closed months, whether queues are
    # listed) is read by the import's transaction, not by a thread's connection of its own.
    statements = [
        writing.final_rows(
            imp,
            writing.clean_rows(imp, sessions.table("map", i), fast=fast),
            sessions.table("ag", i),
            sessions.table("queue", i),
        )
        for i in range(count)
    ]

    def work(i, side):
        mapped, agent_copy, queue_copy = (sessions.table(n, i) for n in ("map", "ag", "queue"))
        side.execute(f"CREATE TEMP TABLE {agent_copy} (employee_id text, id bigint)")
        with side.copy(f"COPY {agent_copy} (employee_id, id) FROM STDIN") as copy:
            for row in agents:
                copy.write_row(row)
        side.execute(f"CREATE TEMP TABLE {queue_copy} (code text)")
        with side.copy(f"COPY {queue_copy} (code) FROM STDIN") as copy:
            for code in queues:
                copy.write_row((code,))
        side.execute(f"ANALYZE {agent_copy}")
        views.create_mapped_view(side, imp, sessions.table("stage", i), mapped)
        final, params = statements[i]
        side.execute(f"SET work_mem = {quote(settings.IMPORT_SORT_MEMORY)}")
        # The fast forms' settings (``grammar.FastForm``): PostgreSQL's writing, the file's zone.
        side.execute("SET DateStyle = 'ISO, YMD'")
        side.execute("SELECT set_config('TimeZone', %s, false)", [imp.tz])
        try:
            side.execute(f"CREATE UNLOGGED TABLE {sessions.table('rows', i)} AS {final}", params)
        finally:  # the view depends on the part's table: left behind, it would keep it from a DROP
            side.execute(f"DROP VIEW IF EXISTS {mapped}")

    sessions.each(work)
    return " UNION ALL ".join(f"SELECT * FROM {sessions.table('rows', i)}" for i in range(count))


def _first_row_exists(cursor, imp, mapped) -> bool:
    """A file that starts with a row already imported (a re-import, an overlapping export) goes straight
    to the full comparison."""
    if len(imp.kind.key) != 1:
        return False
    key = imp.kind.key[0]
    target = imp.kind.field(key).target
    cursor.execute(
        f"SELECT 1 FROM {imp.kind.table} WHERE source = %s AND {target} = (SELECT {key} FROM {mapped} LIMIT 1)",
        [imp.source_name],
    )
    return cursor.fetchone() is not None


def _clean_up(cursor, imp, sessions, scratch) -> None:
    views_ = [imp.table(n) for n in ("legs", "map")] + ([imp.table("stage")] if sessions else [])
    for view in views_:
        cursor.execute(f"DROP VIEW IF EXISTS {view}")
    tables = [imp.table(n) for n in ("old", "rows", "err", "bad", "fold", "dups")] + (
        [] if sessions else [imp.table("stage")]
    )
    for table in (*tables, *scratch):
        cursor.execute(f"DROP TABLE IF EXISTS {table}")
