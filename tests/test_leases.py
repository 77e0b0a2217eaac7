"""Leases: an import or a run's chunk whose worker died is claimed again (by the watchdog or the next
delivery) and done from a clean state, or failed with the reason; a live worker's work is never taken;
nothing stays "running" without a worker. The real kills are in tests/test_worker.py."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from calls import leases
from calls import services as calls_services
from calls.models import Call, ImportBatch
from incentives import services
from incentives.models import Run, RunChunk, Statement
from incentives.services import runs
from tests.factories import CallFactory, PeriodFactory

CSV = (
    "call_id,agent_id,queue,direction,customer_number,entered_at,answered_at,wait_seconds,"
    "talk_seconds,hold_seconds,acw_seconds,transfers,outcome,complaint\n"
    "c1,A1,general,inbound,13800000001,2026-10-05 09:00:00,2026-10-05 09:00:12,12,200,0,30,0,resolved,0\n"
    "c2,A1,general,inbound,13800000002,2026-10-05 09:05:00,,40,0,0,0,0,abandoned,0\n"
)
PAST = dt.timedelta(seconds=1)


def _batch(*, status=ImportBatch.Status.RUNNING, file=True, **lease) -> ImportBatch:
    """A batch of two calls as a worker left it: by default importing, its worker gone a second ago."""
    lease.setdefault("leased_by", "dead-host:4242")
    lease.setdefault("lease_expires", timezone.now() - PAST)
    lease.setdefault("claims", 1)
    batch = ImportBatch(kind="calls", source="acd", filename="oct.csv", status=status, **lease)
    if file:
        batch.file.save("oct.csv", ContentFile(CSV.encode()), save=False)
    batch.save()
    return batch


def test_an_import_whose_worker_died_is_imported_again_from_the_start(people):
    batch = _batch()
    assert calls_services.import_leases_sweep() == 1
    batch.refresh_from_db()
    # Queued again (the worker's message is sent at commit), free for the next worker to claim.
    assert (batch.status, batch.leased_by, batch.lease_expires) == ("pending", "", None)
    calls_services.batch_run(batch_id=batch.pk)  # the next worker
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.APPLIED, batch.message
    assert (batch.rows_created, batch.claims) == (2, 2)
    assert "stopped before it finished" in batch.message
    assert "imported again from the start (attempt 2 of 3)" in batch.message
    assert Call.objects.filter(batch=batch).count() == 2
    assert not batch.file  # final: the uploaded file is gone (no retention in the tests)


def test_a_redelivered_message_claims_a_batch_whose_lease_ran_out(people):
    """The stuck batch of the old code: "importing", nobody's, and a re-delivery that returned at once."""
    batch = _batch(leased_by="", lease_expires=None, claims=0)
    calls_services.batch_run(batch_id=batch.pk)
    batch.refresh_from_db()
    assert (batch.status, batch.rows_created) == (ImportBatch.Status.APPLIED, 2)
    expired = _batch()
    calls_services.batch_run(batch_id=expired.pk)
    expired.refresh_from_db()
    assert expired.status == ImportBatch.Status.APPLIED


def test_a_live_workers_import_is_left_alone(people, client):
    batch = _batch(
        leased_by="busy-host:17", lease_expires=timezone.now() + dt.timedelta(seconds=60)
    )
    calls_services.batch_run(batch_id=batch.pk)  # a second delivery while the first worker works
    assert calls_services.import_leases_sweep() == 0
    batch.refresh_from_db()
    assert (batch.status, batch.rows_created, batch.leased_by) == ("running", 0, "busy-host:17")
    assert not Call.objects.exists()
    # Who imports it, and when another would take over, on the page and in the API.
    client.force_login(people.hr)
    page = client.get(reverse("calls:batch_detail", args=[batch.pk])).content.decode()
    assert (
        "Imported by the worker busy-host:17; should it stop, another takes the file over" in page
    )
    reply = client.get(reverse("api-import", args=[batch.pk])).json()
    assert (reply["leased_by"], reply["claims"]) == ("busy-host:17", 1)


