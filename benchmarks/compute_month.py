"""Compute a month of 1,000,000 calls for 2,000 agents and compare with one hand-written SQL query.

Target (the monthly computation's issue): a month of 1,000,000 calls for 2,000 agents under a 6-metric
plan, computed end to end (aggregation, scoring, statements and their lines written) on PostgreSQL in at
most 3× the time of one hand-written SQL query that computes the same 6 aggregates per agent, both
measured in this run; the number of queries does not grow with the number of agents.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/incentives_bench_compute \
        .venv/bin/python benchmarks/compute_month.py

The database is migrated if needed. The set-up — 40 teams of 50 agents, one active plan for all of them
(answer rate, ASA, AHT, first-correct transfers, complaint rate and service level, or FCR with
``--fcr``; the complaint gate; the standard tiers), 1,000,000 generated calls in October 2026 and the
calls of 200 veterans in August 2026 — is built once and reused (``--rebuild`` loads the calls again).
Without ``CELERY_BROKER_URL`` the chunks are computed in process when ``run_start`` commits, so
``run_start`` returns a finished run. The baseline is the median of 5 runs of its query after one to
warm the cache, ours the median of ``--repeat`` runs (default 3); the statements' lines are checked
against the baseline's sums. Queries are counted for October (2,000 agents) and August (200 agents in
the same 40 teams). The runs the benchmark made are deleted afterwards. ``--profile`` adds a cProfile
of one more run.
Last line: ``compute_month: ratio=<x> (target 3.0)``.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import logging
import os
import pstats
import statistics
import sys
import time
from decimal import Decimal as D
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "true")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, reset_queries, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from calls.generator import generate_calls  # noqa: E402
from calls.models import Call, ImportBatch  # noqa: E402
from calls.months import month_bounds  # noqa: E402
from calls.privacy import customer_key  # noqa: E402
from incentives.models import (  # noqa: E402
    Agent,
    Period,
    PlanVersion,
    Run,
    Statement,
    StatementGate,
    StatementLine,
    Team,
)
from incentives.presets import COMPLAINT_VOIDS, STANDARD_TIERS, Preset  # noqa: E402
from incentives.services import (  # noqa: E402
    agent_create,
    period_get_or_create,
    plan_create_from_preset,
    plan_version_update,
    run_start,
)
from incentives.validation import MetricSpec  # noqa: E402

TARGET = 3.0
TEAMS, PER_TEAM = 40, 50
# The first VETERANS agents of each team were hired long ago; the others on NEW_HIRES_FROM. The month
# before that (SMALL) therefore pays 200 agents in the same 40 teams: the query count of its run shows
# whether the count grows with the number of agents.
VETERANS = 5
LONG_AGO, NEW_HIRES_FROM = dt.date(2025, 1, 1), dt.date(2026, 9, 1)
YEAR, MONTH = 2026, 10
SMALL_YEAR, SMALL_MONTH = 2026, 8
CALLS = 1_000_000
# The generator's daily counts average ≈ 16.5 for 17: a little over a million, cut at CALLS.
CALLS_PER_AGENT_DAY = 17
SOURCE = "bench-compute"
PLAN_CODE = "bench-compute-month"
BASELINE_REPEAT = 5  # the query is short and its time varies by a tenth: the median of five
FCR_WINDOW_DAYS = 7  # the catalogue's default window, which the plan keeps
NULL = "\\N"  # COPY's text format


def _metric(metric, weight, threshold, target, excellence, cap) -> MetricSpec:
    return MetricSpec(
        metric=metric,
        weight=D(weight),
        threshold=D(threshold),
        target=D(target),
        excellence=D(excellence),
        excellence_payout=D(cap),
    )


# Six call metrics, their weights adding up to 100, with goals set so that the generated agents spread
# over the whole curve; the complaint gate of the field's presets; the standard tiers. The sixth metric
# is the service level (20 s), or first-contact resolution with --fcr.
COMMON = (
    _metric("answer_rate", 25, 90, 95, 98, 150),
    _metric("asa", 15, 20, 14, 10, 150),
    _metric("aht", 15, 360, 300, 240, 130),
    _metric("first_correct_transfer", 10, 75, 85, 95, 130),
    _metric("complaint_rate", 15, "0.8", "0.4", "0.1", 130),
)
SERVICE_LEVEL = _metric("service_level", 20, 60, 70, 80, 130)
FCR = _metric("fcr", 20, 45, 52, 60, 130)


def plan_preset(*, fcr: bool) -> Preset:
    return Preset(
        code=PLAN_CODE,
        name="Benchmark · six call metrics",
        description="The plan of benchmarks/compute_month.py.",
        metrics=(*COMMON, FCR if fcr else SERVICE_LEVEL),
        tiers=STANDARD_TIERS,
        gates=(COMPLAINT_VOIDS,),
    )


# The same six aggregates, per agent, for the month, in one statement: what one would write by hand
# (the first five metrics' sums are shared by both variants).
# Columns: agent, then numerator and denominator of answer rate, ASA, AHT (its denominator is the
# answer rate's numerator), first-correct transfers, complaint rate (its denominator is the answer
# rate's), and of the sixth metric.
_FIVE = """
       COUNT(*) FILTER (WHERE answered_at IS NOT NULL) AS answered,
       COUNT(*) AS offered,
       SUM(wait_seconds) FILTER (WHERE direction = 'inbound' AND answered_at IS NOT NULL) AS waited,
       COUNT(*) FILTER (WHERE direction = 'inbound' AND answered_at IS NOT NULL) AS answered_in,
       SUM(talk_seconds + hold_seconds + acw_seconds) FILTER (WHERE answered_at IS NOT NULL) AS handled,
       COUNT(*) FILTER (WHERE transfers > 0 AND transfer_correct) AS correct,
       COUNT(*) FILTER (WHERE transfers > 0 AND transfer_correct IS NOT NULL) AS transferred,
       COUNT(*) FILTER (WHERE complaint) AS complaints,"""
BASELINE_SQL = f"""
SELECT agent_id,{_FIVE}
       COUNT(*) FILTER (WHERE direction = 'inbound' AND answered_at IS NOT NULL
                          AND wait_seconds <= 20) AS within,
       COUNT(*) FILTER (WHERE direction = 'inbound') AS inbound
