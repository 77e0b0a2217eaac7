"""One grammar per kind of value: the Python parser, PostgreSQL's SQL and SQLite's SQL agree on every
value, and a row gets the same verdict whatever the rest of the file holds.

The SQLite dialect is always run, on an in-memory database of its own with the engine's functions
registered; the PostgreSQL dialect wherever the suite runs on PostgreSQL (CI): so CI holds all three to
each other, and the import tests below run the whole engine on whichever database the suite has.
"""

import datetime as dt
import io
import sqlite3
from decimal import Decimal

import pytest
from django.db import DataError, connection, transaction

from calls.importers import grammar
from calls.importers.engine import dialects
from calls.importers.facts import CALLS
from calls.models import Call, ImportBatch
from calls.services import facts_import

TZ = "Asia/Shanghai"

VALUES = {
    "datetime": [
        "2026-10-05 09:10:05",
        "2026/10/5 9:10",
        "2026-10-05T09:10:05.123",
        "2026-10-05 09:10:05+08:00",
        "2026-10-05T09:10:05Z",
        "2026-10-05 09:10:05+0530",
        "2026-10-05 09:10:05-03:00",
        "2026-10-05",
        "2024-02-29 10:00",
        "2026-02-29 10:00",
        "2026-02-30 10:00",
        "2026-04-31",
        "2026-10-05 24:00",
        "2026-10-05 9:7",
        "2026-10-05 09:10:05.1234567",
        "2026-10-05 09:10:05+15:00",
        "2026-10-05 09:10 +08:00",
        "now",
        "today",
        "epoch",
        "+7",
        "10/05/2026 09:00",
        "Oct 5 2026",
        "5 Oct 2026 09:00",
        "1969-12-31 23:59",
        "3000-01-01",
        "0000-01-01",
        "２０２６-10-05",
        "2026-10-05T",
        "2026-10-05 09:10:05 ",
        "2026-1-5 0:00:00",
    ],
    "date": [
        "2026-10-05",
        "2026/10/5",
        "2026-13-01",
        "2026-02-29",
        "2024-02-29",
        "2026-10-05 09:00",
        "05/10/2026",
        "today",
        "1969-12-31",
    ],
    "int": [
        "0",
        "7",
        "-7",
        "+7",
        "007",
        "1e3",
        "7.0",
        "999999999",
        "1000000000",
        "abc",
        "0x1F",
        "1_000",
        "٣",
    ],
    "duration": [
        "95",
        "1:35",
        "0:01:35",
        "1:60",
        "-5",
        "01:02:03",
        "1:2:3",
        "99999:59:59",
        "95.5",
        "1:35:",
        "+5",
        "007",
        "1000000000",
    ],
    "decimal": [
        "12.5",
        "12.50",
        ".5",
        "12.",
        "1,5",
        "-3",
        "12.123",
        "1e2",
        "123456789012.12",
        "1234567890123",
    ],
    "bool": ["1", "0", "2", "yes", "true"],
    "key": [
        "123",
        "-9223372036854775808",
        "9223372036854775807",
        "9223372036854775808",
        "1.5",
        "abc",
        "+1",
    ],
}


class _Field:
    def __init__(self, kind, digits=12, places=2, minimum=0, maximum=86400):
        self.kind, self.digits, self.places, self.minimum, self.maximum = (
            kind,
            digits,
            places,
            minimum,
            maximum,
        )


def _expected(kind, value):
    parsed = grammar.parse(kind, value, tz_name=TZ, digits=12, places=2)
    if isinstance(parsed, dt.datetime):
        return parsed.astimezone(dt.UTC)
    return parsed


@pytest.fixture(scope="module")
def sqlite_db():
    """An in-memory SQLite database with the engine's functions, as ``dialects.dialect`` registers them."""
    db = sqlite3.connect(":memory:")
    db.create_function("imp_value", 5, grammar.sqlite_value, deterministic=True)
    yield db
    db.close()