def test_an_import_that_keeps_killing_its_workers_fails_with_the_reason(
    people, django_capture_on_commit_callbacks
):
    batch = _batch(claims=settings.WORK_LEASE_CLAIMS)
    with django_capture_on_commit_callbacks(execute=True):
        assert calls_services.import_leases_sweep() == 1
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.FAILED
    assert batch.message.startswith("oct.csv: the worker importing it stopped 3 times")
    assert batch.errors == [{"line": 1, "column": "", "value": "", "reason": batch.message}]
    assert not batch.file  # final: settled like any other
    assert calls_services.import_leases_sweep() == 0  # said once


def test_a_command_line_import_whose_process_died_fails_with_the_reason(people):
    batch = _batch(file=False, leased_by="ops-host:77")
    assert calls_services.import_leases_sweep() == 1
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.FAILED
    assert batch.message == (
        "oct.csv: the import run by ops-host:77 stopped before it finished; nothing of it was "
        "imported. Import the file again."
    )


def test_a_command_line_import_holds_its_batch_while_it_runs(people):
    batch = calls_services.facts_import(
        stream=ContentFile(CSV.encode()), filename="oct.csv", source="acd"
    )
    assert batch.status == ImportBatch.Status.APPLIED
    # Claimed by this process at creation (so the watchdog can tell if it dies), given back at the end.
    assert (batch.claims, batch.leased_by, batch.lease_expires) == (1, "", None)


def test_any_error_of_an_import_fails_its_batch_with_the_reason_on_the_page_and_in_the_api(
    people, client
):
    batch = _batch(status=ImportBatch.Status.PENDING, leased_by="", lease_expires=None, claims=0)
    batch.file.storage.delete(batch.file.name)  # the shared volume lost it
    calls_services.batch_run(batch_id=batch.pk)
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.FAILED
    assert batch.message.startswith("oct.csv: the import failed: FileNotFoundError")
    assert (batch.leased_by, batch.lease_expires) == ("", None)
    client.force_login(people.hr)
    page = client.get(reverse("calls:batch_detail", args=[batch.pk]))
    assert page.status_code == 200
    assert "the import failed: FileNotFoundError" in page.content.decode()
    reply = client.get(reverse("api-import", args=[batch.pk]))
    assert reply.status_code == 200
    assert (reply.json()["status"], reply.json()["message"]) == ("failed", batch.message)


@pytest.fixture
def october(people):
    when = dt.datetime(2026, 10, 15, 2, 0, tzinfo=dt.UTC)
    for number in range(10):
        CallFactory(agent=people.agent_a, started_at=when + dt.timedelta(minutes=number))
    return PeriodFactory(year=2026, month=10)


def _dead(chunk: RunChunk, claims: int = 1) -> None:
    RunChunk.objects.filter(pk=chunk.pk).update(
        leased_by="dead-host:4242", lease_expires=timezone.now() - PAST, claims=claims
    )


def test_a_chunk_whose_worker_died_is_computed_again(people, october):
    run = services.run_start(period=october)  # the chunks' messages wait: the test never commits
    chunk = RunChunk.objects.get(run=run, teams=people.team_a)
    _dead(chunk)
    services.run_chunk_execute(chunk_id=RunChunk.objects.get(run=run, teams=people.team_b).pk)
    assert services.run_leases_sweep() == 1
    chunk.refresh_from_db()
    assert (chunk.status, chunk.leased_by, chunk.lease_expires) == ("pending", "", None)
    services.run_chunk_execute(chunk_id=chunk.pk)  # the next worker
    chunk.refresh_from_db()
    run.refresh_from_db()
    assert (chunk.status, chunk.claims, chunk.attempts) == ("done", 2, 1)
    assert run.status == Run.Status.DONE
    assert Statement.objects.filter(run=run, team=people.team_a).count() == 2


def test_a_live_workers_chunk_is_left_alone(people, october):
    run = services.run_start(period=october)
    chunk = RunChunk.objects.get(run=run, teams=people.team_a)
    RunChunk.objects.filter(pk=chunk.pk).update(
        leased_by="live-host:1", lease_expires=timezone.now() + dt.timedelta(seconds=60), claims=1
    )
    services.run_chunk_execute(chunk_id=chunk.pk)  # a second delivery
    assert services.run_leases_sweep() == 0
    chunk.refresh_from_db()
    assert (chunk.status, chunk.leased_by) == ("pending", "live-host:1")
    assert not Statement.objects.filter(run=run).exists()


