"""Celery entry points of the reports floor."""

from celery import shared_task

from reports import services


@shared_task(name="reports.tasks.evaluate_alerts")
def evaluate_alerts() -> int:
    """Raise the alerts of every active rule, metric thresholds and no effective call alike (after an
    import, and every 5 minutes by beat)."""
    return services.alerts_evaluate()
