"""The Celery app.

Workers: ``celery -A config worker``; schedules: ``celery -A config beat`` (django-celery-beat keeps
them in the database, editable in the admin). Without ``CELERY_BROKER_URL`` tasks run in process.
"""

import os

from celery import Celery
from celery.contrib.django.task import DjangoTask
from django.db import InterfaceError, OperationalError
from kombu.exceptions import OperationalError as BrokerOperationalError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# The errors worth a retry: the database or broker went away for a moment (a failover, a restart, a
# dropped connection, a serialization failure under load). Anything else is a bug or bad data, and
# retrying it would only repeat the failure.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    BrokerOperationalError,
)


class TransientRetryTask(DjangoTask):
    """Base for our tasks: a bounded retry with back-off, on transient errors only; ``delay_on_commit``
    comes from ``DjangoTask``."""

    autoretry_for = TRANSIENT_ERRORS
    max_retries = 5
    retry_backoff = True
    retry_backoff_max = 300
    retry_jitter = True


app = Celery("incentives", task_cls=TransientRetryTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