@pytest.mark.parametrize("kind", sorted(VALUES))
def test_sqlite_reads_every_value_as_the_parser_does(kind, sqlite_db):
    d, f = dialects.Sqlite(), _Field(kind)
    for value in VALUES[kind]:
        v = grammar.quote(value)
        valid, typed = sqlite_db.execute(f"SELECT {d.valid(f, v)}, {d.value(f, v, TZ)}").fetchone()
        expected = grammar.sqlite_value(kind, value, TZ, 12, 2)
        assert bool(valid) == (expected is not None), (kind, value)
        if expected is not None and kind != "decimal":
            assert typed == expected, (kind, value)
        elif expected is not None:
            assert Decimal(str(typed)) == Decimal(expected), (kind, value)


@pytest.mark.django_db
@pytest.mark.parametrize("kind", sorted(VALUES))
def test_postgresql_reads_every_value_as_the_parser_does(kind):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's dialect runs where the suite runs on PostgreSQL (CI)")
    d, f = dialects.Postgres(), _Field(kind)
    with connection.cursor() as cursor:
        cursor.execute("SET DateStyle = 'ISO, YMD'")
        for value in VALUES[kind]:
            # From a row, as in an import (a literal would be folded by the planner, every branch cast).
            rows, v = f"(VALUES ({grammar.quote(value)})) r(v)", "r.v"
            cursor.execute(f"SELECT {d.valid(f, v)} FROM {rows}")
            valid = cursor.fetchone()[0]
            expected = _expected(kind, value)
            assert bool(valid) == (expected is not None), (kind, value)
            if expected is None:
                continue
            cursor.execute(f"SELECT {d.value(f, v, TZ)} FROM {rows}")
            typed = cursor.fetchone()[0]
            assert typed == expected, (kind, value)
            form = d.fast(f)
            if form is not None:  # a value written back as PostgreSQL writes it: the same value
                raw = form.raw(v)
                quick = f"CASE WHEN {form.canonical(raw, v)} THEN {form.value(raw)} END"
                same = f"({quick}) IS NULL OR ({quick}) = ({d.value(f, v, TZ)})"
                try:  # the fast form may raise: its import then goes the careful way
                    with transaction.atomic(), d.file_zone(cursor, TZ):
                        cursor.execute(f"SELECT {same} FROM {rows}")
                        agrees = cursor.fetchone()[0]
                except DataError:
                    continue
                assert agrees, (kind, value)


def test_a_local_time_that_the_clocks_skip_or_repeat_is_read_as_postgresql_reads_it():
    # New York, 2026: 02:30 on 8 March does not exist; 01:30 on 1 November happens twice.
    skipped = grammar.parse_datetime("2026-03-08 02:30", "America/New_York").astimezone(dt.UTC)
    repeated = grammar.parse_datetime("2026-11-01 01:30", "America/New_York").astimezone(dt.UTC)
    assert skipped == dt.datetime(2026, 3, 8, 7, 30, tzinfo=dt.UTC)
    assert repeated == dt.datetime(2026, 11, 1, 6, 30, tzinfo=dt.UTC)  # the later reading


@pytest.mark.django_db
def test_postgresql_reads_a_change_of_clocks_as_the_parser_does():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    d, f = dialects.Postgres(), _Field("datetime")
    with connection.cursor() as cursor:
        for value in ("2026-03-08 02:30", "2026-11-01 01:30", "2026-11-01 00:59:59"):
            rows = f"(VALUES ({grammar.quote(value)})) r(v)"
            cursor.execute(f"SELECT {d.value(f, 'r.v', 'America/New_York')} FROM {rows}")
            assert cursor.fetchone()[0] == grammar.parse_datetime(value, "America/New_York")
            # The fast form, by the session's zone, reads the same instant (as UTC text, since Django
            # reads a time back as one in its own zone).
            fast = d.fast(f).value(d.fast(f).raw("r.v"))
            with d.file_zone(cursor, "America/New_York"):
                cursor.execute(
                    f"SELECT to_char({fast} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') FROM {rows}"
                )
                seen = cursor.fetchone()[0]
            expected = grammar.parse_datetime(value, "America/New_York").astimezone(dt.UTC)
            assert seen == expected.strftime("%Y-%m-%d %H:%M:%S")


