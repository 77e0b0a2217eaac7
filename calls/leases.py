"""Leases: work (an import batch, a run's chunk) is claimed by one worker for a while, and that worker
renews the claim while it works. Work whose lease has run out lost its worker (killed, out of memory,
a lost node): the watchdog (Celery beat, every minute) or the next delivery claims it again, and it
runs again from a clean state, as both are idempotent.

A worker holds a lease for ``WORK_LEASE_SECONDS`` and renews it every quarter of that from a thread of
its own, so a worker that is alive never loses its work, however long the work; a dead one loses it
within the lease. Work that lost its worker ``WORK_LEASE_CLAIMS`` times is failed with that reason
rather than tried for ever (a file that kills every worker that reads it).

The renewal writes the work's own row, never inside the work's transaction: the work locks its row
only for its last, short write, so a renewal waits at most for that.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import socket
import threading
from collections.abc import Iterator

from django.conf import settings
from django.db import DatabaseError, connection, connections, models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)


class Leased(models.Model):
    """The fields of work a worker claims: who holds it, until when, and how many claims it took."""

    leased_by = models.CharField(_("worker"), max_length=200, blank=True)
    lease_expires = models.DateTimeField(_("claimed until"), null=True, blank=True)
    claims = models.PositiveSmallIntegerField(_("claims"), default=0)

    class Meta:
        abstract = True


def holder() -> str:
    """This process, as a lease names it: host and process id (a worker's child has its own)."""
    return f"{socket.gethostname()}:{os.getpid()}"[:200]


def _renewed() -> bool:
    """Whether leases are renewed while the work runs. Not on SQLite (the embedded default, tasks in
    process): its one writer at a time would make the renewal wait for the work it renews."""
    return connection.vendor != "sqlite"


def length() -> dt.timedelta:
    """How long a claim lasts without renewal. Where nothing renews it, as long as a task may run."""
    seconds = settings.WORK_LEASE_SECONDS
    if not _renewed():
        seconds = max(seconds, settings.CELERY_TASK_TIME_LIMIT + seconds)
    return dt.timedelta(seconds=seconds)


def free(now: dt.datetime) -> Q:
    """Work nobody holds: never claimed, released, or whose lease ran out before ``now``."""
    return Q(lease_expires__isnull=True) | Q(lease_expires__lt=now)


def claim(queryset: models.QuerySet, **changes) -> bool:
    """Claim the one row of ``queryset`` if nobody holds it, applying ``changes`` with the claim; a
    conditional update, so of two workers at once one wins. Returns whether this process won."""
    now = timezone.now()
    return bool(
        queryset.filter(free(now)).update(
            leased_by=holder(), lease_expires=now + length(), claims=F("claims") + 1, **changes
        )
    )


def lease_fields(now: dt.datetime | None = None) -> dict:
    """The fields of a row created already claimed by this process (an import run from the command
    line creates its own batch)."""
    return {
        "leased_by": holder(),
        "lease_expires": (now or timezone.now()) + length(),
        "claims": 1,
    }


def release(model: type[models.Model], pk: int) -> None:
    """Give the work back (finished, or failed in a way another delivery may retry at once)."""
    model._default_manager.filter(pk=pk, leased_by=holder()).update(
        leased_by="", lease_expires=None
    )


def expired(queryset: models.QuerySet, now: dt.datetime | None = None) -> models.QuerySet:
    """The rows of ``queryset`` whose lease ran out: their worker is gone."""
    return queryset.filter(lease_expires__lt=now or timezone.now())


_kept_lock = threading.Lock()
_kept: dict[tuple[str, int], int] = {}  # the leases this process renews now, nested holds counted


@contextlib.contextmanager
def kept(model: type[models.Model], pk: int) -> Iterator[None]:
    """Renew this process's lease on ``model`` ``pk`` while the block runs. Nested blocks on the same
    work share one renewal."""
    key = (model._meta.label, pk)
    with _kept_lock:
        _kept[key] = _kept.get(key, 0) + 1
        first = _kept[key] == 1
    stop = threading.Event()
    renewer = None
    if first and _renewed():
        renewer = threading.Thread(
            target=_renew, args=(model, pk, holder(), stop), name=f"lease-{key}", daemon=True
        )
        renewer.start()
    try:
        yield
    finally:
        stop.set()
        if renewer is not None:
            renewer.join()
        with _kept_lock:
            _kept[key] -= 1
            if not _kept[key]:
                del _kept[key]


def _renew(model: type[models.Model], pk: int, me: str, stop: threading.Event) -> None:
    """The renewing thread: every quarter of the lease, push its end further, as long as this process
    still holds it. A failed renewal is logged and tried again; the lease is long enough for a few."""
    every = settings.WORK_LEASE_SECONDS / 4
    try:
        while not stop.wait(every):
            try:
                renewed = model._default_manager.filter(pk=pk, leased_by=me).update(
                    lease_expires=timezone.now() + length()
                )
            except DatabaseError:
                logger.warning(
                    "Could not renew the lease on %s %s", model.__name__, pk, exc_info=True
                )
                continue
            if not renewed:
                logger.warning("%s %s is no longer leased by %s", model.__name__, pk, me)
                return
    finally:
        connections.close_all()  # this thread's own sessions