FROM calls_call
WHERE started_at >= %(start)s AND started_at < %(end)s AND agent_id IS NOT NULL
GROUP BY agent_id
"""  # noqa: S608 (our own constant text)
# FCR needs each inbound call's next inbound call of the same customer, up to the window after the
# month: one window over the month and the window's days, then the same aggregates over the month.
BASELINE_FCR_SQL = f"""
WITH calls AS (
    SELECT agent_id, direction, customer_key, started_at, answered_at, wait_seconds, talk_seconds,
           hold_seconds, acw_seconds, transfers, transfer_correct, complaint,
           LEAD(started_at) OVER (PARTITION BY direction, customer_key ORDER BY started_at, id) AS next_at
    FROM calls_call
    WHERE started_at >= %(start)s AND started_at < %(horizon)s
)
SELECT agent_id,{_FIVE}
       COUNT(*) FILTER (WHERE direction = 'inbound' AND customer_key IS NOT NULL
                          AND answered_at IS NOT NULL
                          AND (next_at IS NULL
                               OR next_at > started_at + make_interval(days => %(window)s))) AS first,
       COUNT(*) FILTER (WHERE direction = 'inbound' AND customer_key IS NOT NULL
                          AND answered_at IS NOT NULL) AS contacts
FROM calls
WHERE started_at < %(end)s AND agent_id IS NOT NULL
GROUP BY agent_id
"""  # noqa: S608 (our own constant text)


# --- set-up (not timed) ---------------------------------------------------------------------------


def employee_id(team: int, number: int) -> str:
    return f"CM{team:02d}{number:02d}"


def organisation(preset: Preset) -> None:
    """40 teams of 50 agents and the plan in force for all of them; what exists already is kept, and
    the plan's version is brought in line with ``preset`` (it is unused: the benchmark's runs are gone)."""
    teams = []
    for t in range(TEAMS):
        team, _ = Team.objects.get_or_create(
            code=f"bench-t{t:02d}", defaults={"name": f"Bench team {t:02d}"}
        )
        teams.append(team)
    existing = set(
        Agent.objects.filter(employee_id__startswith="CM").values_list("employee_id", flat=True)
    )
    for t, team in enumerate(teams):
        for n in range(PER_TEAM):
            if employee_id(t, n) in existing:
                continue
            hired = LONG_AGO if n < VETERANS else NEW_HIRES_FROM
            agent_create(
                employee_id=employee_id(t, n),
                name=f"Bench {t:02d}-{n:02d}",
                team=team,
                placed_from=hired,
                hire_date=hired,
                base_pay=D("6000.00") + D(n * 50),
            )
    version = PlanVersion.objects.filter(plan__code=PLAN_CODE).first()
    if version is None:
        plan_create_from_preset(
            preset=preset, code=PLAN_CODE, teams=teams, effective_from=LONG_AGO, activate=True
        )
    elif [m.metric for m in version.metrics.all()] != [m.metric for m in preset.metrics]:
        plan_version_update(version=version, spec=preset.spec(LONG_AGO), teams=teams)


def _month_calls(year: int, month: int) -> int:
    start, end = month_bounds(year, month)
    return Call.objects.filter(source=SOURCE, started_at__gte=start, started_at__lt=end).count()


def _copy_calls(rows, limit: int, agent_pk: dict[str, int], batch_id: int) -> int:
    """COPY generated rows straight into the calls table, typed as the importer types them: local
    times in the center's time zone, the customer number as its keyed hash, empty values as NULL."""
    keys: dict[str, int | str] = {}  # customer number → its key (or NULL), computed once
    columns = (
        "source, external_id, agent_id, queue, direction, customer_key, started_at, answered_at, "
        "wait_seconds, talk_seconds, hold_seconds, acw_seconds, transfers, outcome, complaint, "
        "transfer_correct, ended_by, batch_id"
    )
    written = 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('TimeZone', %s, true)", [settings.TIME_ZONE])
        with cursor.cursor.copy(f"COPY {Call._meta.db_table} ({columns}) FROM STDIN") as copy:
            lines = []
            for row in rows:
                if written == limit:
                    break
                number = row["customer_number"]
                key = keys.get(number)
                if key is None:
                    key = keys[number] = customer_key(number) or NULL
                answered, transfer_correct = row["answered_at"] or NULL, row["transfer_correct"]
                lines.append(
                    f"{SOURCE}\t{row['call_id']}\t{agent_pk[row['agent_id']]}\t{row['queue']}\t"
                    f"{row['direction']}\t{key}\t{row['entered_at']}\t{answered}\t"
                    f"{row['wait_seconds']}\t{row['talk_seconds']}\t{row['hold_seconds']}\t"
                    f"{row['acw_seconds']}\t{row['transfers']}\t{row['outcome']}\t{row['complaint']}\t"
                    f"{NULL if transfer_correct == '' else transfer_correct}\t{row['ended_by']}\t"
                    f"{batch_id}\n"
                )
                written += 1
                if len(lines) == 10_000:
                    copy.write("".join(lines))
                    lines.clear()
            copy.write("".join(lines))
    return written


