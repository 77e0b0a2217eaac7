"""How long a month's computation takes to recover from a worker killed in the middle of it, with the
production lease and the watchdog sent by a real Celery beat.

Target (issue 14): a worker SIGKILLed at any point of a run costs at most a few minutes (taken as 300 s
from the kill to the finished run), and the statements are those of a run nobody killed.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/incentives_bench_compute \\
        CELERY_BROKER_URL=redis://127.0.0.1:6379/0 .venv/bin/python benchmarks/worker_recovery.py

It uses the set-up of ``compute_month.py`` (built there, or here if missing): 40 teams of 50 agents and
1,000,000 calls in October 2026, computed in chunks of 250 agents (eight chunks). It starts Celery beat
and a worker on a queue of its own, with the settings' lease (``WORK_LEASE_SECONDS``, 120 s by
default), starts a run, and makes the worker stop inside the fourth chunk's insert (an uncommitted
statement of that chunk's last agent holds it); it SIGKILLs the worker there and starts another (the
rest of a deployment's workers), and times the kill to the finished run. It then computes the month
again, nobody killed, and compares every statement. The runs it made are deleted at the end.
Last line: ``worker_recovery: seconds=<s> (target 300)``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("RUN_CHUNK_AGENTS", "250")
os.environ.setdefault("CELERY_TASK_DEFAULT_QUEUE", "bench-recovery")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

import compute_month as setup  # noqa: E402  (sets Django up)
from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from incentives.models import Agent, Run, RunChunk, Statement  # noqa: E402
from incentives.services import period_get_or_create, run_start  # noqa: E402

TARGET = 300.0
KILLED_CHUNK = 3  # the fourth of eight


def _celery(args: list[str], log: Path) -> subprocess.Popen:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "true"}
    out = log.open("w")
    return subprocess.Popen(  # noqa: S603  (our own interpreter and arguments)
        [sys.executable, "-m", "celery", "-A", "config", *args, "--loglevel=INFO"],
        cwd=ROOT,
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
    )


def _worker(name: str, folder: Path) -> tuple[subprocess.Popen, Path]:
    log = folder / f"{name}.log"
    process = _celery(
        [
            "worker",
            "--pool=solo",
            "--without-gossip",
            "--without-mingle",
            "-Q",
            settings.CELERY_TASK_DEFAULT_QUEUE,
            "--hostname",
            f"{name}-{os.getpid()}@%h",
        ],
        log,
    )
    deadline = time.monotonic() + 60
    while "ready." not in log.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            sys.exit(f"the worker did not start:\n{log.read_text()}")
        time.sleep(0.2)
    return process, log


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


def _waiting_on_me() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks"
            " WHERE NOT granted AND pg_backend_pid() = ANY(pg_blocking_pids(pid))"
        )
        return cursor.fetchone()[0] > 0


def _finished(run: Run, seconds: float) -> Run:
    deadline = time.monotonic() + seconds
    while (run := Run.objects.get(pk=run.pk)).status in (Run.Status.PENDING, Run.Status.RUNNING):
        if time.monotonic() > deadline:
            sys.exit(f"run {run} not finished after {seconds:.0f} s")
        time.sleep(0.5)
    if run.status != Run.Status.DONE:
        sys.exit(f"run {run} is {run.status}: {run.error}")
    return run


def _paid(run: Run) -> dict[int, tuple]:
    return {
        row[0]: row[1:]
        for row in Statement.objects.filter(run=run).values_list(
            "agent_id", "amount", "weighted_score", "facts_fingerprint"
        )
    }


def main() -> None:
    if connection.vendor != "postgresql" or settings.CELERY_TASK_ALWAYS_EAGER:
        sys.exit("Set DATABASE_URL to PostgreSQL and CELERY_BROKER_URL to Redis.")
    setup.call_command("migrate", verbosity=0)
    setup.organisation(setup.plan_preset(fcr=False))
    setup.calls_load(rebuild=False)
    period = period_get_or_create(year=setup.YEAR, month=setup.MONTH)
    setup.runs_delete([period])
    from config.celery import app

    app.control.purge()
    folder = Path(tempfile.mkdtemp(prefix="worker-recovery-"))
    print(f"lease {settings.WORK_LEASE_SECONDS} s, watchdog every minute; logs in {folder}")
    beat = _celery(["beat", "--schedule", str(folder / "beat-schedule")], folder / "beat.log")
    second = None
    try:
        run = run_start(period=period)  # commits: eight messages wait in Redis
        chunks = list(run.chunks.order_by("pk"))
        killed = chunks[KILLED_CHUNK]
        last = Agent.objects.filter(placements__team__in=killed.teams.all()).order_by("pk").last()
        with transaction.atomic():
            Statement.objects.create(
                run=run,
                agent=last,
                team=killed.teams.order_by("code").last(),
                plan_version=setup.PlanVersion.objects.filter(plan__code=setup.PLAN_CODE).first(),
                target_bonus=0,
                currency="CNY",
                weighted_score=0,
                tier_rate=0,
                kicker=0,
                amount_before_cap=0,
                amount=0,
            )
            first, first_log = _worker("recovery-first", folder)
            deadline = time.monotonic() + 120
            while not _waiting_on_me():
                if time.monotonic() > deadline:
                    sys.exit(f"the fourth chunk never started:\n{first_log.read_text()}")
                time.sleep(0.05)
            os.kill(first.pid, signal.SIGKILL)
            killed_at = time.monotonic()
            first.wait()
            transaction.set_rollback(True)
        done = RunChunk.objects.filter(run=run, status=RunChunk.Status.DONE).count()
        print(f"killed in chunk {KILLED_CHUNK + 1} of {len(chunks)}, {done} done before it")
        second, _second_log = _worker("recovery-second", folder)
        run = _finished(run, TARGET * 3)
        seconds = time.monotonic() - killed_at
        killed.refresh_from_db()
        print(
            f"recovered: the run finished {seconds:.1f} s after the kill (chunk claimed "
            f"{killed.claims} times, computed {killed.attempts} time)"
        )
        again = _finished(run_start(period=period), 300)
        interrupted, uninterrupted = _paid(run), _paid(again)
        if interrupted != uninterrupted or len(interrupted) != setup.TEAMS * setup.PER_TEAM:
            sys.exit("the statements differ from those of a run nobody killed")
        print(f"check: {len(interrupted):,} statements identical to those of a run nobody killed")
    finally:
        for process in (second, beat):
            if process is not None:
                with contextlib.suppress(Exception):
                    _stop(process)
        setup.runs_delete([period])
    print(f"worker_recovery: seconds={seconds:.1f} (target {TARGET:.0f})")


if __name__ == "__main__":
    main()
