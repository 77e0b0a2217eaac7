"""Celery entry points of the calls floor: thin; they take ids and call a service."""

from celery import current_app, shared_task

from calls import services


@shared_task(name="calls.tasks.import_file")
def import_file(batch_id: int) -> None:
    """Import an uploaded file whose batch is waiting; progress goes to the cache for the page."""
    services.batch_run(batch_id=batch_id)
    # New facts: the floor's alerts are evaluated again. By name, as the floors above are not imported here.
    evaluate = current_app.tasks.get("reports.tasks.evaluate_alerts")
    if evaluate is not None:
        evaluate.delay()


@shared_task(name="calls.tasks.import_files_sweep")
def import_files_sweep() -> int:
    """Celery beat, daily: uploaded files past their retention deleted, any left in clear keyed."""
    return services.import_files_sweep()


@shared_task(name="calls.tasks.leases_sweep")
def leases_sweep() -> int:
    """Celery beat, every minute: imports whose worker died queued again, or failed with the reason."""
    return services.import_leases_sweep()
