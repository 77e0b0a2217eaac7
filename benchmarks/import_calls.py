"""Import 1,000,000 generated calls and compare with PostgreSQL's own COPY of the same file.

Target (issue 4): the import — read, validated, upserted and indexed — takes at most 3× the time of a
plain COPY of the same file into a typed table with a primary key, both measured in this run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/incentives_bench .venv/bin/python benchmarks/import_calls.py

The database is migrated if needed; the benchmark's calls are deleted afterwards. Options: --rows N.
Last line: ``import_calls: ratio=<x> (target 3.0)``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "true")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import DatabaseError, connection  # noqa: E402

from calls.generator import csv_lines, generate_calls  # noqa: E402
from calls.models import Call, ImportBatch  # noqa: E402
from calls.services import facts_import  # noqa: E402
from incentives.models import Agent  # noqa: E402

AGENTS = 500
TARGET = 3.0


def make_file(rows: int) -> Path:
    path = Path(tempfile.gettempdir()) / f"bench-calls-{rows}.csv"
    if path.exists():
        return path
    per_day = rows // (AGENTS * 31) + 2
    generated = generate_calls(
        employee_ids=[f"BENCH{n:04d}" for n in range(AGENTS)],
        first_day=dt.date(2026, 10, 1),
        days=31,
        calls_per_agent_day=per_day,
        seed=2026,
        prefix="BENCH",
    )
    # Written aside and renamed when whole: a run stopped while writing leaves no short file behind
    # for the next run to take as the full one.
    partial = path.with_suffix(f".partial-{os.getpid()}")
    with partial.open("w", encoding="utf-8") as out:
        for number, line in enumerate(csv_lines(generated)):
            if number > rows:
                break
            out.write(line)
    partial.replace(path)
    return path


def checkpoint() -> None:
    """Start each measured part from a clean checkpoint, so neither pays for the other's writes."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("CHECKPOINT")
    except DatabaseError:  # not a superuser: measure as it comes
        pass


def raw_copy_seconds(path: Path) -> float:
    """PostgreSQL alone: COPY the file into a typed table with a primary key.

    An ordinary table, written to the log like the calls table the import fills (a temporary table
    skips the write-ahead log and would compare durable work with work that is not).
    """
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_raw")
        cursor.execute(
            "CREATE TABLE bench_raw (call_id text PRIMARY KEY, agent_id text, queue text, direction text, "
            "customer_number text, entered_at timestamp, answered_at timestamp, wait_seconds int, talk_seconds int, "
            "hold_seconds int, acw_seconds int, transfers int, outcome text, complaint int, transfer_correct int, "
            "ended_by text)"
        )
        started = time.perf_counter()
        with (
            path.open("rb") as stream,
            cursor.cursor.copy("COPY bench_raw FROM STDIN WITH (FORMAT csv, HEADER true)") as copy,
        ):
            while chunk := stream.read(1024 * 1024):
                copy.write(chunk)
        elapsed = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_raw")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit(
            "This benchmark compares with PostgreSQL's COPY: set DATABASE_URL to a PostgreSQL database."
        )
    call_command("migrate", verbosity=0)
    Agent.objects.bulk_create(
        [Agent(employee_id=f"BENCH{n:04d}", name=f"Bench {n}") for n in range(AGENTS)],
        ignore_conflicts=True,
    )
    path = make_file(args.rows)
    print(f"file: {path} ({path.stat().st_size / 1e6:.0f} MB)")
    checkpoint()
    raw = raw_copy_seconds(path)
    print(f"PostgreSQL COPY into a table with a primary key: {raw:.2f} s")
    source = f"bench-{int(time.time())}"
    checkpoint()
    started = time.perf_counter()
    with path.open("rb") as stream:
        batch = facts_import(stream=stream, filename=path.name, kind="calls", source=source)
    ours = time.perf_counter() - started
    print(
        f"import: {ours:.2f} s — {batch.status}: {batch.rows_total:,} rows, {batch.rows_created:,} "
        f"created, {batch.rows_rejected:,} rejected"
    )
    if batch.status != ImportBatch.Status.APPLIED or batch.rows_created != batch.rows_total:
        sys.exit(f"the import did not apply every row: {batch.errors[:3]}")
    started = time.perf_counter()
    with path.open("rb") as stream:
        again = facts_import(stream=stream, filename=path.name, kind="calls", source=source)
    print(
        f"re-import of the same file: {time.perf_counter() - started:.2f} s, {again.rows_unchanged:,} unchanged, "
        f"{again.rows_created} created"
    )
    with connection.cursor() as cursor:  # one statement: the ORM would walk a million rows
        cursor.execute(
            "DELETE FROM calls_factchange WHERE batch_id IN (%s, %s)", [batch.pk, again.pk]
        )
        cursor.execute("DELETE FROM calls_call WHERE source = %s", [source])
        # The next run starts from the same compact table: a plain VACUUM would leave its indexes
        # holding the emptied pages of every earlier run.
        cursor.execute(f"VACUUM FULL {Call._meta.db_table}")
    print(f"import_calls: ratio={ours / raw:.2f} (target {TARGET})")


if __name__ == "__main__":
    main()
