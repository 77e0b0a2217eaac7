"""The real thing: a task sent through the real broker is run by a real worker process, and its result
lands in PostgreSQL. Runs in CI (.ci/run); skipped locally without CELERY_BROKER_URL and PostgreSQL."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import os
import re
import signal
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, transaction

from calls.models import Call
from incentives import services
from incentives.models import Agent, Run, RunChunk, Statement
from tests.factories import (
    AgentFactory,
    BatchFactory,
    CallFactory,
    PeriodFactory,
    TeamFactory,
    plan_from_preset,
)

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _database_url() -> str:
    """The URL of the *test* database, which the worker must use to see what the test wrote."""
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@contextlib.contextmanager
def _worker_process(log: Path, **env: str):
    """Start a Celery worker (one process, ``--pool=solo``) on this run's queue, logging to ``log``;
    yield it once it is ready to take tasks, and stop it on leaving. ``env`` adds to its environment."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_TASK_DEFAULT_QUEUE": settings.CELERY_TASK_DEFAULT_QUEUE,
        "TEST_MEDIA_ROOT": str(settings.MEDIA_ROOT),  # the files this test uploaded
        **env,
    }
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool=solo",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-Q",
                settings.CELERY_TASK_DEFAULT_QUEUE,
                "--hostname",
                f"test-{os.getpid()}-{log.stem}@%h",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while "ready." not in log.read_text():
                assert process.poll() is None, f"the worker exited:\n{log.read_text()}"
                assert time.monotonic() < deadline, f"the worker did not start:\n{log.read_text()}"
                time.sleep(0.2)
            yield process
        finally:
            process.terminate()  # nothing happens if the test has killed it already
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def worker(tmp_path):
    """A Celery worker in its own process, on this run's queue, until the test ends."""
    from config.celery import app

    app.control.purge()  # nothing of an earlier, interrupted run may reach this worker
    log = tmp_path / "worker.log"
    with _worker_process(log) as process:
        yield SimpleLog(process.pid, log)


class SimpleLog:
    def __init__(self, pid: int, path: Path):
        self.pid, self.path = pid, path

    def text(self) -> str:
        return self.path.read_text()


def test_a_run_is_computed_by_a_real_worker_and_lands_in_postgresql(people, worker):
    assert connection.vendor == "postgresql"
    when = dt.datetime(2026, 10, 15, 2, 0, tzinfo=dt.UTC)
    for number in range(20):
        CallFactory(
            agent=people.agent_a,
            started_at=when + dt.timedelta(minutes=number),
            answered_at=None if number >= 19 else when + dt.timedelta(minutes=number, seconds=5),
        )
    period = PeriodFactory(year=2026, month=10)

    run = services.run_start(period=period)  # commits; the chunks go to Redis, not to this process
    deadline = time.monotonic() + 60
    while Run.objects.get(pk=run.pk).status in (Run.Status.PENDING, Run.Status.RUNNING):
        assert time.monotonic() < deadline, f"the run did not finish:\n{worker.text()}"
        time.sleep(0.2)

    run.refresh_from_db()
    assert run.status == Run.Status.DONE, run.error
    assert RunChunk.objects.filter(run=run, status=RunChunk.Status.DONE).count() == 2
    statement = Statement.objects.get(run=run, agent=people.agent_a)
    line = statement.lines.get()
    assert (line.numerator, line.denominator, line.value) == (19, 20, Decimal("95.0000"))
    assert statement.amount == Decimal("1400.00")  # score 100: the 100 tier, 1000 x 1.2 + 200
    # It was the worker process, not this one, that ran both chunks.
    assert worker.text().count("incentives.tasks.compute_chunk") >= 2
    assert "succeeded" in worker.text()


