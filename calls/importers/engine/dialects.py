"""The SQL that differs between PostgreSQL and SQLite.

The engine writes the same statements for both databases; where they differ (regular expressions, time
zones, SHA-256, typed casts) a dialect writes the piece. On PostgreSQL the grammar's SQL
(``calls.importers.grammar``) checks and types values; on SQLite, Python functions registered on the
connection call the grammar's parsers themselves, so SQLite reads exactly what the grammar defines.
"""

from __future__ import annotations

from contextlib import contextmanager

from django.db import connection

from calls.importers import dates, grammar, mapping
from calls.importers.grammar import quote
from calls.importers.sources import FileError


class Postgres:
    vendor = "postgresql"
    # Ends a subquery the planner must not merge into the outer query: its columns are computed once
    # per row, not once per mention.
    fence = "OFFSET 0"

    def valid(self, f, v: str) -> str | None:
        """SQL true when the non-empty text ``v`` is of the field's kind; None when every text is."""
        return grammar.pg_valid(f.kind, v, digits=f.digits, places=f.places)

    def value(self, f, v: str, tz: str) -> str:
        """The typed value of ``v``, which ``valid`` accepted."""
        return grammar.pg_value(f.kind, v, tz)

    def fast(self, f) -> grammar.FastForm | None:
        """The grammar's fast form, where the field has one."""
        if not grammar.fast_kind_ok(f.kind, f.minimum, f.maximum):
            return None
        return grammar.pg_fast(f.kind)

    @contextmanager
    def file_zone(self, cursor, tz: str):
        """Around one statement that reads times by the fast forms: the session's TimeZone is the file's
        zone (``grammar.FastForm``), and Django's again after it, because Django reads a time back as
        one in its own zone. Inside a savepoint: a statement that fails takes the setting back with it."""
        cursor.execute("SELECT set_config('TimeZone', %s, true)", [tz])
        yield
        cursor.execute("SELECT set_config('TimeZone', %s, true)", [connection.timezone_name])

    def customer(self, v: str, secret: str) -> str:
        # No digits, no key: NULLIF makes the digits NULL, and every function after it passes the NULL
        # on. A number already all digits (the usual export) skips the regular expression; only the
        # digest's first 8 bytes (the key) are written out in hex.
        plain = f"translate({v}, '0123456789', '') = ''"
        digits = f"NULLIF(CASE WHEN {plain} THEN {v} ELSE regexp_replace({v}, '[^0-9]', '', 'g') END, '')"
        digest = f"sha256(convert_to({quote(secret)} || ':' || {digits}, 'UTF8'))"
        return f"('x' || encode(substr({digest}, 1, 8), 'hex'))::bit(64)::bigint"

    def reformat(self, v: str, pattern: str, replacement: str) -> str:
        return f"regexp_replace({v}, {quote(pattern)}, {quote(replacement)})"

    def extract(self, v: str, pattern: str, missing: str = "''") -> str:
        """The pattern's group (or whole match) in ``v``; ``missing`` where it does not match."""
        return f"COALESCE(substring({v} from {quote(pattern)}), {missing})"

    def minus_text(self, a: str, b: str) -> str:
        """``mapping.minus_text`` in SQL."""
        dur = _Duration()
        return (
            f"CASE WHEN {a} = '' AND {b} = '' THEN '' "
            f"WHEN {self.valid(dur, a)} AND {self.valid(dur, b)} "
            f"THEN CAST({self.value(dur, a, 'UTC')} - {self.value(dur, b, 'UTC')} AS text) "
            f"ELSE {a} || ' − ' || {b} END"
        )

    def plus_seconds_text(self, t: str, s: str, tz: str) -> str:
        """``mapping.plus_seconds_text`` in SQL: the sum as UTC text the grammar reads back."""
        when, dur = _Datetime(), _Duration()
        total = f"{self.value(when, t, tz)} + {self.value(dur, s, tz)} * interval '1 second'"
        return (
            f"CASE WHEN {t} = '' THEN '' WHEN {self.valid(when, t)} AND {self.valid(dur, s)} "
            f"THEN to_char(({total}) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || 'Z' "
            f"ELSE {t} || ' + ' || {s} END"
        )

    def seconds_between_text(self, start: str, end: str, tz: str) -> str:
        """``mapping.seconds_between_text`` in SQL."""
        when = _Datetime()
        span = f"{self.value(when, end, tz)} - {self.value(when, start, tz)}"
        return (
            f"CASE WHEN {start} <> '' AND {end} <> '' AND {self.valid(when, start)} AND {self.valid(when, end)} "
            f"THEN CAST(CAST(floor(extract(epoch FROM {span})) AS bigint) AS text) ELSE '' END"
        )

    def seconds_between_sql(self, start: str, end: str) -> str:
        """Whole seconds from one stored time to another (each cut to its second)."""
        return (
            f"CAST(extract(epoch FROM date_trunc('second', {end})) "
            f"- extract(epoch FROM date_trunc('second', {start})) AS integer)"
        )

    def true(self) -> str:
        return "true"

    def false(self) -> str:
        return "false"

    def json_object(self, pairs) -> str:
        return "json_build_object(" + ", ".join(f"{quote(k)}, {v}" for k, v in pairs) + ")"

    def distinct(self, a: str, b: str) -> str:
        return f"({a} IS DISTINCT FROM {b})"

    def temp_table(self, name: str, columns, unlogged: bool = False, first_line: int = 2) -> str:
        cols = ", ".join(f"{c} text" for c in columns)
        kind = "UNLOGGED" if unlogged else "TEMP"
        return (
            f"CREATE {kind} TABLE {name} (line bigint GENERATED BY DEFAULT AS IDENTITY "
            f"(START WITH {first_line}), {cols})"
        )

    def binary(self, v: str) -> str:
        """Text compared byte by byte: the order of the facts' unique keys (COLLATE "C" there)."""
        return f'{v} COLLATE "C"'


