"""The import engine: a file into staging, every row validated and upserted by set-based SQL.

1. The file goes into a temporary staging table of text columns, one per file column: on PostgreSQL with
   COPY straight from the raw bytes (the server decodes GBK or UTF-8 itself); elsewhere row by row.
2. A view maps the file's columns to the fact's fields (the saved column mapping, value maps such as
   "呼入" → inbound). Every rule of ``calls.importers.facts`` becomes an SQL condition; one scan finds the
   bad lines, and only those are examined again to say which column and why.
3. The common case, a file whose every row is valid and new, is then inserted by one statement that
   applies every rule as a filter: if it inserts every row (no rule failed, no key already there), the
   import is done. Otherwise it is rolled back to its savepoint and the steps below name each error.
4. The valid rows are compared with the facts already there (keyed by source and id): changed facts
   are recorded (before and after) and updated, new ones inserted, unchanged ones left alone — three
   statements, whatever the number of rows.

The same statements run on SQLite, where a few Python functions stand in for PostgreSQL's regular
expressions, time zones and SHA-256. Memory stays flat: nothing holds the file, and at most the first
``MAX_STORED_ERRORS`` errors are kept.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
import uuid
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg
from django.conf import settings
from django.db import DataError, IntegrityError, connection, transaction
from psycopg.errors import DataError as PsycopgDataError

from calls.importers import dates, parallel
from calls.importers.facts import FactKind
from calls.importers.sources import FileError, Source
from calls.models import Call, MonthLock, Queue
from calls.privacy import customer_secret

logger = logging.getLogger(__name__)
MAX_STORED_ERRORS = 1000  # the report keeps the first thousand; the count keeps them all
MAX_ECHO = 100  # characters of a bad value quoted back in the report
ROW_BATCH = 1000  # rows per INSERT on SQLite: memory is bounded by this, not by the file
PG_ENCODINGS = {"utf-8": "UTF8", "gb18030": "GB18030", "gbk": "GBK", "big5": "BIG5", "cp1252": "WIN1252",
                "iso8859-1": "LATIN1", "latin-1": "LATIN1", "shift_jis": "SJIS", "ascii": "UTF8"}  # fmt: skip

# The accepted ways of writing a time: 2026-10-05 09:10:05, 2026/10/5 9:10, 2026-10-05T09:10:05.123,
# with an optional offset (+08:00, Z); a date alone means its midnight.
_DATE = r"[0-9]{4}[-/](0?[1-9]|1[0-2])[-/](0?[1-9]|[12][0-9]|3[01])"
_TIME = r"([ T]([01]?[0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9]([.][0-9]{1,6})?)?)?"
_OFFSET = r"(Z|[+-][0-9]{2}:?[0-9]{2})?"
DATETIME_RE = f"^{_DATE}{_TIME}{_OFFSET}$"
DATE_RE = f"^{_DATE}$"
INT_RE = r"^-?[0-9]{1,9}$"
KEY_RE = r"^-?[0-9]{1,19}$"  # a 64-bit key, as our own parsers compute it (calls.privacy)
DECIMAL_RE = r"^-?[0-9]{1,12}([.][0-9]{1,6})?$"


def _quote(value: str) -> str:
    """An SQL string literal (standard quoting, the same on PostgreSQL and SQLite)."""
    return "'" + str(value).replace("'", "''") + "'"


# --- the SQL that differs by database -----------------------------------------------------------------


class _Postgres:
    vendor = "postgresql"

    def is_int(self, v):
        return f"({v} ~ {_quote(INT_RE)})"

    def is_decimal(self, v):
        return f"({v} ~ {_quote(DECIMAL_RE)})"

    def is_key(self, v):
        return f"({v} ~ {_quote(KEY_RE)})"

    def to_key(self, v):
        return f"CAST({v} AS bigint)"

    def _day_ok(self, v):
        # The regular expression bounds month and day; this rejects 30 February and the like without an
        # exception (a failed cast would abort the whole statement).
        date = f"split_part(translate({v}, '/T', '- '), ' ', 1)"
        y, m, d = (f"split_part({date}, '-', {i})::int" for i in (1, 2, 3))
        return (
            f"({d} <= CASE WHEN {m} IN (4, 6, 9, 11) THEN 30 WHEN {m} = 2 THEN "
            f"CASE WHEN (mod({y}, 4) = 0 AND mod({y}, 100) <> 0) OR mod({y}, 400) = 0 THEN 29 ELSE 28 END ELSE 31 END)"
        )

    def is_datetime(self, v):
        return f"({v} ~ {_quote(DATETIME_RE)} AND {self._day_ok(v)})"

    def is_date(self, v):
        return f"({v} ~ {_quote(DATE_RE)} AND {self._day_ok(v)})"

    def to_int(self, v):
        return f"CAST({v} AS integer)"

    def to_decimal(self, v):
        return f"CAST({v} AS numeric)"

    def to_datetime(self, v, tz):
        v = f"translate({v}, '/', '-')"
        return (
            f"CASE WHEN {v} ~ '(Z|[+-][0-9]{{2}}:?[0-9]{{2}})$' THEN CAST({v} AS timestamptz) "
            f"ELSE CAST({v} AS timestamp) AT TIME ZONE {_quote(tz)} END"
        )

    def to_date(self, v):
        return f"CAST(translate({v}, '/', '-') AS date)"

    def customer(self, v, secret):
        # No digits, no key: NULLIF makes the digits NULL, and every function after it passes the NULL
        # on (cheaper than testing the value with a second regular expression first).
        digits = f"NULLIF(regexp_replace({v}, '[^0-9]', '', 'g'), '')"
        digest = f"encode(sha256(convert_to({_quote(secret)} || ':' || {digits}, 'UTF8')), 'hex')"
        return f"('x' || substr({digest}, 1, 16))::bit(64)::bigint"

    def reformat(self, v, pattern, replacement):
        return f"regexp_replace({v}, {_quote(pattern)}, {_quote(replacement)})"

    def true(self):
        return "true"

    def false(self):
        return "false"

    def json_object(self, pairs):
        return "json_build_object(" + ", ".join(f"{_quote(k)}, {v}" for k, v in pairs) + ")"

    def distinct(self, a, b):
        return f"({a} IS DISTINCT FROM {b})"

    # Ends a subquery the planner must not merge into the outer query: its columns are computed once
    # per row, not once per mention.
    fence = "OFFSET 0"

    def temp_table(self, name, columns, types=None, unlogged=False):
        cols = ", ".join(f"{c} {(types or {}).get(i, 'text')}" for i, c in enumerate(columns))
        kind = "UNLOGGED" if unlogged else "TEMP"
        return f"CREATE {kind} TABLE {name} (line bigint GENERATED BY DEFAULT AS IDENTITY (START WITH 2), {cols})"

    def binary(self, v):
        """Text compared byte by byte: the order of the facts' unique keys (COLLATE "C" there)."""
        return f'{v} COLLATE "C"'