def test_two_requests_at_the_same_moment_start_one_run(people, tmp_path):
    """HR presses the button twice (or the schedule and HR at once): two sessions ask for the month at
    the same moment; one run starts, the other request is told which run is already under way, and the
    worker computes it once."""
    from config.celery import app

    assert connection.vendor == "postgresql"
    CallFactory(agent=people.agent_a, started_at=dt.datetime(2026, 10, 15, 2, 0, tzinfo=dt.UTC))
    period = PeriodFactory(year=2026, month=10)
    app.control.purge()
    # No worker yet: the run's chunks wait in Redis, so the run stays under way however slow the
    # second session is to get the period's lock.
    barrier = threading.Barrier(2)
    outcomes: list[tuple[str, int]] = []
    errors: list[BaseException] = []

    def request() -> None:
        try:
            barrier.wait(timeout=30)
            outcomes.append(("started", services.run_start(period=period).pk))
        except services.RunAlreadyActive as refused:
            outcomes.append(("refused", refused.run.pk))
        except BaseException as error:  # a thread's failure is the test's: re-raised below
            errors.append(error)
        finally:
            connection.close()  # each thread has its own session to PostgreSQL

    threads = [threading.Thread(target=request) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert sorted(kind for kind, _ in outcomes) == ["refused", "started"]
    assert outcomes[0][1] == outcomes[1][1]  # the refused request names the run that started
    run = Run.objects.get(period=period)
    assert run.status == Run.Status.PENDING

    with _worker_process(tmp_path / "worker.log"):
        run = _run_wait(run, tmp_path / "worker.log")
    assert run.status == Run.Status.DONE, run.error
    assert Run.objects.filter(period=period).count() == 1
    assert Statement.objects.filter(run=run).count() == 3  # A1, A2, B1: once each


# The lease of the worker a test kills (WORK_LEASE_SECONDS), short so that it runs out within the test.
LEASE = 4
TASK_RECEIVED = re.compile(r"incentives\.tasks\.compute_chunk\[([0-9a-f-]+)\] received")


def _now() -> dt.datetime:
    from django.utils import timezone

    return timezone.now()


def _wait_until(condition, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "waited in vain"
        time.sleep(0.2)


def _run_wait(run: Run, log: Path, *, seconds: float = 30) -> Run:
    """Wait until ``run`` is no longer waiting or running, and return it."""
    deadline = time.monotonic() + seconds
    while (run := Run.objects.get(pk=run.pk)).status in (Run.Status.PENDING, Run.Status.RUNNING):
        assert time.monotonic() < deadline, f"the run did not finish:\n{log.read_text()}"
        time.sleep(0.2)
    return run


def _statements_of(run: Run) -> dict[int, tuple]:
    """What a run paid each agent, and why: comparable between two runs."""
    return {
        statement.agent_id: (
            statement.amount,
            statement.weighted_score,
            statement.amount_before_cap,
            statement.facts_fingerprint,
            [
                (line.metric, line.value, line.numerator, line.denominator, line.score, line.points)
                for line in statement.lines.all()
            ],
        )
        for statement in Statement.objects.filter(run=run).prefetch_related("lines")
    }


def _unfinished_tasks(log: Path) -> set[str]:
    """The ids of the tasks a worker received and never finished (its log says neither how nor why)."""
    text = log.read_text()
    return {
        task_id
        for task_id in TASK_RECEIVED.findall(text)
        if f"[{task_id}] succeeded" not in text and f"[{task_id}] raised" not in text
    }


def _backends_waiting_on_me() -> list[int]:
    """The PostgreSQL server processes (of the worker) that wait for a lock this session holds.

    pg_locks, not pg_stat_activity: the latter is a snapshot taken once per transaction, and this is
    asked again and again inside one."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT pid FROM pg_locks"
            " WHERE NOT granted AND pg_backend_pid() = ANY(pg_blocking_pids(pid))"
        )
        return [pid for (pid,) in cursor.fetchall()]


def _backends_alive(pids: list[int]) -> bool:
    """Whether any of these PostgreSQL server processes is still there (ask outside a transaction)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", [pids])
        return cursor.fetchone()[0] > 0


def test_a_worker_killed_in_the_middle_of_a_run_leaves_the_same_statements(people, tmp_path):
    """SIGKILL (the out-of-memory killer, a lost node) takes a worker down in the middle of a team's
    chunk: its transaction is rolled back; once its lease runs out the watchdog queues the chunk again
    (Redis would give the dead worker's message back only after its visibility timeout, an hour), the
    next worker computes it, and the run ends with the statements an uninterrupted run computes."""
    from config.celery import app

    assert connection.vendor == "postgresql"
    # Six teams, so six chunks run one after another by a solo worker: a and b of the personas (plan
    # plan-ab), c to f with four agents each (plan plan-cf). The worker is killed on team d.
    teams = {code: TeamFactory(code=f"team-{code}", name=f"Team {code}") for code in "cdef"}
    for team in teams.values():
        AgentFactory.create_batch(4, team=team)
    plan_cf = plan_from_preset(code="plan-cf", teams=teams.values())
    agents = list(Agent.objects.order_by("pk"))
    batch = BatchFactory()
    when = dt.datetime(2026, 10, 5, 2, 0, tzinfo=dt.UTC)
    calls = []
    for n, agent in enumerate(agents):
        # 20 calls each, 0 to 4 of them unanswered: answer rates 100 to 80, so payouts differ.
        for minute in range(20):
            started = when + dt.timedelta(days=n % 20, minutes=minute)
            unanswered = minute < n % 5
            calls.append(
                CallFactory.build(
                    agent=agent,
                    batch=batch,
                    started_at=started,
                    answered_at=None if unanswered else started + dt.timedelta(seconds=5),
                )
            )
    Call.objects.bulk_create(calls)
    period = PeriodFactory(year=2026, month=10)

    app.control.purge()  # an earlier, interrupted test's messages must not reach these workers
    run = services.run_start(period=period)  # commits; six messages wait in Redis, no worker yet
    # RUN_CHUNK_AGENTS = 1 in the test settings: one chunk per team.
    chunks = {
        chunk.teams.get().code: chunk
        for chunk in run.chunks.prefetch_related("teams").order_by("pk")
    }
    assert list(chunks) == ["team-a", "team-b", "team-c", "team-d", "team-e", "team-f"]
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"

    # Make the worker stop, deterministically, half-way through team d's transaction: this test holds
    # an uncommitted statement of the run for team d's last agent, so the worker computes the team,
    # inserts the other agents' statements and then waits on the unique index (run, agent).
    with transaction.atomic():
        last_of_d = (
            Agent.objects.filter(placements__team=chunks["team-d"].teams.get())
            .order_by("pk")
            .last()
        )
        Statement.objects.create(
            run=run,
            agent=last_of_d,
            team=chunks["team-d"].teams.get(),
            plan_version=plan_cf,
            target_bonus=0,
            currency="CNY",
            weighted_score=0,
            tier_rate=0,
            kicker=0,
            amount_before_cap=0,
            amount=0,
        )
        with _worker_process(first_log, WORK_LEASE_SECONDS=str(LEASE)) as first:
            deadline = time.monotonic() + 30
            while not (waiting := _backends_waiting_on_me()):
                assert first.poll() is None, f"the worker exited:\n{first_log.read_text()}"
                assert time.monotonic() < deadline, (
                    f"team d never started:\n{first_log.read_text()}"
                )
                time.sleep(0.1)
            done = set(
                RunChunk.objects.filter(run=run, status=RunChunk.Status.DONE).values_list(
                    "teams__code", flat=True
                )
            )
            os.kill(first.pid, signal.SIGKILL)
            killed_at = time.time()
            assert first.wait(timeout=10) == -signal.SIGKILL
        # Drop the barrier. The dead worker's transaction can only be rolled back: nobody is left
        # to send its COMMIT.
        transaction.set_rollback(True)

    # Killed in the middle of the run, and in the middle of a chunk: three teams done, team d's task
    # taken and unfinished (so unacknowledged), e and f still in the queue.
    assert done == {"team-a", "team-b", "team-c"}
    killed_tasks = _unfinished_tasks(first_log)
    assert len(killed_tasks) == 1, first_log.read_text()
    # The killed worker's server process notices the lost client and rolls back: team d has no
    # statement and its chunk still waits, as if nobody had started it.
    deadline = time.monotonic() + 30
    while _backends_alive(waiting):
        assert time.monotonic() < deadline, "the dead worker's database session lingers"
        time.sleep(0.1)
    assert Run.objects.get(pk=run.pk).status == Run.Status.RUNNING
    chunk_d = RunChunk.objects.get(pk=chunks["team-d"].pk)
    assert (chunk_d.status, chunk_d.attempts, chunk_d.claims) == (RunChunk.Status.PENDING, 0, 1)
    assert chunk_d.leased_by.endswith(f":{first.pid}")  # the dead worker's lease, running out
    assert not Statement.objects.filter(run=run, team=chunk_d.teams.get()).exists()

    # The next worker, with the production visibility timeout: the dead worker's message stays with
    # Redis. The watchdog (Celery beat sends it every minute; here the test sends it once the lease has
    # run out) queues team d again.
    with _worker_process(second_log):
        _wait_until(lambda: RunChunk.objects.get(pk=chunk_d.pk).lease_expires < _now(), LEASE + 5)
        app.send_task("incentives.tasks.leases_sweep", queue=settings.CELERY_TASK_DEFAULT_QUEUE)
        run = _run_wait(run, second_log)
        recovered = time.time() - killed_at
        assert run.status == Run.Status.DONE, run.error
        # Team d was computed from the watchdog's new message, not from the dead worker's.
        assert not killed_tasks & set(TASK_RECEIVED.findall(second_log.read_text()))
        assert "incentives.tasks.leases_sweep" in second_log.read_text()
        assert not _unfinished_tasks(second_log), second_log.read_text()
        print(f"run recovered {recovered:.1f} s after the kill, with a lease of {LEASE} s")

        # The same month again, with nobody killed, by the same worker code.
        again = _run_wait(services.run_start(period=period), second_log)
        assert again.status == Run.Status.DONE, again.error

    assert set(run.chunks.values_list("status", flat=True)) == {RunChunk.Status.DONE}
    chunk_d.refresh_from_db()
    assert (chunk_d.attempts, chunk_d.claims) == (
        1,
        2,
    )  # the killed attempt left nothing but its claim
    interrupted, uninterrupted = _statements_of(run), _statements_of(again)
    assert len(interrupted) == len(agents) == 3 + 4 * 4
    assert interrupted == uninterrupted
    assert len({amount for amount, *_ in interrupted.values()}) > 1  # the comparison is not trivial


IMPORT_HEADER = (
    "call_id,agent_id,queue,direction,customer_number,entered_at,answered_at,wait_seconds,"
    "talk_seconds,hold_seconds,acw_seconds,transfers,outcome,complaint\n"
)


def _calls_file(rows: int) -> str:
    """A month's export of ``rows`` calls of the personas' agents, every one different."""
    lines = [IMPORT_HEADER]
    start = dt.datetime(2026, 10, 1, 9, 0)
    for n in range(rows):
        began = start + dt.timedelta(minutes=7 * n)
        answered = "" if n % 9 == 0 else f"{began + dt.timedelta(seconds=n % 40):%Y-%m-%d %H:%M:%S}"
        lines.append(
            f"k{n:06d},{('A1', 'A2', 'B1')[n % 3]},general,inbound,138{n:08d},"
            f"{began:%Y-%m-%d %H:%M:%S},{answered},{n % 40},{0 if not answered else 60 + n % 300},"
            f"0,{n % 20},0,{'abandoned' if not answered else 'resolved'},{int(n % 50 == 0)}\n"
        )
    return "".join(lines)


def _calls_of(source: str) -> set[tuple]:
    return set(
        Call.objects.filter(source=source).values_list(
            "external_id",
            "agent_id",
            "started_at",
            "answered_at",
            "wait_seconds",
            "talk_seconds",
            "acw_seconds",
            "customer_key",
            "complaint",
            "outcome",
        )
    )


def test_an_import_whose_worker_is_killed_during_its_final_insert_is_imported_again(
    people, tmp_path
):
    """The import a worker was writing when SIGKILL took it: nothing of it is applied, the batch is
    not left "importing" for ever: once the dead worker's lease runs out the watchdog queues it again,
    the next worker imports it from the start, and the calls are those of an import nobody killed."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from calls import services as calls_services
    from calls.models import ImportBatch
    from config.celery import app

    assert connection.vendor == "postgresql"
    rows = 3000
    text = _calls_file(rows)
    app.control.purge()
    batch = calls_services.upload_accept(
        uploaded=SimpleUploadedFile("october.csv", text.encode(), content_type="text/csv"),
        kind="calls",
        source="acd",
        mapping=None,
        allow_partial=False,
        period=None,
        queue_log=False,
        created_by=people.hr,
    )  # commits: the message waits in Redis, no worker yet
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"

    # Stop the worker, deterministically, in its final insert: this test holds an uncommitted call
    # with the key of the file's last row, so the worker's INSERT waits on the unique index.
    with transaction.atomic():
        CallFactory(source="acd", external_id=f"k{rows - 1:06d}", agent=people.agent_a)
        with _worker_process(first_log, WORK_LEASE_SECONDS=str(LEASE)) as first:
            deadline = time.monotonic() + 60
            while not (waiting := _backends_waiting_on_me()):
                assert first.poll() is None, f"the worker exited:\n{first_log.read_text()}"
                assert time.monotonic() < deadline, f"no final insert:\n{first_log.read_text()}"
                time.sleep(0.1)
            running = ImportBatch.objects.get(pk=batch.pk)
            os.kill(first.pid, signal.SIGKILL)
            killed_at = time.time()
            assert first.wait(timeout=10) == -signal.SIGKILL
        transaction.set_rollback(True)
    assert (running.status, running.claims) == (ImportBatch.Status.RUNNING, 1)
    assert running.leased_by.endswith(f":{first.pid}")
    _wait_until(lambda: not _backends_alive(waiting), 30)
    # Nothing half-applied, and the batch says it is being imported, by a worker whose lease runs out.
    assert not Call.objects.filter(source="acd").exists()
    assert ImportBatch.objects.get(pk=batch.pk).status == ImportBatch.Status.RUNNING

    with _worker_process(second_log):
        _wait_until(lambda: ImportBatch.objects.get(pk=batch.pk).lease_expires < _now(), LEASE + 5)
        app.send_task("calls.tasks.leases_sweep", queue=settings.CELERY_TASK_DEFAULT_QUEUE)
        deadline = time.monotonic() + 60
        while (batch := ImportBatch.objects.get(pk=batch.pk)).status in ("pending", "running"):
            assert time.monotonic() < deadline, f"not imported again:\n{second_log.read_text()}"
            time.sleep(0.2)
        recovered = time.time() - killed_at
        assert "calls.tasks.leases_sweep" in second_log.read_text()
    print(f"import recovered {recovered:.1f} s after the kill, with a lease of {LEASE} s")

    assert batch.status == ImportBatch.Status.APPLIED, batch.message
    assert (batch.rows_total, batch.rows_created, batch.rows_rejected) == (rows, rows, 0)
    assert (batch.claims, batch.leased_by, batch.lease_expires) == (2, "", None)
    assert "imported again from the start (attempt 2 of 3)" in batch.message
    assert not batch.file  # final: the upload is gone
    # The same file imported by nobody's killed worker gives the same calls.
    calls_services.facts_import(
        stream=io.BytesIO(text.encode()), filename="october.csv", source="clean"
    )
    interrupted, clean = _calls_of("acd"), _calls_of("clean")
    assert len(interrupted) == rows and interrupted == clean
