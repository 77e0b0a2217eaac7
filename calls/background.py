"""Tasks started from a page in the embedded default (no broker), without making the page wait.

With a broker, a task goes to the workers after commit and the page returns at once. Without one,
Celery runs a task in process when it is enqueued: an upload's page would wait for the whole import and
never show its progress. Here such a task runs in a thread of the web process instead, after commit,
with its own database connection, closed when it ends. ``EMBEDDED_TASKS_IN_THREAD`` turns it off (the
test suite runs embedded tasks at commit, in the request, to check their result at once).
"""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.db import close_old_connections, connections, transaction

logger = logging.getLogger(__name__)


def run_after_commit(task, *args) -> None:
    """Enqueue ``task(*args)`` after the current transaction commits: to the workers when there is a
    broker, in a thread of this process in the embedded default."""
    if not (settings.CELERY_TASK_ALWAYS_EAGER and settings.EMBEDDED_TASKS_IN_THREAD):
        task.delay_on_commit(*args)
        return
    transaction.on_commit(
        lambda: threading.Thread(
            target=_run, args=(task, args), name=f"task-{task.name}", daemon=True
        ).start()
    )


def _run(task, args) -> None:
    close_old_connections()
    try:
        task.apply(args=args)
    except (
        Exception
    ):  # the task records its own failure (a batch "failed"); the trace goes to the log
        logger.exception("Task %s%s failed in the background", task.name, args)
    finally:
        connections.close_all()