class _Sqlite(_Postgres):
    """SQLite: the same statements; Python functions registered on the connection do what PostgreSQL
    does in SQL."""

    vendor = "sqlite"
    fence = "LIMIT -1 OFFSET 0"

    def is_int(self, v):
        return f"imp_match({_quote(INT_RE)}, {v})"

    def is_decimal(self, v):
        return f"imp_match({_quote(DECIMAL_RE)}, {v})"

    def is_key(self, v):
        return f"imp_match({_quote(KEY_RE)}, {v})"

    def to_key(self, v):
        return f"CAST({v} AS INTEGER)"

    def is_datetime(self, v):
        return f"(imp_datetime({v}, 'UTC') IS NOT NULL)"

    def is_date(self, v):
        return f"(imp_date({v}) IS NOT NULL)"

    def to_int(self, v):
        return f"CAST({v} AS INTEGER)"

    def to_decimal(self, v):
        return f"CAST({v} AS NUMERIC)"

    def to_datetime(self, v, tz):
        return f"imp_datetime({v}, {_quote(tz)})"

    def to_date(self, v):
        return f"imp_date({v})"

    def customer(self, v, secret):
        return f"imp_customer({v}, {_quote(secret)})"

    def reformat(self, v, pattern, replacement):
        return f"imp_reformat({v}, {_quote(pattern)}, {_quote(replacement)})"

    def true(self):
        return "1"

    def false(self):
        return "0"

    def json_object(self, pairs):
        return "json_object(" + ", ".join(f"{_quote(k)}, {v}" for k, v in pairs) + ")"

    def distinct(self, a, b):
        return f"({a} IS NOT {b})"

    def binary(self, v):
        return v  # SQLite compares text byte by byte unless told otherwise

    def temp_table(self, name, columns, types=None, unlogged=False):
        cols = ", ".join(f"{c} text" for c in columns)
        return f"CREATE TEMP TABLE {name} (line integer PRIMARY KEY, {cols})"


_DATETIME_PY = re.compile(DATETIME_RE)
_DATE_PY = re.compile(DATE_RE)


def _py_datetime(value, tz_name):
    """Parse as PostgreSQL would: the local time in ``tz_name`` unless the value has an offset; the
    result in UTC as Django's SQLite backend stores it. None for anything invalid."""
    if value is None or not _DATETIME_PY.match(value):
        return None
    text = value.replace("/", "-").replace("T", " ")
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    date_part, _, rest = text.partition(" ")
    y, m, d = (int(x) for x in date_part.split("-"))
    time_part, offset = rest, ""
    for sign in ("+", "-"):
        if sign in rest:
            time_part, offset = rest.split(sign, 1)[0], sign + rest.split(sign, 1)[1]
    hms = (time_part or "0:0").split(":")
    second = hms[2] if len(hms) > 2 else "0"
    whole, _, fraction = second.partition(".")
    try:
        moment = dt.datetime(
            y, m, d, int(hms[0]), int(hms[1]), int(whole), int((fraction + "000000")[:6])
        )
    except ValueError:
        return None
    if offset:
        hours, minutes = offset[1:3], offset[-2:]
        delta = dt.timedelta(hours=int(hours), minutes=int(minutes)) * (
            1 if offset[0] == "+" else -1
        )
        moment = moment.replace(tzinfo=dt.timezone(delta))
    else:
        moment = moment.replace(tzinfo=zoneinfo.ZoneInfo(tz_name))
    return moment.astimezone(dt.UTC).replace(tzinfo=None).isoformat(sep=" ")


def _py_date(value):
    if value is None or not _DATE_PY.match(value):
        return None
    try:
        return dt.date(*(int(x) for x in value.replace("/", "-").split("-"))).isoformat()
    except ValueError:
        return None


def _py_customer(value, secret):
    from calls.privacy import customer_key

    return customer_key(value, secret)


def _py_match(pattern, value):
    return 1 if value is not None and re.match(pattern, value) else 0


def _dialect():
    if connection.vendor == "postgresql":
        return _Postgres()
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        raw = connection.connection
        raw.create_function("imp_datetime", 2, _py_datetime, deterministic=True)
        raw.create_function("imp_date", 1, _py_date, deterministic=True)
        raw.create_function("imp_customer", 2, _py_customer, deterministic=True)
        raw.create_function("imp_match", 2, _py_match, deterministic=True)
        raw.create_function("imp_reformat", 3, dates.reformat, deterministic=True)
        return _Sqlite()
    raise FileError(f"Imports run on PostgreSQL or SQLite, not {connection.vendor}.")


# --- the run ----------------------------------------------------------------------------------------


@dataclass
class Outcome:
    total: int = 0
    rejected: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[dict] = field(default_factory=list)


