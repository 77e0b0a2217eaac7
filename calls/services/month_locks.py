"""Month locks for the facts: a month approved or closed takes no import, change or rollback; an import
or a rollback under way holds the locks as they are until it ends."""

from __future__ import annotations

from django.db import OperationalError, connection, transaction

from calls.models import MonthLock


class MonthBusy(Exception):
    """A month's lock cannot change now: an import or a rollback is writing facts; the message says so."""


class MonthClosed(Exception):
    """A closed month stays closed: its corrections go into the next open month."""


# How long approving, closing or reopening a month waits for the imports and rollbacks under way to
# finish before it says so instead (an import of a million rows takes minutes; a page must not hang).
MONTH_LOCK_WAIT_SECONDS = 5


def month_locks_hold() -> None:
    """Inside an import's or a rollback's transaction: keep the month locks as they are until it ends.

    Without it, a month approved while a long import runs would receive that import's rows at its
    commit, after the approval. On PostgreSQL a SHARE lock on the table: imports and rollbacks run
    side by side, and approving, closing or reopening a month waits for them (``_month_locks_change``).
    SQLite has one writer at a time anyway."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {MonthLock._meta.db_table} IN SHARE MODE")


def _month_locks_change() -> None:
    """Inside the transaction that approves, closes or reopens a month: wait at most
    ``MONTH_LOCK_WAIT_SECONDS`` for the imports and rollbacks under way (``month_locks_hold``), then
    refuse with ``MonthBusy`` rather than keep a page waiting for minutes."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SHOW lock_timeout")
        before = cursor.fetchone()[0]
        try:
            with transaction.atomic():  # a savepoint: a lock that times out undoes only itself
                cursor.execute(
                    "SELECT set_config('lock_timeout', %s, true)",
                    [f"{MONTH_LOCK_WAIT_SECONDS * 1000}ms"],
                )
                cursor.execute(f"LOCK TABLE {MonthLock._meta.db_table} IN SHARE ROW EXCLUSIVE MODE")
        except OperationalError as exc:
            if getattr(exc.__cause__, "sqlstate", None) != "55P03":  # lock_not_available
                raise
            raise MonthBusy(
                "An import or a rollback is writing facts right now; try again when it has finished."
            ) from None
        cursor.execute("SELECT set_config('lock_timeout', %s, true)", [before])


@transaction.atomic
def month_lock(*, year: int, month: int, state: str = MonthLock.State.CLOSED) -> MonthLock:
    """Lock a month for the facts: ``approved`` when its period is approved (until HR reopens it),
    ``closed`` when it closes (for good). No import may add, change or roll back a fact dated in it
    after. Waits for the imports under way (``MonthBusy`` when they take too long); a closed month
    stays closed."""
    _month_locks_change()
    lock, created = MonthLock.objects.select_for_update().get_or_create(
        year=year, month=month, defaults={"state": state}
    )
    if not created and lock.state != MonthLock.State.CLOSED and lock.state != state:
        lock.state = state
        lock.full_clean()
        lock.save(update_fields=["state"])
    return lock


@transaction.atomic
def month_unlock(*, year: int, month: int) -> None:
    """Lift an approved month's lock (its period is reopened): imports and rollbacks may touch its facts
    again. A closed month is never unlocked (``MonthBusy`` as for ``month_lock``)."""
    _month_locks_change()
    lock = MonthLock.objects.select_for_update().filter(year=year, month=month).first()
    if lock is not None and lock.state == MonthLock.State.CLOSED:
        raise MonthClosed(f"The month {lock} is closed: it cannot be reopened.")
    if lock is not None:
        lock.delete()