def calls_load(*, rebuild: bool) -> None:
    """A month of CALLS calls for every agent, and a month of the veterans' calls; reused if there."""
    if not rebuild and _month_calls(YEAR, MONTH) == CALLS and _month_calls(SMALL_YEAR, SMALL_MONTH):
        print(
            f"set-up: reusing {CALLS:,} calls of {YEAR}-{MONTH:02d} (--rebuild to build them again)"
        )
        return
    started = time.perf_counter()
    with connection.cursor() as cursor:  # one statement: the ORM would walk a million rows
        cursor.execute("DELETE FROM calls_call WHERE source = %s", [SOURCE])
    ImportBatch.objects.filter(source=SOURCE).delete()
    batch = ImportBatch.objects.create(
        source=SOURCE, filename="compute_month.py", status=ImportBatch.Status.APPLIED
    )
    agent_pk = dict(Agent.objects.values_list("employee_id", "pk"))
    everyone = [employee_id(t, n) for t in range(TEAMS) for n in range(PER_TEAM)]
    veterans = [employee_id(t, n) for t in range(TEAMS) for n in range(VETERANS)]
    loaded = 0
    for year, month, agents, limit in (
        (YEAR, MONTH, everyone, CALLS),
        (SMALL_YEAR, SMALL_MONTH, veterans, 10**9),
    ):
        first_day = dt.date(year, month, 1)
        days = (month_bounds(year, month)[1].date() - first_day).days
        rows = generate_calls(
            employee_ids=agents,
            first_day=first_day,
            days=days,
            calls_per_agent_day=CALLS_PER_AGENT_DAY,
            seed=year * 100 + month,
            prefix=f"CM{year}{month:02d}",
        )
        count = _copy_calls(rows, limit, agent_pk, batch.pk)
        print(f"set-up: {count:,} calls of {year}-{month:02d} for {len(agents):,} agents")
        loaded += count
    ImportBatch.objects.filter(pk=batch.pk).update(rows_total=loaded, rows_created=loaded)
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {Call._meta.db_table}")
    print(f"set-up: loaded and analysed in {time.perf_counter() - started:.0f} s")