def _columns_of(kind: FactKind, header: list[str], columns: dict) -> dict[str, int]:
    """Field → position in the file, through the mapping (a field's own name by default)."""
    positions = {name: index for index, name in reversed(list(enumerate(header)))}
    found, missing = {}, []
    for f in kind.fields:
        column = (columns or {}).get(f.name) or f.name
        if column in positions:
            found[f.name] = positions[column]
        elif f.required:
            missing.append(f"{f.name} (column {column!r})" if column != f.name else f.name)
    if missing:
        raise FileError(
            f"Line 1: the header lacks the required column(s) {', '.join(missing)}. The file's columns are: "
            f"{', '.join(header) or '(none)'}."
        )
    return found


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
    progress: Callable[[str, int], None] | None = None,
    write: bool = True,
) -> Outcome:
    """Validate and (unless refused) upsert one file. Call inside the batch's transaction.

    With errors and ``allow_partial=False`` nothing is written to the facts. ``period`` (year, month)
    refuses rows outside that month. Rows in a closed month (``MonthLock``) are always refused.
    ``write=False`` only names the errors (the caller found others before: nothing may be written).
    Errors name the file's lines (``source.file_line``).
    """
    dialect = _dialect()
    tz = time_zone or settings.TIME_ZONE
    positions = _columns_of(kind, source.header, columns or {})
    suffix = uuid.uuid4().hex[:12]
    stage, mapped, typed, bad, errs, existing = (
        f"imp_{n}_{suffix}" for n in ("stage", "map", "typed", "bad", "err", "old")
    )
    file_columns = [f"c{i}" for i in range(len(source.header))]
    notify = progress or (lambda phase, rows: None)
    # Fields whose column PostgreSQL can read typed during COPY (numbers, times, dates without a value map):
    # a clean file is then parsed by the server at C speed; a single bad value sends the whole file to
    # the text path, which names every error.
    sql_types = {"int": "integer", "decimal": "numeric", "datetime": "timestamptz", "date": "date"}
    candidates = {
        positions[f.name]: sql_types[f.kind]
        for f in kind.fields
        if f.name in positions
        and f.kind in sql_types
        and not (value_maps or {}).get(f.name)
        and not (date_format and f.kind in ("date", "datetime"))
    }
    parts = _parts(dialect, source)
    sessions = None
    if parts:
        try:
            sessions = parallel.Sessions(len(parts))
        except psycopg.OperationalError as exc:  # no connection to spare: the import's own will do
            logger.warning("Importing %s in one session: %s", source.filename, exc)
    scratch: list[str] = []  # the sessions' tables, once the import's transaction has read them
    with connection.cursor() as cursor:
        try:
            notify("loading", 0)
            if sessions:
                total, typed_columns, scratch = _load_parts(
                    cursor, dialect, sessions, parts, stage, file_columns, source, candidates, tz
                )
            else:
                total, typed_columns = _load(
                    cursor, dialect, stage, file_columns, source, notify, candidates, tz
                )
            typed_fields = {f.name for f in kind.fields if positions.get(f.name) in typed_columns}
            outcome = Outcome(total=total)
            if total == 0:
                raise FileError(f"{source.filename} has a header but no rows.")
            notify("validating", total)
            mapping = (kind, dialect, positions, value_maps or {}, typed_fields, date_format)
            _create_mapped_view(cursor, stage, mapped, *mapping)
            checks = _field_checks(kind, dialect, positions, typed_fields, date_format)
            notify("writing", total)
            if write and not _first_row_exists(cursor, kind, mapped, source_name):
                if sessions:
                    scratch += [sessions.table("rows", i) for i in range(len(parts))]
                    rows = _clean_parts(cursor, sessions, len(parts), mapping, checks, tz, period)
                else:
                    rows = _clean_rows(kind, dialect, mapped, checks, tz, typed_fields)
                if _insert_if_clean(
                    cursor,
                    kind,
                    dialect,
                    rows,
                    period,
                    source_name,
                    batch_id,
                    total,
                    final=bool(sessions),
                ):
                    outcome.created = total
                    return outcome
            notify("validating", total)
            _find_bad_lines(
                cursor, dialect, kind, mapped, bad, errs, checks, tz, period, source_name
            )
            _create_typed_view(cursor, kind, dialect, mapped, typed, bad, tz, typed_fields)
            _row_checks(cursor, kind, typed, bad, errs, tz, period)
            cursor.execute(f"SELECT count(DISTINCT line) FROM {errs}")
            outcome.rejected = cursor.fetchone()[0]
            cursor.execute(
                f"SELECT line, col, val, reason, ref FROM {errs} ORDER BY line, col LIMIT {MAX_STORED_ERRORS}"
            )
            outcome.errors = _errors_of(source, cursor.fetchall())
            if not write or (outcome.rejected and not allow_partial):
                return outcome
            notify("writing", total)
            _upsert(cursor, kind, dialect, typed, errs, existing, source_name, batch_id, outcome)
            return outcome
        finally:
            try:
                for view in (typed, mapped, *([stage] if sessions else [])):
                    cursor.execute(f"DROP VIEW IF EXISTS {view}")
                for table in (existing, errs, bad, *([] if sessions else [stage]), *scratch):
                    cursor.execute(f"DROP TABLE IF EXISTS {table}")
            finally:
                if sessions:
                    sessions.close()


def _errors_of(source: Source, found) -> list[dict]:
    """The error rows as the report keeps them, by the file's lines, in their order."""
    errors = []
    for line, col, val, reason, ref in found:
        if ref is not None:
            reason = f"{reason} {source.file_line(ref)}"
        errors.append(
            {"line": source.file_line(line), "column": col, "value": echo(val), "reason": reason}
        )
    return sorted(errors, key=lambda e: (e["line"], e["column"]))


def echo(value, limit: int = MAX_ECHO) -> str:
    """A value quoted back in an error, cut to a length a report can show (a cell may hold a page)."""
    text = "" if value is None else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _parts(dialect, source: Source) -> list[parallel.Part] | None:
    """A large CSV file on PostgreSQL is loaded in parts, one session each (``calls.importers.parallel``)."""
    if dialect.vendor != "postgresql" or not hasattr(source, "data_start"):
        return None
    if PG_ENCODINGS.get(source.encoding.lower().replace("_", "-")) is None:
        return None
    return parallel.split(
        source.stream, source.data_start, parallel.worker_count(), settings.IMPORT_PARALLEL_BYTES
    )


