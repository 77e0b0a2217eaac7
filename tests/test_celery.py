"""The Celery app's policy: acks late, reject on worker loss, prefetch 1, bounded retries only on
transient errors."""

import pytest
from django.db import OperationalError

from config.celery import TRANSIENT_ERRORS
from config.celery import app as celery_app

attempts: list[str] = []


@celery_app.task(name="tests.flaky")
def flaky(fail_times: int, error: str) -> str:
    attempts.append(error)
    if len(attempts) <= fail_times:
        raise {"transient": OperationalError, "bug": ValueError}[error]("boom")
    return "done"


@pytest.fixture(autouse=True)
def _no_eager_propagation():
    """In process, Celery retries only when it does not propagate errors (each retry re-applies with
    the app's setting); a worker never propagates, so this is the worker's behaviour."""
    before = celery_app.conf.task_eager_propagates
    celery_app.conf.task_eager_propagates = False
    yield
    celery_app.conf.task_eager_propagates = before


def test_delivery_settings():
    conf = celery_app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1


def test_a_transient_error_is_retried_and_then_succeeds():
    attempts.clear()
    assert flaky.apply(args=(2, "transient"), throw=False).get() == "done"
    assert len(attempts) == 3


def test_retries_are_bounded():
    attempts.clear()
    result = flaky.apply(args=(100, "transient"), throw=False)
    assert isinstance(result.result, OperationalError)
    assert len(attempts) == 1 + flaky.max_retries


def test_any_other_error_is_not_retried():
    attempts.clear()
    result = flaky.apply(args=(5, "bug"), throw=False)
    assert isinstance(result.result, ValueError)
    assert attempts == ["bug"]
    assert ValueError not in TRANSIENT_ERRORS


def test_beat_computes_the_month_that_has_just_ended_on_the_first():
    entry = celery_app.conf.beat_schedule["compute-previous-month"]
    assert entry["task"] in celery_app.tasks
    schedule = entry["schedule"]
    assert schedule.day_of_month == {1} and schedule.hour == {2} and schedule.minute == {0}
    assert celery_app.conf.beat_scheduler == "django_celery_beat.schedulers:DatabaseScheduler"
