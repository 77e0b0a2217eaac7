"""Approved and closed months, as the facts' floor keeps them: no import adds, changes or rolls back a
fact dated in one (or moves one out of it); an approved month until HR reopens it, a closed one for
good. The rollback's confirmation counts what it would delete and restore."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from calls import selectors
from calls.models import Call, ImportBatch, MonthLock
from calls.services import (
    ImportRefused,
    MonthBusy,
    MonthClosed,
    RollbackRefused,
    batch_rollback,
    batch_rollback_check,
    month_lock,
    month_unlock,
)
from tests.calls.test_import_csv import GOOD, HEADER, _import

APPROVED = "the month 2026-10 is approved: HR must reopen it first"
NOVEMBER = "c9,A1,general,inbound,1,2026-11-02 09:00:00,,5,0,0,0,0,,0\n"


def test_an_approved_month_refuses_new_rows_changed_rows_and_the_rollback(people):
    october = _import(GOOD)
    month_lock(year=2026, month=10, state=MonthLock.State.APPROVED)
    assert MonthLock.objects.get().state == MonthLock.State.APPROVED
    # A new row (c7), a changed row (c2 no longer abandoned), c3 as it is, and a row of November: the
    # first two are refused, each named by its line, and with them the file (nothing is imported unless
    # HR chooses). A row that repeats its stored fact changes nothing: not refused.
    text = GOOD.replace("c1,", "c7,").replace(",,40,0,0,0,0,abandoned,", ",,40,0,0,0,0,no_answer,")
    late = _import(text + NOVEMBER, filename="late.csv")
    assert late.status == ImportBatch.Status.REJECTED
    assert {(e["line"], e["column"], e["reason"]) for e in late.errors} == {
        (2, "entered_at", APPROVED),
        (3, "entered_at", APPROVED),
    }
    assert Call.objects.get(external_id="c2").outcome == "abandoned"
    # The valid rows only: November's call, and October untouched.
    partial = _import(text + NOVEMBER, filename="late.csv", allow_partial=True)
    assert (
        partial.rows_created,
        partial.rows_updated,
        partial.rows_unchanged,
        partial.rows_rejected,
    ) == (
        1,
        0,
        1,
        2,
    )
    assert not Call.objects.filter(external_id="c7").exists()
    # The month's own file again: every row as stored, nothing changes, nothing refused.
    again = _import(GOOD, filename="oct-again.csv")
    assert (again.status, again.rows_unchanged, again.rows_rejected) == (
        ImportBatch.Status.APPLIED,
        3,
        0,
    )
    # An import for the month itself is refused outright; so is the rollback of October's import.
    with pytest.raises(
        ImportRefused, match="The month 2026-10 is approved: HR must reopen it first"
    ):
        _import(GOOD, period=(2026, 10))
    with pytest.raises(
        RollbackRefused, match="approved month 2026-10: HR must reopen the month first"
    ):
        batch_rollback(batch=october)
    assert Call.objects.filter(batch=october).count() == 3
    # November's import holds no fact of October: it may be rolled back.
    batch_rollback(batch=partial)
    assert not Call.objects.filter(external_id="c9").exists()


def test_reopening_lifts_an_approved_lock_and_never_a_closed_one(people):
    batch = _import(GOOD)
    month_lock(year=2026, month=10, state=MonthLock.State.APPROVED)
    month_unlock(year=2026, month=10)
    assert not MonthLock.objects.exists()
    batch_rollback_check(batch=batch)  # allowed again
    month_lock(year=2026, month=10, state=MonthLock.State.APPROVED)
    month_lock(year=2026, month=10, state=MonthLock.State.CLOSED)
    month_lock(year=2026, month=10, state=MonthLock.State.APPROVED)  # a closed month stays closed
    assert MonthLock.objects.get().state == MonthLock.State.CLOSED
    with pytest.raises(MonthClosed):
        month_unlock(year=2026, month=10)
    with pytest.raises(RollbackRefused, match="closed month 2026-10; it cannot be rolled back"):
        batch_rollback(batch=batch)


@pytest.mark.parametrize("state", [MonthLock.State.APPROVED, MonthLock.State.CLOSED])
def test_a_row_may_not_move_a_stored_fact_out_of_a_locked_month(people, state):
    _import(GOOD)
    MonthLock.objects.create(year=2026, month=10, state=state)
    moved = GOOD.replace(
        "c2,A1,general,inbound,13800000002,2026-10-05 09:05:00",
        "c2,A1,general,inbound,13800000002,2026-11-05 09:05:00",
    )
    batch = _import(
        moved.replace("c1,", "c11,").replace("c3,", "c13,").replace("2026-10-05", "2026-11-05")
    )
    assert batch.status == ImportBatch.Status.REJECTED
    lock = MonthLock.objects.get()
    assert batch.errors == [
        {
            "line": 3,
            "column": "entered_at",
            "value": "",
            "reason": f"already imported into the month 2026-10, which is {lock.said}",
        },
    ]
    assert Call.objects.get(external_id="c2").started_at.month == 10


def test_a_rollback_that_would_put_a_fact_back_into_a_locked_month_is_refused(people):
    """A later import moved c2 from October to November; October is then approved. Rolling that
    import back would put c2 back into October: refused, though the import holds no October fact."""
    _import(GOOD)
    moved = _import(
        HEADER + "c2,A1,general,inbound,13800000002,2026-11-05 09:05:00,,40,0,0,0,0,abandoned,0\n",
        filename="moved.csv",
    )
    assert moved.rows_updated == 1
    month_lock(year=2026, month=10, state=MonthLock.State.APPROVED)
    with pytest.raises(RollbackRefused, match="approved month 2026-10"):
        batch_rollback(batch=moved)
    assert Call.objects.get(external_id="c2").started_at.month == 11


def test_the_rollback_preview_counts_what_it_deletes_by_month_and_what_it_restores(people):
    _import(GOOD)
    later = _import(
        GOOD.replace(",,40,0,0,0,0,abandoned,", ",,40,0,0,0,0,no_answer,")
        + NOVEMBER
        + "c10,A1,general,inbound,1,2026-10-31 23:30:00,,5,0,0,0,0,,0\n",  # October, center time
        filename="later.csv",
    )
    preview = selectors.batch_rollback_preview(later)
    assert (preview.what, preview.deleted, preview.restored) == (
        "calls",
        [("2026-10", 1), ("2026-11", 1)],
        1,
    )
    assert preview.deleted_total == 2


def test_a_rejected_batch_is_not_rolled_back(people):
    rejected = _import(GOOD.replace("A1,", "ZZ,", 1))
    with pytest.raises(RollbackRefused, match="only an applied import can be rolled back"):
        batch_rollback_check(batch=rejected)


def test_the_admin_shows_facts_and_batches_but_never_writes_them(client, people):
    """Facts change by an import or a rollback only (recorded, under the month locks): in the admin a
    call of a locked month and one of an open month alike are read-only, and no call is added there."""
    batch = _import(GOOD + NOVEMBER)
    month_lock(year=2026, month=10, state=MonthLock.State.APPROVED)
    client.force_login(people.hr)
    october, november = Call.objects.get(external_id="c1"), Call.objects.get(external_id="c9")
    for call in (october, november):
        assert client.get(f"/admin/calls/call/{call.pk}/delete/").status_code == 403
        page = client.get(f"/admin/calls/call/{call.pk}/change/")
        assert page.status_code == 200 and call.external_id in page.content.decode()
        assert 'name="_save"' not in page.content.decode()  # read-only: no save button
        posted = client.post(f"/admin/calls/call/{call.pk}/change/", {"talk_seconds": "1"})
        assert posted.status_code == 403
    assert client.get("/admin/calls/call/add/").status_code == 403
    assert client.get("/admin/calls/ringattempt/add/").status_code == 403
    lock = MonthLock.objects.get()
    assert client.get(f"/admin/calls/monthlock/{lock.pk}/delete/").status_code == 403
    assert client.get(f"/admin/calls/importbatch/{batch.pk}/delete/").status_code == 403


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the lock ordering is PostgreSQL's")
@pytest.mark.django_db(transaction=True)
def test_approving_a_month_waits_for_an_import_under_way_then_says_so(people, monkeypatch):
    """An import that started before the approval would write its rows after it: approving waits for
    it (a bounded wait), then refuses, and the import's rows are in before the month is locked."""
    import calls.services.month_locks

    monkeypatch.setattr(calls.services.month_locks, "MONTH_LOCK_WAIT_SECONDS", 1)
    writing, finish = threading.Event(), threading.Event()
    outcome: list = []

    def importing() -> None:
        def progress(phase: str, rows: int) -> None:
            if phase == "writing":
                writing.set()
                finish.wait(timeout=30)

        try:
            outcome.append(_import(GOOD, progress=progress))
        except BaseException as error:  # the thread's failure is the test's
            outcome.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=importing)
    thread.start()
    try:
        assert writing.wait(timeout=30)
        with pytest.raises(MonthBusy, match="An import or a rollback is writing facts right now"):
            month_lock(year=2026, month=10, state=MonthLock.State.APPROVED)
        assert not MonthLock.objects.exists()
    finally:
        finish.set()
        thread.join(timeout=60)
    assert outcome and isinstance(outcome[0], ImportBatch), outcome
    assert outcome[0].status == ImportBatch.Status.APPLIED and Call.objects.count() == 3
    month_lock(year=2026, month=10, state=MonthLock.State.APPROVED)  # nothing under way now
    assert _import(GOOD.replace("c1,", "c7,")).status == ImportBatch.Status.REJECTED