def _load_parts(cursor, dialect, sessions, parts, stage, file_columns, source, candidates, tz):
    """Each session COPYs its part into a table of its own, typed where it can (as ``_load``), all as
    text when any part holds a value its type refuses. The import's transaction sees the parts as one
    view, ``stage``, numbered by line across the parts. Returns (rows, typed positions, tables)."""
    columns = ", ".join(file_columns)
    encoding = PG_ENCODINGS[source.encoding.lower().replace("_", "-")]
    options = f"FORMAT csv, DELIMITER {_quote(source.delimiter)}, ENCODING {_quote(encoding)}"
    text_columns = [c for i, c in enumerate(file_columns) if i not in candidates]
    lock = threading.Lock()
    tables = [sessions.table("stage", i) for i in range(len(parts))]
    sessions.sweep()

    def load(types, force):
        def work(i, side):
            side.execute(f"DROP TABLE IF EXISTS {tables[i]}")
            side.execute(dialect.temp_table(tables[i], file_columns, types, unlogged=True))
            side.execute(f"SET TIME ZONE {_quote(tz)}")  # times without an offset are local
            header = ", HEADER true" if i == 0 else ""
            try:
                with side.copy(
                    f"COPY {tables[i]} ({columns}) FROM STDIN WITH ({options}{header}{force})"
                ) as copy:
                    for chunk in parallel.part_chunks(source.stream, lock, parts[i]):
                        copy.write(chunk)
            except PsycopgDataError as exc:
                return exc
            return side.rowcount

        return sessions.each(work)

    try:
        typed = set(candidates)
        counts = None
        if candidates:
            force = f", FORCE_NOT_NULL ({', '.join(text_columns)})" if text_columns else ""
            counts = load(candidates, force)
        if counts is None or any(isinstance(c, Exception) for c in counts):
            typed = set()
            counts = load(None, f", FORCE_NOT_NULL ({columns})")
            failed = [(i, c) for i, c in enumerate(counts) if isinstance(c, Exception)]
            if failed:
                i, exc = failed[0]
                raise FileError(_copy_error(source.filename, exc, parts[i].lines_before))
    except BaseException:
        sessions.drop_own(tables)
        raise
    offsets = [sum(counts[:i]) for i in range(len(parts))]
    cursor.execute(
        f"CREATE TEMP VIEW {stage} AS "
        + " UNION ALL ".join(
            f"SELECT line + {offset} AS line, {columns} FROM {table}"
            for table, offset in zip(tables, offsets, strict=True)
        )
    )
    return sum(counts), typed, tables


