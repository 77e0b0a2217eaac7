"""Celery entry points: thin; they take ids and call a service."""

from celery import shared_task

from config.celery import TRANSIENT_ERRORS
from incentives import services


@shared_task(bind=True, name="incentives.tasks.compute_chunk")
def compute_chunk(self, chunk_id: int) -> None:
    """Compute one chunk (one team) of a run.

    A transient error is retried (bounded, see ``TransientRetryTask``); any other error, or the last
    failed retry, marks the chunk and its run failed with the reason, so HR sees why instead of a run
    that waits for ever. The error is re-raised: the worker logs it, nothing swallows it.
    """
    try:
        services.run_chunk_execute(chunk_id=chunk_id)
    except TRANSIENT_ERRORS as exc:
        if self.request.retries >= self.max_retries:
            services.run_chunk_fail(chunk_id=chunk_id, error=f"{type(exc).__name__}: {exc}")
        raise
    except Exception as exc:
        services.run_chunk_fail(chunk_id=chunk_id, error=f"{type(exc).__name__}: {exc}")
        raise


@shared_task(name="incentives.tasks.compute_previous_month")
def compute_previous_month() -> None:
    """Celery beat, on the 1st: compute the month that has just ended."""
    services.period_compute_previous_month()


@shared_task(name="incentives.tasks.leases_sweep")
def leases_sweep() -> int:
    """Celery beat, every minute: run chunks whose worker died queued again, or failed with the reason."""
    return services.run_leases_sweep()
