"""The real thing: a task sent through the real broker is run by a real worker process, and its result
lands in PostgreSQL. Runs in CI (.ci/run); skipped locally without CELERY_BROKER_URL and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from incentives import services
from incentives.models import Run, RunChunk, Statement
from tests.factories import CallFactory, PeriodFactory

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _database_url() -> str:
    """The URL of the *test* database, which the worker must use to see what the test wrote."""
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def worker(tmp_path):
    """A Celery worker in its own process, on this run's queue, until the test ends."""
    log = tmp_path / "worker.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_TASK_DEFAULT_QUEUE": settings.CELERY_TASK_DEFAULT_QUEUE,
    }
    from config.celery import app

    app.control.purge()  # nothing of an earlier, interrupted run may reach this worker
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
                f"test-{os.getpid()}@%h",
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
            yield SimpleLog(process.pid, log)
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


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