def _clean_parts(cursor, sessions, count, mapping, checks, tz, period) -> str:
    """Each session computes its part's final rows (``_clean_rows`` then ``_final_rows``) into a table,
    in key order; returns the SELECT of them all, part after part.

    The sessions see only what is committed, so the agents and queues, as the import's transaction
    sees them, are copied to each session first (thousands of rows, against a million calls)."""
    kind, dialect, *_rest = mapping
    typed_fields = mapping[4]
    cursor.execute(f"SELECT employee_id, id FROM {_agent_table()}")
    agents = cursor.fetchall()
    queues = list(Queue.objects.values_list("code", flat=True))

    # The statements are written here: what they read of our tables (closed months, whether queues
    # are listed) is read by the import's transaction, not by a thread's connection of its own.
    statements = [
        _final_rows(
            kind,
            dialect,
            _clean_rows(kind, dialect, sessions.table("map", i), checks, tz, typed_fields),
            period,
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
        _create_mapped_view(side, sessions.table("stage", i), mapped, *mapping)
        final, params = statements[i]
        side.execute(f"SET work_mem = {_quote(settings.IMPORT_SORT_MEMORY)}")
        try:
            side.execute(f"CREATE UNLOGGED TABLE {sessions.table('rows', i)} AS {final}", params)
        finally:  # the view depends on the part's table: left behind, it would keep it from a DROP
            side.execute(f"DROP VIEW IF EXISTS {mapped}")

    sessions.each(work)
    return " UNION ALL ".join(f"SELECT * FROM {sessions.table('rows', i)}" for i in range(count))


def _load(
    cursor, dialect, stage, file_columns, source: Source, notify, candidates, tz
) -> tuple[int, set[int]]:
    """Fill the staging table; returns (rows, positions of the columns staged typed)."""
    columns = ", ".join(file_columns)
    width = len(file_columns)
    raw = getattr(source, "raw_chunks", None)
    encoding = PG_ENCODINGS.get(source.encoding.lower().replace("_", "-"))
    if dialect.vendor == "postgresql" and raw is not None and encoding is not None:
        options = f"FORMAT csv, HEADER true, DELIMITER {_quote(source.delimiter)}, ENCODING {_quote(encoding)}"
        text_columns = [c for i, c in enumerate(file_columns) if i not in candidates]
        if candidates:
            try:
                with transaction.atomic():  # a savepoint: one bad value rolls back to here
                    cursor.execute(dialect.temp_table(stage, file_columns, candidates))
                    cursor.execute(
                        f"SET LOCAL TIME ZONE {_quote(tz)}"
                    )  # times without an offset are local
                    force = f", FORCE_NOT_NULL ({', '.join(text_columns)})" if text_columns else ""
                    _copy(cursor, stage, columns, options + force, raw)
                    cursor.execute("SET LOCAL TIME ZONE 'UTC'")
                cursor.execute(f"SELECT count(*) FROM {stage}")
                return cursor.fetchone()[0], set(candidates)
            except (DataError, PsycopgDataError):
                pass  # a value the server cannot read as its type: the text path will say which
        cursor.execute(dialect.temp_table(stage, file_columns))
        # FORCE_NOT_NULL: an empty cell is "" as in every other source, never NULL.
        try:
            _copy(cursor, stage, columns, f"{options}, FORCE_NOT_NULL ({columns})", raw)
        except Exception as exc:  # psycopg reports bad bytes or cells with the line: say it plainly
            raise FileError(_copy_error(source.filename, exc)) from None
    elif dialect.vendor == "postgresql":
        cursor.execute(dialect.temp_table(stage, file_columns))
        rows = 0
        with cursor.cursor.copy(f"COPY {stage} (line, {columns}) FROM STDIN") as copy:
            for line, cells in source.rows():
                copy.write_row((line, *_fit(cells, width, source.filename, line)))
                rows += 1
                if rows % 50000 == 0:
                    notify("loading", rows)
    else:
        cursor.execute(dialect.temp_table(stage, file_columns))
        placeholders = ", ".join(["%s"] * (width + 1))
        sql = f"INSERT INTO {stage} (line, {columns}) VALUES ({placeholders})"
        batch, rows = [], 0
        for line, cells in source.rows():
            batch.append((line, *_fit(cells, width, source.filename, line)))
            if len(batch) >= ROW_BATCH:
                cursor.executemany(sql, batch)
                rows += len(batch)
                batch.clear()
                notify("loading", rows)
        if batch:
            cursor.executemany(sql, batch)
    cursor.execute(f"SELECT count(*) FROM {stage}")
    return cursor.fetchone()[0], set()


def _copy(cursor, stage, columns, options, raw) -> None:
    with cursor.cursor.copy(f"COPY {stage} ({columns}) FROM STDIN WITH ({options})") as copy:
        for chunk in raw():
            copy.write(chunk)


def _fit(cells: list[str], width: int, filename: str, line: int) -> list[str]:
    if len(cells) > width and any(cell.strip() for cell in cells[width:]):
        raise FileError(
            f"{filename}: line {line} has {len(cells)} cells, the header {width} columns."
        )
    return (cells + [""] * width)[:width]


def _copy_error(filename: str, exc: Exception, lines_before: int = 0) -> str:
    context = getattr(getattr(exc, "diag", None), "context", "") or ""
    message = getattr(getattr(exc, "diag", None), "message_primary", "") or str(exc)
    match = re.search(r"line (\d+)", context)
    where = f"line {int(match.group(1)) + lines_before}: " if match else ""
    return f"{filename}: {where}{message}."


def _create_mapped_view(
    cursor, stage, mapped, kind, dialect, positions, value_maps, typed_fields, date_format=""
) -> None:
    """One text column per field, trimmed and passed through the value maps (the mapping's own first,
    then the built-in ones such as 呼入 → inbound, case-insensitive); dates in the mapping's format
    rewritten as 2026-10-31 14:05:09."""
    selects = ["line"]
    for f in kind.fields:
        if f.name not in positions:
            selects.append(f"'' AS {f.name}")
            continue
        if (
            f.name in typed_fields
        ):  # read typed by COPY: already a number or a time, NULL when empty
            selects.append(f"c{positions[f.name]} AS {f.name}")
            continue
        raw = f"TRIM(c{positions[f.name]})"
        pairs = {str(k).strip().lower(): str(v) for k, v in f.aliases.items()}
        pairs.update(
            {str(k).strip().lower(): str(v) for k, v in (value_maps.get(f.name) or {}).items()}
        )
        if pairs:
            cases = " ".join(f"WHEN {_quote(k)} THEN {_quote(v)}" for k, v in pairs.items())
            # Most exports already hold the canonical values: those skip the lookup.
            canonical = ", ".join(_quote(c) for c in _canonical_values(f))
            expr = f"CASE WHEN {raw} IN ({canonical}) THEN {raw} ELSE CASE LOWER({raw}) {cases} ELSE {raw} END END"
        elif f.kind == "choice":
            expr = f"LOWER({raw})"
        elif date_format and f.kind in ("date", "datetime"):
            expr = dialect.reformat(raw, *dates.rewrite(date_format))
        else:
            expr = raw
        selects.append(f"{expr} AS {f.name}")
    cursor.execute(f"CREATE TEMP VIEW {mapped} AS SELECT {', '.join(selects)} FROM {stage}")


def _canonical_values(f) -> tuple[str, ...]:
    if f.kind == "bool":
        return ("1", "0", "")
    return (*f.choices, "")


def _field_checks(
    kind: FactKind, dialect, positions, typed_fields=frozenset(), date_format=""
) -> list[tuple[str, str, str]]:
    """(column, reason, SQL true when the row is wrong) for every rule of every field present."""
    checks = []
    for f in kind.fields:
        v = f.name
        present = f.name in positions
        if f.name in typed_fields:  # the server parsed it: only presence and range remain
            if f.required:
                checks.append((v, "required", f"{v} IS NULL"))
            if f.minimum is not None:
                checks.append(
                    (
                        v,
                        "negative" if f.minimum == 0 else f"below {f.minimum}",
                        f"{v} < {f.minimum}",
                    )
                )
            if f.maximum is not None:
                checks.append((v, f"larger than {f.maximum}", f"{v} > {f.maximum}"))
            continue
        if f.required:
            checks.append((v, "required", f"{v} = ''"))
        if not present:
            continue
        if f.max_length:
            checks.append(
                (v, f"longer than {f.max_length} characters", f"LENGTH({v}) > {f.max_length}")
            )
        if f.kind == "int":
            checks.append((v, "not a whole number", f"{v} <> '' AND NOT {dialect.is_int(v)}"))
            if f.minimum is not None:
                reason = "negative" if f.minimum == 0 else f"below {f.minimum}"
                checks.append(
                    (
                        v,
                        reason,
                        f"CASE WHEN {dialect.is_int(v)} THEN {dialect.to_int(v)} < {f.minimum} ELSE {dialect.false()} END",
                    )
                )
            if f.maximum is not None:
                checks.append(
                    (
                        v,
                        f"larger than {f.maximum}",
                        f"CASE WHEN {dialect.is_int(v)} THEN {dialect.to_int(v)} > {f.maximum} ELSE {dialect.false()} END",
                    )
                )
        elif f.kind == "key":
            checks.append((v, "not a key", f"{v} <> '' AND NOT {dialect.is_key(v)}"))
        elif f.kind == "decimal":
            checks.append(
                (
                    v,
                    "not a number (digits, a dot for decimals)",
                    f"{v} <> '' AND NOT {dialect.is_decimal(v)}",
                )
            )
            if f.minimum is not None:
                checks.append(
                    (
                        v,
                        "negative" if f.minimum == 0 else f"below {f.minimum}",
                        f"CASE WHEN {dialect.is_decimal(v)} THEN {dialect.to_decimal(v)} < {f.minimum} ELSE {dialect.false()} END",
                    )
                )
            if f.maximum is not None:
                checks.append(
                    (
                        v,
                        f"larger than {f.maximum}",
                        f"CASE WHEN {dialect.is_decimal(v)} THEN {dialect.to_decimal(v)} > {f.maximum} ELSE {dialect.false()} END",
                    )
                )
        elif f.kind == "bool":
            checks.append((v, "must be 1 or 0 (yes or no)", f"{v} <> '' AND {v} NOT IN ('1', '0')"))
        elif f.kind == "choice":
            allowed = ", ".join(_quote(c) for c in f.choices)
            checks.append(
                (
                    v,
                    f"must be one of {', '.join(f.choices)}",
                    f"{v} <> '' AND {v} NOT IN ({allowed})",
                )
            )
        elif f.kind == "datetime":
            checks.append(
                (
                    v,
                    f"not a date and time in the mapping's format {date_format}"
                    if date_format
                    else "not a date and time (expected e.g. 2026-10-31 14:05:09)",
                    f"{v} <> '' AND NOT {dialect.is_datetime(v)}",
                )
            )
        elif f.kind == "date":
            checks.append(
                (
                    v,
                    f"not a date in the mapping's format {date_format}"
                    if date_format
                    else "not a date (expected e.g. 2026-10-31)",
                    f"{v} <> '' AND NOT {dialect.is_date(v)}",
                )
            )
    return checks  # fmt: skip


def _agent_table():
    agent_model = Call._meta.get_field(
        "agent"
    ).related_model  # through the key: calls never imports incentives
    return agent_model._meta.db_table


def _lookups(
    kind: FactKind, agents: str | None = None, queues: str | None = None
) -> list[tuple[str, str, str]]:
    """(column, SQL listing the known values, reason) for the fields checked against our own tables
    (or copies of them, ``agents`` and ``queues``, in a session of a parallel load)."""
    lookups = [
        (
            f.name,
            f"SELECT employee_id FROM {agents or _agent_table()}",
            "unknown agent: no agent has this employee id",
        )
        for f in kind.fields
        if f.kind == "agent"
    ]
    if _has_queue(kind) and Queue.objects.exists():
        lookups.append(("queue", f"SELECT code FROM {queues or Queue._meta.db_table}",
                        "unknown queue: not among the queues set up in the administration"))  # fmt: skip
    return lookups


class _NotClean(Exception):
    """The one-statement insert left rows out: the file needs the full examination."""


def _clean_rows(kind, dialect, mapped, checks, tz, typed_fields) -> str:
    """A SELECT of the rows that pass every rule needing none of our tables, typed as the fact's columns.

    The fields looked up in our tables (agent, queue) come as they are in ``lk_<field>``: the statement
    that writes the facts resolves them. Pure SQL over the staged file, so a session of its own can
    compute it for its part of a large file (``calls.importers.parallel``).
    """
    false = dialect.false()
    selects = [
        f"{_typed_expr(f, dialect, tz, typed_fields)} AS {f.target}"
        for f in kind.fields
        if f.target and f.kind != "agent"
    ]
    selects += [f"m.{column} AS lk_{column}" for column in _looked_up(kind)]
    any_rule = " OR ".join(f"({sql})" for _c, _r, sql in checks) or "1 = 0"
    typed_ok = [f"NOT COALESCE(({check.sql}), {false})" for check in kind.checks]
    return (
        f"SELECT * FROM (SELECT {', '.join(selects)} FROM (SELECT * FROM {mapped} {dialect.fence}) m "
        f"WHERE NOT COALESCE(({any_rule}), {false}) {dialect.fence}) t "
        f"WHERE {' AND '.join(typed_ok) or '1 = 1'}"
    )


def _has_queue(kind: FactKind) -> bool:
    """Calls and ring attempts name a queue: once HR has listed the queues, it must be one of them."""
    return any(f.name == "queue" for f in kind.fields)


def _agent_field(kind: FactKind) -> str:
    return next((f.name for f in kind.fields if f.kind == "agent"), "")


def _looked_up(kind: FactKind) -> list[str]:
    """The fields that may be checked against our own tables (see ``_lookups``)."""
    return [f.name for f in kind.fields if f.kind == "agent"] + (
        ["queue"] if _has_queue(kind) else []
    )


def _key_order(kind, dialect) -> str:
    """The order of the facts' unique key."""
    columns = []
    for name in kind.key:
        f = kind.field(name)
        if f.kind == "agent":
            columns.append("ag.id")
        else:
            columns.append(dialect.binary(f"t.{f.target}") if f.kind == "text" else f"t.{f.target}")
    return ", ".join(columns)


def _first_row_exists(cursor, kind, mapped, source_name) -> bool:
    """A file that starts with a row already imported (a re-import, an overlapping export) goes
    straight to the full comparison."""
    if len(kind.key) != 1:
        return False
    target = kind.field(kind.key[0]).target
    cursor.execute(
        f"SELECT 1 FROM {kind.table} WHERE source = %s AND {target} = (SELECT {kind.key[0]} FROM {mapped} LIMIT 1)",
        [source_name],
    )
    return cursor.fetchone() is not None


def _final_rows(kind, dialect, rows, period, agents=None, queues=None) -> tuple[str, list]:
    """(SELECT, parameters) of the fact's columns for ``rows`` (see ``_clean_rows``) that name a known
    agent and queue and fall in no closed month (nor outside ``period``), in the order of the facts'
    unique key: the index then grows at its end, page after page, instead of at a million scattered
    places (half the time of the write on PostgreSQL)."""
    false = dialect.false()
    agent_field = _agent_field(kind)
    join = (
        f"LEFT JOIN {agents or _agent_table()} ag ON ag.employee_id = t.lk_{agent_field}"
        if agent_field
        else ""
    )
    where = [
        f"NOT COALESCE((t.lk_{column} <> '' AND t.lk_{column} NOT IN ({known})), {false})"
        for column, known, _r in _lookups(kind, agents, queues)
    ]
    column = kind.field(kind.period_field).target
    params: list = []
    for lock in MonthLock.objects.all():
        where.append(f"NOT COALESCE((t.{column} >= %s AND t.{column} < %s), {false})")
        params += [_db_time(m) for m in kind.month_range(lock.year, lock.month)]
    if period is not None:
        where.append(f"NOT COALESCE((t.{column} < %s OR t.{column} >= %s), {false})")
        params += [_db_time(m) for m in kind.month_range(*period)]
    values = [
        f"{'ag.id' if f.kind == 'agent' else 't.' + f.target} AS {f.target}"
        for f in kind.fields
        if f.target
    ]
    sql = (
        f"SELECT {', '.join(values)} FROM ({rows}) t {join} "
        f"WHERE {' AND '.join(where) or '1 = 1'} ORDER BY {_key_order(kind, dialect)}"
    )
    return sql, params


def _insert_if_clean(
    cursor, kind, dialect, rows, period, source_name, batch_id, total, final=False
) -> bool:
    """Insert every row in one statement if every row is valid and new; else change nothing.

    ``rows`` holds the rows that passed the rules of the file alone (``_clean_rows``), or with
    ``final`` the parts' ``_final_rows`` already computed, each part in order. The unique key of the facts
    refuses a row already imported or a duplicate within the file, and the row count says whether
    anything was left out.
    """
    targets = [f.target for f in kind.fields if f.target]
    select, params = (rows, []) if final else _final_rows(kind, dialect, rows, period)
    sql = (
        f"INSERT INTO {kind.table} (source, batch_id, {', '.join(targets)}) "
        f"SELECT %s, %s, {', '.join('f.' + t for t in targets)} FROM ({select}) f"
    )
    try:
        with transaction.atomic():  # a savepoint: anything left out undoes the whole statement
            if dialect.vendor == "postgresql" and not final:  # the sort by key stays in memory
                cursor.execute(
                    "SELECT set_config('work_mem', %s, true)", [settings.IMPORT_SORT_MEMORY]
                )
            cursor.execute(sql, [source_name, batch_id, *params])
            if cursor.rowcount != total:
                raise _NotClean
    except (_NotClean, IntegrityError, DataError):
        return False
    return True


def _find_bad_lines(
    cursor, dialect, kind, mapped, bad, errs, checks, tz, period, source_name
) -> None:
    """One scan finds the lines that break a rule; only they are examined again, rule by rule."""
    # Lookups against the product's own tables (agents, queues) run as anti-joins of their own: inside
    # the OR of the field rules they would be a subquery per row.
    lookups = _lookups(kind)
    key = ", ".join(kind.key)
    duplicate = (
        f"m.line IN (SELECT line FROM (SELECT line, ROW_NUMBER() OVER (PARTITION BY {key} "
        f"ORDER BY line) AS n FROM {mapped}) d WHERE d.n > 1)"
    )
    any_rule = " OR ".join(f"({sql})" for _c, _r, sql in checks)
    cursor.execute(
        f"CREATE TEMP TABLE {bad} AS SELECT m.line FROM {mapped} m WHERE {any_rule or '1 = 0'}"
    )
    for column, known, _reason in lookups:
        cursor.execute(
            f"INSERT INTO {bad} SELECT m.line FROM {mapped} m WHERE m.{column} <> '' AND m.{column} NOT IN ({known})"
        )
    cursor.execute(f"INSERT INTO {bad} SELECT m.line FROM {mapped} m WHERE {duplicate}")
    # ref: the line another one refers to (a duplicate's first), as a file line only Python knows.
    cursor.execute(
        f"CREATE TEMP TABLE {errs} (line bigint, col text, val text, reason text, ref bigint)"
    )
    cursor.execute(f"SELECT count(*) FROM {bad}")
    if cursor.fetchone()[0] == 0:
        return
    suspects = f"m.line IN (SELECT line FROM {bad})"
    for column, reason, sql in checks:
        cursor.execute(
            f"INSERT INTO {errs} (line, col, val, reason) SELECT m.line, %s, m.{column}, %s FROM {mapped} m WHERE {suspects} AND ({sql})",
            [column, reason],
        )
    for column, known, reason in lookups:
        cursor.execute(
            f"INSERT INTO {errs} (line, col, val, reason) SELECT m.line, %s, m.{column}, %s FROM {mapped} m WHERE {suspects} "
            f"AND m.{column} <> '' AND m.{column} NOT IN ({known})",
            [column, reason],
        )
    first_key = kind.key[0]
    cursor.execute(
        f"INSERT INTO {errs} (line, col, val, reason, ref) SELECT d.line, %s, d.k, 'duplicate, first seen on line', d.first "
        f"FROM (SELECT line, {first_key} AS k, ROW_NUMBER() OVER (PARTITION BY {key} ORDER BY line) AS n, "
        f"MIN(line) OVER (PARTITION BY {key}) AS first FROM {mapped}) d WHERE d.n > 1",
        [first_key],
    )


def _typed_expr(f, dialect, tz, typed_fields=frozenset()) -> str:
    v = f"m.{f.name}"
    if f.name in typed_fields:
        return v if (f.nullable or f.kind != "int") else f"COALESCE({v}, 0)"
    if f.kind == "text":
        return v
    # Guarded casts: the database may evaluate these on a row before excluding it as bad, and an
    # unguarded cast of a bad value would abort the whole statement.
    if f.kind == "int":
        empty = "NULL" if f.nullable else "0"
        return (
            f"CASE WHEN {v} = '' THEN {empty} WHEN {dialect.is_int(v)} THEN {dialect.to_int(v)} END"
        )
    if f.kind == "key":
        return f"CASE WHEN {dialect.is_key(v)} THEN {dialect.to_key(v)} END"
    if f.kind == "decimal":
        return f"CASE WHEN {dialect.is_decimal(v)} THEN {dialect.to_decimal(v)} END"
    if f.kind == "bool":
        empty = "NULL" if f.nullable else dialect.false()
        return f"CASE {v} WHEN '1' THEN {dialect.true()} WHEN '0' THEN {dialect.false()} ELSE {empty} END"
    if f.kind == "choice":
        return v if not f.nullable else f"NULLIF({v}, '')"
    if f.kind == "datetime":
        return f"CASE WHEN {dialect.is_datetime(v)} THEN {dialect.to_datetime(v, tz)} END"
    if f.kind == "date":
        return f"CASE WHEN {dialect.is_date(v)} THEN {dialect.to_date(v)} END"
    if f.kind == "customer":
        return dialect.customer(v, customer_secret())
    raise ValueError(f"unknown field kind {f.kind}")


def _create_typed_view(cursor, kind, dialect, mapped, typed, bad, tz, typed_fields) -> None:
    """The rows that passed the field rules, typed and named as the fact's columns."""
    agent_fields = [f for f in kind.fields if f.kind == "agent"]
    selects = ["m.line AS line"]
    for f in kind.fields:
        if f.target is None:
            continue
        expr = "ag.id" if f.kind == "agent" else _typed_expr(f, dialect, tz, typed_fields)
        selects.append(f"{expr} AS {f.target}")
    join = ""
    if agent_fields:
        join = f"LEFT JOIN {_agent_table()} ag ON ag.employee_id = m.{agent_fields[0].name}"
    cursor.execute(
        f"CREATE TEMP VIEW {typed} AS SELECT {', '.join(selects)} FROM {mapped} m {join} "
        f"WHERE NOT EXISTS (SELECT 1 FROM {bad} b WHERE b.line = m.line)"
    )


def _row_checks(cursor, kind, typed, bad, errs, tz, period) -> None:
    """Rules across the fields of a row, and the months: closed ones always, the batch's own if given."""
    for check in kind.checks:
        cursor.execute(
            f"INSERT INTO {errs} (line, col, val, reason) SELECT t.line, %s, '', %s FROM {typed} t WHERE {check.sql}",
            [check.column, check.reason],
        )
    period_field = kind.field(kind.period_field)
    column = period_field.target

    def bounds(year, month):
        start, end = kind.month_range(year, month)
        return _db_time(start), _db_time(end)

    for lock in MonthLock.objects.all():
        start, end = bounds(lock.year, lock.month)
        cursor.execute(
            f"INSERT INTO {errs} (line, col, val, reason) SELECT t.line, %s, '', %s FROM {typed} t WHERE t.{column} >= %s AND t.{column} < %s",
            [
                period_field.name,
                f"the month {lock} is closed: corrections go into the next open month",
                start,
                end,
            ],
        )
    if period is not None:
        start, end = bounds(*period)
        cursor.execute(
            f"INSERT INTO {errs} (line, col, val, reason) SELECT t.line, %s, '', %s FROM {typed} t WHERE t.{column} < %s OR t.{column} >= %s",
            [
                period_field.name,
                f"outside the month {period[0]}-{period[1]:02d} chosen for this import",
                start,
                end,
            ],
        )


def _db_time(moment):
    """A time as a parameter comparable with the stored column (SQLite stores naive UTC text)."""
    if connection.vendor == "sqlite" and isinstance(moment, dt.datetime):
        return moment.astimezone(dt.UTC).replace(tzinfo=None).isoformat(sep=" ")
    return moment


def _upsert(cursor, kind, dialect, typed, errs, existing, source_name, batch_id, outcome) -> None:
    """Record and apply changes to facts already there, insert the new ones; the unchanged stay."""
    table = kind.table
    targets = [f.target for f in kind.fields if f.target]
    key_targets = [kind.field(k).target for k in kind.key]
    compared = [t for t in targets if t not in key_targets]
    join = " AND ".join(f"f.{k} = t.{k}" for k in key_targets)
    valid = f"NOT EXISTS (SELECT 1 FROM {errs} r WHERE r.line = t.line)"
    cursor.execute(
        f"CREATE TEMP TABLE {existing} AS SELECT t.line AS line, f.id AS fact_id FROM {typed} t "
        f"JOIN {table} f ON f.source = %s AND {join} WHERE {valid}",
        [source_name],
    )
    changed = " OR ".join(dialect.distinct(f"f.{c}", f"t.{c}") for c in compared) or "1 = 0"
    before = dialect.json_object([(c, f"f.{c}") for c in [*compared, "batch_id"]])
    after = dialect.json_object([(c, f"t.{c}") for c in compared])
    cursor.execute(
        f"INSERT INTO calls_factchange (batch_id, fact, fact_id, before, after) "
        f"SELECT %s, %s, f.id, {before}, {after} FROM {typed} t JOIN {existing} e ON e.line = t.line "
        f"JOIN {table} f ON f.id = e.fact_id WHERE {changed}",
        [batch_id, kind.code],
    )
    outcome.updated = cursor.rowcount
    if outcome.updated:
        sets = ", ".join(f"{c} = t.{c}" for c in compared)
        cursor.execute(
            f"UPDATE {table} SET {sets}, batch_id = %s FROM (SELECT e.fact_id, {', '.join('x.' + c for c in compared)} "
            f"FROM {typed} x JOIN {existing} e ON e.line = x.line) AS t "
            f"WHERE {table}.id = t.fact_id AND {table}.id IN (SELECT fact_id FROM calls_factchange WHERE batch_id = %s)",
            [batch_id, batch_id],
        )
    columns = ", ".join(["source", "batch_id", *targets])
    values = ", ".join(["%s", "%s", *(f"t.{t}" for t in targets)])
    cursor.execute(
        f"INSERT INTO {table} ({columns}) SELECT {values} FROM {typed} t "
        f"WHERE {valid} AND NOT EXISTS (SELECT 1 FROM {existing} e WHERE e.line = t.line)",
        [source_name, batch_id],
    )
    outcome.created = cursor.rowcount
    outcome.unchanged = outcome.total - outcome.rejected - outcome.created - outcome.updated
