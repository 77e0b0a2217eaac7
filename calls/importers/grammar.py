"""The field grammar: every kind of value an import reads, defined once.

For each kind of value this module says which forms a person may write (the words of every error and of
the docs), parses them in Python (the authority: SQLite and the upload preview call these parsers) and
writes the SQL that checks and types them on PostgreSQL, built to accept exactly what the parser
accepts. ``tests/calls/test_grammar.py`` feeds the same values to the parser, to PostgreSQL's SQL and to
SQLite's, and to whole imports on either database, alone and among bad rows: a value gets the same
verdict everywhere, whatever the rest of the file holds.

A value reaches the grammar trimmed of spaces (SQL's ``TRIM``); the empty value is "absent" and never
reaches a parser: whether a field may be absent is the field's rule, not the grammar's.

PostgreSQL also gets a *fast form* for the kinds a large file is full of (whole numbers, durations,
times, dates): a plain cast, and a check that the value is written exactly as PostgreSQL writes that
type back (``CAST(v AS integer)::text = v``). The canonical form is a strict subset of the grammar, so a
file whose values are all canonical is typed at the server's speed; a single other value (``007``,
``2026/10/5 9:10``, ``Oct 5 2026``, ``now``) sends the whole file down the careful path, where the
grammar decides, and a cast the server refuses outright only rolls the fast attempt back. Measured on a
million calls (five numbers and two times a row): about 0.4 s of one core for the checks, against
3 s for the same regular expressions and 6 s for one expression over the whole row.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

# --- the forms, as regular expressions that PostgreSQL (ARE) and Python read alike ---------------------
# Only constructs both engines read the same: [0-9] (never \d, which is Unicode in Python), groups,
# alternation and counted repetition; Python matches with fullmatch, PostgreSQL between ^ and $.
_DATE = r"[0-9]{4}[-/](0?[1-9]|1[0-2])[-/](0?[1-9]|[12][0-9]|3[01])"
_TIME = r"([01]?[0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9]([.][0-9]{1,6})?)?"
_OFFSET = r"(Z|[+-](0[0-9]|1[0-4]):?[0-5][0-9])"
DATETIME_FORM = f"{_DATE}([ T]{_TIME}{_OFFSET}?)?"
DATE_FORM = _DATE
TIME_FORM = _TIME
INT_FORM = r"-?[0-9]{1,9}"
KEY_FORM = r"-?[0-9]{1,19}"  # a 64-bit key our own parsers compute (``calls.privacy``)
DURATION_FORM = r"-?[0-9]{1,9}|[0-9]{1,6}:[0-5][0-9]|[0-9]{1,5}:[0-5][0-9]:[0-5][0-9]"
OFFSET_AT_END = _OFFSET + "$"
FIRST_YEAR, LAST_YEAR = 1970, 2999  # a call before the Unix epoch, or after 2999, is a typing error


def decimal_form(digits: int, places: int) -> str:
    """A decimal with at most ``digits`` before the point and ``places`` after it."""
    return f"-?[0-9]{{1,{digits}}}([.][0-9]{{1,{places}}})?" if places else f"-?[0-9]{{1,{digits}}}"


@dataclass(frozen=True)
class Kind:
    """One kind of value: its name, what a person may write, and the reason given when a value is not
    of that kind (``{format}`` stands for the mapping's date format, where there is one)."""

    name: str
    forms: str
    reason: str


KINDS = {
    "text": Kind("text", "any text", ""),
    "int": Kind(
        "int", "a whole number: digits, a minus sign for a negative one", "not a whole number"
    ),
    "key": Kind("key", "a 64-bit whole number (a customer's key)", "not a key"),
    "decimal": Kind(
        "decimal", "digits, a dot before the decimals", "not a number (digits, a dot for decimals)"
    ),
    "bool": Kind(
        "bool", "1 or 0 (yes/no, true/false, 是/否 are read as 1/0)", "must be 1 or 0 (yes or no)"
    ),
    "choice": Kind(
        "choice", "one of the field's values (case does not matter)", "must be one of {choices}"
    ),
    "datetime": Kind(
        "datetime",
        "2026-10-31 14:05:09, 2026/10/31 14:05, 2026-10-31T14:05:09.123, optionally with an offset "
        "(+08:00, Z); a date alone is its midnight; a year from 1970 to 2999",
        "not a date and time (expected e.g. 2026-10-31 14:05:09)",
    ),
    "date": Kind("date", "2026-10-31 or 2026/10/31", "not a date (expected e.g. 2026-10-31)"),
    "duration": Kind(
        "duration",
        "seconds (95), minutes and seconds (1:35) or hours, minutes and seconds (0:01:35)",
        "not a duration (seconds, mm:ss or hh:mm:ss)",
    ),
    "customer": Kind("customer", "any text; its digits identify the customer", ""),
    "agent": Kind("agent", "an agent's employee id", ""),
}


# The kinds whose texts are checked and typed; any text is a text, a choice, a customer or an agent id.
TYPED = frozenset({"datetime", "date", "int", "key", "duration", "decimal", "bool"})


# --- Python: the authority ---------------------------------------------------------------------------


def _full(form: str) -> re.Pattern:
    return re.compile(f"(?:{form})")


_DATETIME_PY = _full(DATETIME_FORM)
_DATE_PY = _full(DATE_FORM)
_INT_PY = _full(INT_FORM)
_KEY_PY = _full(KEY_FORM)
_DURATION_PY = _full(DURATION_FORM)
_OFFSET_PY = re.compile(OFFSET_AT_END)


def parse_datetime(value: str, tz_name: str) -> dt.datetime | None:
    """The instant a value names: the local time in ``tz_name`` unless the value has an offset (then
    aware with that offset, else in UTC). None when the value is not of the grammar (a day that does
    not exist, a year out of range included)."""
    if not _DATETIME_PY.fullmatch(value):
        return None
    date_part, _, rest = value.replace("/", "-").replace("T", " ").partition(" ")
    offset = ""
    match = _OFFSET_PY.search(rest)
    if match:
        offset, rest = match.group(0), rest[: match.start()]
    year, month, day = (int(x) for x in date_part.split("-"))
    hms = (rest or "0:00").split(":")
    whole, _, fraction = (hms[2] if len(hms) > 2 else "0").partition(".")
    if not FIRST_YEAR <= year <= LAST_YEAR:
        return None
    try:
        moment = dt.datetime(
            year, month, day, int(hms[0]), int(hms[1]), int(whole), int((fraction + "000000")[:6])
        )
    except ValueError:
        return None
    if offset == "Z":
        return moment.replace(tzinfo=dt.UTC)
    if offset:
        digits = offset[1:].replace(":", "")
        shift = dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        return moment.replace(tzinfo=dt.timezone(shift if offset[0] == "+" else -shift))
    # A local time that a change of clocks skips or repeats is read as PostgreSQL reads it: with the
    # offset in force after the change (the later of the two readings).
    # The instant in UTC: arithmetic and comparisons on it need no care for the zone's folds.
    zone = zoneinfo.ZoneInfo(tz_name)
    return max(moment.replace(tzinfo=zone, fold=fold).astimezone(dt.UTC) for fold in (0, 1))


def parse_date(value: str) -> dt.date | None:
    if not _DATE_PY.fullmatch(value):
        return None
    year, month, day = (int(x) for x in value.replace("/", "-").split("-"))
    if not FIRST_YEAR <= year <= LAST_YEAR:
        return None
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def parse_int(value: str) -> int | None:
    return int(value) if _INT_PY.fullmatch(value) else None


def parse_key(value: str) -> int | None:
    if not _KEY_PY.fullmatch(value):
        return None
    key = int(value)
    return key if -(2**63) <= key < 2**63 else None


def parse_duration(value: str) -> int | None:
    """Seconds, from 95, 1:35 or 0:01:35."""
    if not _DURATION_PY.fullmatch(value):
        return None
    seconds = 0
    for part in value.split(":"):
        seconds = seconds * 60 + int(part)
    return seconds


def parse_decimal(value: str, digits: int, places: int) -> Decimal | None:
    if not _full(decimal_form(digits, places)).fullmatch(value):
        return None
    try:
        return Decimal(value)
    except InvalidOperation:  # pragma: no cover - the form admits only numbers
        return None


def parse(kind: str, value: str, *, tz_name: str = "UTC", digits: int = 12, places: int = 6):
    """The value of a non-empty, trimmed text of a kind, or None when it is not of that kind."""
    if kind == "datetime":
        return parse_datetime(value, tz_name)
    if kind == "date":
        return parse_date(value)
    if kind == "int":
        return parse_int(value)
    if kind == "key":
        return parse_key(value)
    if kind == "duration":
        return parse_duration(value)
    if kind == "decimal":
        return parse_decimal(value, digits, places)
    if kind == "bool":
        return {"1": True, "0": False}.get(value)
    return value


def canonical_datetime(moment: dt.datetime) -> str:
    """A computed time as text the grammar reads back to the same instant (UTC, with its offset)."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f") + "Z"


# --- PostgreSQL: the same forms in SQL -----------------------------------------------------------------


def quote(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _pg_day_ok(v: str) -> str:
    """The day exists and the year is in range: 30 February is refused without a failed cast (which would
    abort the whole statement). ``v`` already matched the date form."""
    date = f"split_part(translate({v}, '/T', '- '), ' ', 1)"
    y, m, d = (f"split_part({date}, '-', {i})::int" for i in (1, 2, 3))
    leap = f"(mod({y}, 4) = 0 AND mod({y}, 100) <> 0) OR mod({y}, 400) = 0"
    return (
        f"({y} BETWEEN {FIRST_YEAR} AND {LAST_YEAR} AND {d} <= CASE WHEN {m} IN (4, 6, 9, 11) THEN 30 "
        f"WHEN {m} = 2 THEN CASE WHEN {leap} THEN 29 ELSE 28 END ELSE 31 END)"
    )


def pg_valid(kind: str, v: str, *, digits: int = 12, places: int = 6) -> str | None:
    """SQL true when the non-empty text ``v`` is of ``kind``; None for kinds every text belongs to."""
    # CASE, not AND: the day's check casts parts of the value, so it must never see another form (a
    # planner may evaluate the terms of an AND in any order).
    if kind == "datetime":
        return f"CASE WHEN {v} ~ {quote('^(' + DATETIME_FORM + ')$')} THEN {_pg_day_ok(v)} ELSE false END"
    if kind == "date":
        return (
            f"CASE WHEN {v} ~ {quote('^(' + DATE_FORM + ')$')} THEN {_pg_day_ok(v)} ELSE false END"
        )
    if kind == "int":
        return f"({v} ~ {quote('^(' + INT_FORM + ')$')})"
    if kind == "key":  # 19 digits may still overflow: the range is checked on the numeric
        within = f"CAST({v} AS numeric) BETWEEN {-(2**63)} AND {2**63 - 1}"
        return f"CASE WHEN {v} ~ {quote('^(' + KEY_FORM + ')$')} THEN {within} ELSE false END"
    if kind == "duration":
        return f"({v} ~ {quote('^(' + DURATION_FORM + ')$')})"
    if kind == "decimal":
        return f"({v} ~ {quote('^(' + decimal_form(digits, places) + ')$')})"
    if kind == "bool":
        return f"({v} IN ('1', '0'))"
    return None


def pg_value(kind: str, v: str, tz: str) -> str:
    """SQL of the typed value of ``v``, which is of ``kind`` (guard it with ``pg_valid``: a cast of a
    value of another form would abort the statement)."""
    if kind == "datetime":
        iso = f"translate({v}, '/', '-')"
        return (
            f"CASE WHEN {iso} ~ {quote(OFFSET_AT_END)} THEN CAST({iso} AS timestamptz) "
            f"ELSE CAST({iso} AS timestamp) AT TIME ZONE {quote(tz)} END"
        )
    if kind == "date":
        return f"CAST(translate({v}, '/', '-') AS date)"
    if kind == "int":
        return f"CAST({v} AS integer)"
    if kind == "key":
        return f"CAST({v} AS bigint)"
    if kind == "duration":
        return (
            f"CASE WHEN strpos({v}, ':') = 0 THEN CAST({v} AS integer) "
            f"WHEN {v} ~ '^[0-9]+:[0-9]+$' THEN split_part({v}, ':', 1)::int * 60 + split_part({v}, ':', 2)::int "
            f"ELSE split_part({v}, ':', 1)::int * 3600 + split_part({v}, ':', 2)::int * 60 "
            f"+ split_part({v}, ':', 3)::int END"
        )
    if kind == "decimal":
        return f"CAST({v} AS numeric)"
    if kind == "bool":
        return f"({v} = '1')"
    return v


@dataclass(frozen=True)
class FastForm:
    """PostgreSQL's fast form of a kind: a plain cast of the text (``raw``: it may raise on a value of
    no form at all), the value from that cast, and whether the text is written exactly as PostgreSQL
    writes the cast value back — always a form of the grammar. Needs ``DateStyle`` ISO, and the session's
    ``TimeZone`` set to the file's zone (``Postgres.file_zone``): a local time becomes an instant by the
    session's zone, the same instant as by ``AT TIME ZONE`` (a skipped or repeated local time is resolved
    by the same rule) and a quarter of a second cheaper per 500,000 values."""

    sql_type: str

    def raw(self, v: str) -> str:
        return f"CAST({v} AS {self.sql_type})"

    def canonical(self, raw: str, v: str) -> str:
        return f"{raw}::text = {v}"

    def value(self, raw: str) -> str:
        return f"CAST({raw} AS timestamptz)" if self.sql_type == "timestamp" else raw


_FAST = {"int": "integer", "duration": "integer", "datetime": "timestamp", "date": "date"}


def pg_fast(kind: str) -> FastForm | None:
    """The kind's fast form, or None for kinds without one."""
    return FastForm(_FAST[kind]) if kind in _FAST else None


def fast_kind_ok(kind: str, minimum, maximum) -> bool:
    """A kind's fast form stays inside the grammar only with a range that bounds its digits (the grammar
    allows 9): a duration or whole number checked against a maximum below a billion."""
    if kind in ("int", "duration"):
        return (
            maximum is not None and maximum < 10**9 and (minimum is not None and minimum > -(10**9))
        )
    return kind in ("datetime", "date")


# --- Python values as SQLite stores them -----------------------------------------------------------------


def sqlite_value(kind: str, value: str | None, tz_name: str, digits: int = 12, places: int = 6):
    """What SQLite stores for a text of ``kind`` (Django's SQLite backend keeps naive UTC text for times),
    or None when it is not of that kind. Registered on the connection as ``imp_value``."""
    if value is None:
        return None
    parsed = parse(kind, value, tz_name=tz_name, digits=digits, places=places)
    if parsed is None:
        return None
    if kind == "datetime":
        return parsed.astimezone(dt.UTC).replace(tzinfo=None).isoformat(sep=" ")
    if kind == "date":
        return parsed.isoformat()
    if kind == "decimal":
        return str(parsed)
    if kind == "bool":
        return 1 if parsed else 0
    return parsed