def runs_delete(periods: list[Period]) -> None:
    """Delete the runs of the benchmark's periods and everything they wrote; the periods reopen."""
    Run.objects.filter(period__in=periods).delete()
    Period.objects.filter(pk__in=[period.pk for period in periods]).update(
        status=Period.Status.OPEN
    )


# --- the two sides (timed) ------------------------------------------------------------------------


def baseline_once(*, fcr: bool) -> tuple[float, list[tuple]]:
    start, end = month_bounds(YEAR, MONTH)
    horizon = end + dt.timedelta(days=FCR_WINDOW_DAYS, seconds=1)
    params = {"start": start, "end": end, "horizon": horizon, "window": FCR_WINDOW_DAYS}
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(BASELINE_FCR_SQL if fcr else BASELINE_SQL, params)
        rows = cursor.fetchall()
    return time.perf_counter() - started, rows


def ours_once(period: Period) -> tuple[float, Run]:
    started = time.perf_counter()
    run = run_start(period=period)
    elapsed = time.perf_counter() - started
    if run.status != Run.Status.DONE:
        sys.exit(f"run {run} is {run.status}, not done: {run.error}")
    return elapsed, run


def queries_of_run(period: Period) -> tuple[int, float, Run]:
    """How many queries a run makes, and their time in the database (as Django's cursor measured it)."""
    reset_queries()  # the log keeps the last 9,000 queries: start it empty, or the count would be cut
    with CaptureQueriesContext(connection) as captured:
        run = run_start(period=period)
    if len(captured) >= connection.queries_limit:
        sys.exit(f"{connection.queries_limit} queries or more: the count would be cut off")
    return len(captured), sum(float(query["time"]) for query in captured), run