class Sqlite(Postgres):
    """SQLite: the same statements; Python functions registered on the connection do what PostgreSQL
    does in SQL."""

    vendor = "sqlite"
    fence = "LIMIT -1 OFFSET 0"

    def valid(self, f, v: str) -> str | None:
        if f.kind not in grammar.TYPED:
            return None
        return f"(imp_value({quote(f.kind)}, {v}, 'UTC', {f.digits}, {f.places}) IS NOT NULL)"

    def value(self, f, v: str, tz: str) -> str:
        if f.kind not in grammar.TYPED:
            return v
        typed = f"imp_value({quote(f.kind)}, {v}, {quote(tz)}, {f.digits}, {f.places})"
        return f"CAST({typed} AS NUMERIC)" if f.kind == "decimal" else typed

    def fast(self, f) -> None:
        return None  # the Python functions are the only way to read a value here

    @contextmanager
    def file_zone(self, cursor, tz: str):
        yield  # no fast forms

    def customer(self, v: str, secret: str) -> str:
        return f"imp_customer({v}, {quote(secret)})"

    def reformat(self, v: str, pattern: str, replacement: str) -> str:
        return f"imp_reformat({v}, {quote(pattern)}, {quote(replacement)})"

    def extract(self, v: str, pattern: str, missing: str = "''") -> str:
        return f"COALESCE(imp_extract({quote(pattern)}, {v}), {missing})"

    def minus_text(self, a: str, b: str) -> str:
        return f"imp_minus({a}, {b})"

    def plus_seconds_text(self, t: str, s: str, tz: str) -> str:
        return f"imp_plus_seconds({t}, {s}, {quote(tz)})"

    def seconds_between_text(self, start: str, end: str, tz: str) -> str:
        return f"imp_between({start}, {end}, {quote(tz)})"

    def seconds_between_sql(self, start: str, end: str) -> str:
        # '%' || 's': a literal %s would be taken for a query parameter by Django's SQLite cursor.
        epoch = "strftime('%' || 's', {})"
        return f"(CAST({epoch.format(end)} AS INTEGER) - CAST({epoch.format(start)} AS INTEGER))"

    def true(self) -> str:
        return "1"

    def false(self) -> str:
        return "0"

    def json_object(self, pairs) -> str:
        return "json_object(" + ", ".join(f"{quote(k)}, {v}" for k, v in pairs) + ")"

    def distinct(self, a: str, b: str) -> str:
        return f"({a} IS NOT {b})"

    def binary(self, v: str) -> str:
        return v  # SQLite compares text byte by byte unless told otherwise

    def temp_table(self, name: str, columns, unlogged: bool = False, first_line: int = 2) -> str:
        cols = ", ".join(f"{c} text" for c in columns)
        return f"CREATE TEMP TABLE {name} (line integer PRIMARY KEY, {cols})"


class _Duration:
    kind, digits, places, minimum, maximum = "duration", 12, 6, 0, None


class _Datetime:
    kind, digits, places, minimum, maximum = "datetime", 12, 6, None, None


def _py_customer(value, secret):
    from calls.privacy import customer_key

    return customer_key(value, secret)


def _py_extract(pattern, value):
    return None if value is None else mapping._extract(value, pattern)


def _texts(function):
    """A Python function over texts as SQLite calls it: NULL in, NULL out."""

    def call(*args):
        return None if any(a is None for a in args) else function(*args)

    return call


def dialect() -> Postgres:
    """The dialect of the default connection; on SQLite, with its functions registered."""
    if connection.vendor == "postgresql":
        return Postgres()
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        raw = connection.connection
        raw.create_function("imp_value", 5, grammar.sqlite_value, deterministic=True)
        raw.create_function("imp_customer", 2, _py_customer, deterministic=True)
        raw.create_function("imp_reformat", 3, dates.reformat, deterministic=True)
        raw.create_function("imp_extract", 2, _py_extract, deterministic=True)
        raw.create_function("imp_minus", 2, _texts(mapping.minus_text), deterministic=True)
        raw.create_function(
            "imp_plus_seconds", 3, _texts(mapping.plus_seconds_text), deterministic=True
        )
        raw.create_function(
            "imp_between", 3, _texts(mapping.seconds_between_text), deterministic=True
        )
        return Sqlite()
    raise FileError(f"Imports run on PostgreSQL or SQLite, not {connection.vendor}.")