def test_a_chunk_that_keeps_killing_its_workers_fails_its_run_with_the_reason(people, october):
    run = services.run_start(period=october)
    chunk = RunChunk.objects.get(run=run, teams=people.team_a)
    _dead(chunk, claims=settings.WORK_LEASE_CLAIMS)
    assert services.run_leases_sweep() == 1
    run.refresh_from_db()
    chunk.refresh_from_db()
    assert chunk.status == RunChunk.Status.FAILED
    assert run.status == Run.Status.FAILED
    assert run.error == (
        "Team A: the worker computing it stopped 3 times before it finished (killed, or out of "
        "memory); the workers' logs say why."
    )
    # A failed run frees the month: the next one may start.
    assert services.run_start(period=october).status == Run.Status.PENDING


def test_a_worker_whose_chunk_was_taken_over_keeps_nothing(people, october, monkeypatch):
    """A worker that lost its lease (it stalled past it) and finds the chunk taken by another when it
    ends: its statements are rolled back, and the chunk is the other worker's to finish."""
    run = services.run_start(period=october)
    chunk = RunChunk.objects.get(run=run, teams=people.team_a)
    compute = runs._chunk_compute

    def stalled(chunk_):
        written = compute(chunk_)
        RunChunk.objects.filter(pk=chunk_.pk).update(leased_by="other-host:9")  # the take-over
        return written

    monkeypatch.setattr(runs, "_chunk_compute", stalled)
    services.run_chunk_execute(chunk_id=chunk.pk)
    chunk.refresh_from_db()
    assert (chunk.status, chunk.attempts) == (RunChunk.Status.PENDING, 0)
    assert not Statement.objects.filter(run=run).exists()
    assert Run.objects.get(pk=run.pk).status == Run.Status.RUNNING


def test_a_chunk_finished_by_another_worker_is_not_failed_by_a_late_error(people, october):
    run = services.run_start(period=october)
    for chunk in run.chunks.all():
        services.run_chunk_execute(chunk_id=chunk.pk)
    services.run_chunk_fail(chunk_id=run.chunks.first().pk, error="OperationalError: too late")
    run.refresh_from_db()
    assert run.status == Run.Status.DONE and not run.error


def test_the_watchdog_runs_every_minute():
    schedule = settings.CELERY_BEAT_SCHEDULE
    tasks = {entry["task"]: entry["schedule"] for entry in schedule.values()}
    for task in ("calls.tasks.leases_sweep", "incentives.tasks.leases_sweep"):
        assert tasks[task].minute == set(range(60)), task
    from config.celery import app

    app.loader.import_default_modules()
    assert {"calls.tasks.leases_sweep", "incentives.tasks.leases_sweep"} <= set(app.tasks)


@pytest.mark.django_db(transaction=True)
def test_a_working_worker_renews_its_lease(settings):
    """The renewal runs in a thread of its own, so a worker busy in one long query keeps its work."""
    if connection.vendor == "sqlite":
        pytest.skip(
            "SQLite (tasks in process) takes a lease as long as a task may run, not renewed"
        )
    settings.WORK_LEASE_SECONDS = 4  # renewed every second
    batch = _batch(
        file=False,
        leased_by=leases.holder(),
        lease_expires=timezone.now() + dt.timedelta(seconds=4),
    )
    first = batch.lease_expires
    with leases.kept(ImportBatch, batch.pk):
        time.sleep(2.5)
        batch.refresh_from_db()
        assert batch.lease_expires > first + dt.timedelta(seconds=1)
    # Once the work is over, nothing renews it: it is still there, unchanged, a second later.
    batch.refresh_from_db()
    last = batch.lease_expires
    time.sleep(1.5)
    batch.refresh_from_db()
    assert batch.lease_expires == last
    # Someone else's lease is not renewed by this process.
    ImportBatch.objects.filter(pk=batch.pk).update(leased_by="other-host:1")
    with leases.kept(ImportBatch, batch.pk):
        time.sleep(1.5)
    batch.refresh_from_db()
    assert batch.lease_expires == last