# --- whole imports: a row's verdict does not depend on its neighbours -----------------------------------

HEADER = "call_id,agent_id,direction,entered_at,answered_at,wait_seconds,talk_seconds\n"
GOOD_ROW = "{id},A1,inbound,2026-10-05 09:00:00,2026-10-05 09:00:10,10,60\n"
BAD_ROW = "{id},NOBODY,inbound,2026-10-05 09:00:00,,5,0\n"  # an unknown agent
# (entered_at, answered_at, wait) of a probe row → None when valid, else the columns named in error.
PROBES = [
    ("2026-10-05 09:00:00", "2026-10-05 09:00:07", "7", None),
    ("2026/10/5 9:00", "", "007", None),
    ("2026-10-05T09:00:00+08:00", "", "0:07", None),
    ("now", "", "7", {"entered_at"}),
    ("Oct 5 2026", "", "7", {"entered_at"}),
    ("10/05/2026 09:00", "", "7", {"entered_at"}),
    ("2026-10-05 09:00:00", "+7", "7", {"answered_at"}),
    ("2026-10-05 09:00:00", "", "+7", {"wait_seconds"}),
    ("2026-10-05 09:00:00", "", "7.0", {"wait_seconds"}),
    ("2026-10-05 09:00:00", "", "abc", {"wait_seconds"}),
    ("2026-02-30 09:00:00", "", "7", {"entered_at"}),
    ("epoch", "", "-1", {"entered_at", "wait_seconds"}),
]


def _probe_file(prefix: str, probe: tuple, *, neighbour: str) -> str:
    entered, answered, wait, _errors = probe
    rows = (
        GOOD_ROW.format(id=f"{prefix}-1") + f"{prefix}-p,A1,inbound,{entered},{answered},{wait},0\n"
    )
    return HEADER + rows + neighbour.format(id=f"{prefix}-2")


@pytest.mark.parametrize("probe", PROBES, ids=[p[0] + "|" + p[2] for p in PROBES])
def test_a_row_gets_the_same_verdict_alone_and_among_bad_rows(people, probe):
    alone = facts_import(
        stream=io.BytesIO(_probe_file("a", probe, neighbour=GOOD_ROW).encode()),
        filename="alone.csv",
        source="alone",
    )
    among = facts_import(
        stream=io.BytesIO(_probe_file("b", probe, neighbour=BAD_ROW).encode()),
        filename="among.csv",
        source="among",
        allow_partial=True,
    )
    expected = probe[3]
    said_alone = {e["column"] for e in alone.errors if e["line"] == 3}
    said_among = {e["column"] for e in among.errors if e["line"] == 3}
    assert said_alone == said_among == (expected or set())
    assert {e["line"] for e in among.errors} == ({3, 4} if expected else {4})
    if expected is None:
        assert alone.status == ImportBatch.Status.APPLIED
        one, other = Call.objects.get(external_id="a-p"), Call.objects.get(external_id="b-p")
        assert (one.started_at, one.answered_at, one.wait_seconds) == (
            other.started_at,
            other.answered_at,
            other.wait_seconds,
        )
        assert one.wait_seconds == 7 and one.started_at == dt.datetime(
            2026, 10, 5, 1, 0, tzinfo=dt.UTC
        )
    else:
        assert alone.status == ImportBatch.Status.REJECTED
        assert not Call.objects.filter(external_id__in=["a-p", "b-p"]).exists()


def test_every_field_names_a_kind_of_the_grammar():
    assert {f.kind for f in CALLS.fields} <= set(grammar.KINDS)