def check_lines(run: Run, rows: list[tuple], *, fcr: bool) -> None:
    """The statements' lines hold the same sums as the baseline: both compute the same aggregates."""
    (
        answered,
        offered,
        waited,
        answered_in,
        handled,
        correct,
        transferred,
        complaints,
        sixth,
        sixth_of,
    ) = (sum(row[i] or 0 for row in rows) for i in range(1, 11))
    expected = {
        "answer_rate": (answered, offered),
        "asa": (waited, answered_in),
        "aht": (handled, answered),
        "first_correct_transfer": (correct, transferred),
        "complaint_rate": (complaints, offered),
        "fcr" if fcr else "service_level": (sixth, sixth_of),
    }
    for metric, sums in expected.items():
        lines = StatementLine.objects.filter(statement__run=run, metric=metric)
        got = tuple(
            sum(lines.values_list(field, flat=True)) for field in ("numerator", "denominator")
        )
        if got != sums:
            sys.exit(f"{metric}: the lines sum to {got}, the baseline to {sums}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--repeat", type=int, default=5, help="runs timed, each side (median reported)"
    )
    parser.add_argument("--rebuild", action="store_true", help="generate and load the calls again")
    parser.add_argument(
        "--fcr", action="store_true", help="FCR as the sixth metric, not service level"
    )
    parser.add_argument("--profile", action="store_true", help="cProfile one more run of ours")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("This benchmark is about PostgreSQL: set DATABASE_URL to a PostgreSQL database.")
    logging.getLogger("celery.app.trace").setLevel(logging.WARNING)  # no line per eager task
    call_command("migrate", verbosity=0)
    period = period_get_or_create(year=YEAR, month=MONTH)
    small = period_get_or_create(year=SMALL_YEAR, month=SMALL_MONTH)
    runs_delete([period, small])
    started = time.perf_counter()
    preset = plan_preset(fcr=args.fcr)
    organisation(preset)
    print(
        f"set-up: {TEAMS} teams × {PER_TEAM} agents, plan {', '.join(m.metric for m in preset.metrics)} "
        f"({time.perf_counter() - started:.0f} s)"
    )
    calls_load(rebuild=args.rebuild)

    baseline_once(fcr=args.fcr)  # warm-up: both sides then read the month from memory, not disk
    # Interleaved, one of each in turn: a machine that slows down for a while slows both sides alike.
    baselines, rows, timings, run = [], [], [], None
    for _ in range(max(args.repeat, BASELINE_REPEAT)):
        elapsed, rows = baseline_once(fcr=args.fcr)
        baselines.append(elapsed)
        runs_delete([period, small])
        elapsed, run = ours_once(period)
        timings.append(elapsed)
    baseline = statistics.median(baselines)
    print(
        f"baseline, one SQL query for {len(rows):,} agents: median {baseline:.3f} s of "
        f"{', '.join(f'{t:.3f}' for t in baselines)}"
    )
    ours = statistics.median(timings)
    written = Statement.objects.filter(run=run).count()
    lines = StatementLine.objects.filter(statement__run=run).count()
    gates = StatementGate.objects.filter(statement__run=run).count()
    print(
        f"ours, run_start to a finished run: median {ours:.3f} s of {', '.join(f'{t:.3f}' for t in timings)}; "
        f"{written:,} statements, {lines:,} lines, {gates:,} gates hit, {run.chunks.count()} chunks"
    )
    check_lines(run, rows, fcr=args.fcr)
    print("check: the statement lines add up to the baseline's sums, metric by metric")

    for label, counted in (("full roster", period), ("small roster", small)):
        runs_delete([period, small])
        queries, seconds, counted_run = queries_of_run(counted)
        agents = Statement.objects.filter(run=counted_run).count()
        print(
            f"queries, {label} ({counted.year}-{counted.month:02d}): {queries} for {agents:,} agents "
            f"in {counted_run.chunks.count()} chunk(s), {seconds:.2f} s of them in the database"
        )

    if args.profile:
        runs_delete([period, small])
        profiler = cProfile.Profile()
        profiler.runcall(ours_once, period)
        pstats.Stats(profiler).sort_stats(os.environ.get("PROFILE_SORT", "cumulative")).print_stats(
            40
        )
    runs_delete([period, small])
    print(f"compute_month: ratio={ours / baseline:.2f} (target {TARGET})")


if __name__ == "__main__":
    main()
