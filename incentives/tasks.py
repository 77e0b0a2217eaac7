"""Celery entry points: thin; they take ids and call a service."""

from celery import shared_task

from config.celery import TransientRetryTask
from incentives import services


class ChunkTask(TransientRetryTask):
    """When a chunk fails for good (a bug, bad data, or transient errors past the retry bound), its run
    is marked failed with the reason, instead of waiting for ever."""

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        chunk_id = kwargs.get("chunk_id", args[0] if args else None)
        if chunk_id is not None:
            services.run_chunk_fail(chunk_id=chunk_id, error=f"{type(exc).__name__}: {exc}")


@shared_task(base=ChunkTask, name="incentives.tasks.compute_chunk")
def compute_chunk(chunk_id: int) -> None:
    """Compute one chunk (one team) of a run."""
    services.run_chunk_execute(chunk_id=chunk_id)


@shared_task(name="incentives.tasks.compute_previous_month")
def compute_previous_month() -> None:
    """Celery beat, on the 1st: compute the month that has just ended."""
    services.period_compute_previous_month()

