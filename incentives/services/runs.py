"""A run's state machine: periods, runs and their chunks, approval, closing and reopening.

What the month's scores are is ``incentives.compute``; how a chunk's statements are written is
``incentives.services.statements`` (its fast paths in ``fastwrite``).

Public services check permission-free preconditions (state) and then call the private function that
mutates; the private functions' docstrings state what they assume.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from calls import leases
from calls.errors import Conflict
from calls.months import month_first_last_day, previous_month
from calls.roles import HR, user_roles
from config.version import code_version

# What other modules have imported from here since compute and writing lived in this module.
from incentives.compute import (  # noqa: F401
    Scored,
    Targets,
    period_overrides,
    score_agents,
    targets_for,
    team_value,
)
from incentives.models import Period, PeriodReopening, Placement, Run, RunChunk, Team
from incentives.services import fastwrite, statements
from incentives.services.statements import facts_fingerprint  # noqa: F401

logger = logging.getLogger(__name__)


class PeriodStateError(Conflict):
    """The period's state forbids what was asked (e.g. computing a closed month)."""


class RunAlreadyActive(Conflict):
    """A run of this period is already waiting or running; ``run`` is that run."""

    def __init__(self, run: Run):
        super().__init__(
            f"Run v{run.number} of {run.period} is already {run.get_status_display()}."
        )
        self.run = run

    def payload(self) -> dict:
        return {"run": self.run.pk}


def period_get_or_create(*, year: int, month: int) -> Period:
    """The period of a month, opened if it does not exist yet."""
    period = Period(year=year, month=month)
    period.full_clean(validate_unique=False, validate_constraints=False)
    period, _created = Period.objects.get_or_create(year=year, month=month)
    return period


# --- what refuses each step of the month (the service raises it; the page says it before its button) --


def _closed_refusal(period: Period) -> str:
    return _(
        "%(period)s is closed: its corrections go into the next open month as adjustments."
    ) % {"period": period}


def run_start_refusal(period: Period) -> str:
    """Why ``period`` cannot be computed now, or "" (a run under way is ``RunAlreadyActive``)."""
    return _closed_refusal(period) if period.status == Period.Status.CLOSED else ""


def period_approve_refusal(period: Period, run: Run) -> str:
    """Why ``run`` cannot be approved for ``period`` now, or ""."""
    if period.status == Period.Status.CLOSED:
        return _closed_refusal(period)
    if run.period_id != period.pk:
        return _("Run v%(n)s belongs to %(other)s, not to %(period)s.") % {
            "n": run.number,
            "other": run.period,
            "period": period,
        }
    if run.status != Run.Status.DONE:
        return _("Run v%(n)s is %(status)s: only a finished run can be approved.") % {
            "n": run.number,
            "status": run.get_status_display(),
        }
    return ""


def period_close_refusal(period: Period) -> str:
    """Why ``period`` cannot be closed now, or ""."""
    if period.status != Period.Status.APPROVED:
        return _("%(period)s is %(status)s: only an approved month can be closed.") % {
            "period": period,
            "status": period.get_status_display(),
        }
    return ""


def period_reopen_refusal(period: Period) -> str:
    """Why ``period`` cannot be reopened now, or ""."""
    if period.status == Period.Status.CLOSED:
        return _(
            "%(period)s is closed: corrections go into the next open month as adjustments; a "
            "closed month is never reopened."
        ) % {"period": period}
    if period.status != Period.Status.APPROVED:
        return _("%(period)s is %(status)s: only an approved month is reopened.") % {
            "period": period,
            "status": period.get_status_display(),
        }
    return ""


def run_start(*, period: Period, requested_by=None) -> Run:
    """Start a new computation of ``period``: a new run version in chunks of whole teams, enqueued at commit.

    Two requests at once start one run: the period row is locked, and a partial unique index allows
    one waiting-or-running run per period whatever the database. The loser gets ``RunAlreadyActive``.
    """
    try:
        with transaction.atomic():
            period = Period.objects.select_for_update().get(pk=period.pk)
            if refusal := run_start_refusal(period):
                raise PeriodStateError(refusal)
            active = period.runs.filter(status__in=[Run.Status.PENDING, Run.Status.RUNNING]).first()
            if active is not None:
                raise RunAlreadyActive(active)
            number = (period.runs.aggregate(top=Max("number"))["top"] or 0) + 1
            run = Run.objects.create(
                period=period, number=number, requested_by=requested_by, code_version=code_version()
            )
            first_day, last_day = month_first_last_day(period.year, period.month)
            chunks = _chunks_create(run, _team_sizes(first_day, last_day))
            if not chunks:
                _run_finish_if_complete(run_id=run.pk)
            _enqueue_chunks([chunk.pk for chunk in chunks])
    except IntegrityError:
        active = period.runs.filter(status__in=[Run.Status.PENDING, Run.Status.RUNNING]).first()
        if active is None:
            raise
        raise RunAlreadyActive(active) from None
    run.refresh_from_db()
    return run


def _team_sizes(first_day: dt.date, last_day: dt.date) -> dict[int, int]:
    """Agents per team in a month, counted in the database, for packing chunks: every team anyone sat
    in that month (a superset of the teams paid: a chunk's own roster decides who is paid where)."""
    rows = (
        Placement.objects.filter(valid_from__lte=last_day)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=first_day))
        .filter(Q(agent__hire_date__isnull=True) | Q(agent__hire_date__lte=last_day))
        .filter(Q(agent__leave_date__isnull=True) | Q(agent__leave_date__gte=first_day))
        .values("team_id")
        .annotate(agents=Count("agent_id", distinct=True))
        .order_by()
    )
    return {row["team_id"]: row["agents"] for row in rows}


def _chunks_create(run: Run, sizes: dict[int, int]) -> list[RunChunk]:
    """Whole teams, in code order, packed into chunks of at most ``RUN_CHUNK_AGENTS`` agents: each
    chunk pays for its queries once, so few large chunks are fast and many workers still share a big
    center. A team larger than the limit is a chunk of its own, never split."""
    limit = settings.RUN_CHUNK_AGENTS
    groups: list[list[int]] = []
    size = 0
    for team in Team.objects.filter(pk__in=list(sizes)).order_by("code"):
        count = sizes[team.pk]
        if not groups or size + count > limit:
            groups.append([])
            size = 0
        groups[-1].append(team.pk)
        size += count
    chunks = RunChunk.objects.bulk_create(RunChunk(run=run) for _group in groups)
    Through = RunChunk.teams.through
    Through.objects.bulk_create(
        Through(runchunk_id=chunk.pk, team_id=team_id)
        for chunk, group in zip(chunks, groups, strict=True)
        for team_id in group
    )
    return chunks


def _enqueue_chunks(chunk_ids: list[int]) -> None:
    """Send one task per chunk once the transaction commits, so no worker looks for a missing row."""
    from incentives.tasks import compute_chunk  # tasks import services; import here, not at the top

    for chunk_id in chunk_ids:
        compute_chunk.delay_on_commit(chunk_id)


class LeaseLost(Exception):
    """This worker's lease on a chunk ran out and another worker took the chunk over: this worker's
    statements are rolled back, the other's stand."""


def run_chunk_execute(*, chunk_id: int) -> None:
    """Compute the statements of one chunk (one team) and finish the run if it was the last.

    Claimed with a lease (``calls.leases``), renewed while it computes: a second delivery finds it
    held and leaves it; a delivery (or the watchdog) after its worker died finds the lease run out
    and computes it again. Idempotent: the dead worker's transaction was rolled back, and a chunk's
    statements are replaced (keyed by run and agent), never doubled; a finished chunk is left alone.
    """
    chunk = RunChunk.objects.select_related("run").get(pk=chunk_id)
    if chunk.status != RunChunk.Status.PENDING or chunk.run.status not in (
        Run.Status.PENDING,
        Run.Status.RUNNING,
    ):
        return  # done already (a second delivery), or its run failed
    if not leases.claim(RunChunk.objects.filter(pk=chunk_id, status=RunChunk.Status.PENDING)):
        return  # a live worker computes it
    # Outside the chunk's transaction: a short write, so chunks of one run never wait on each other.
    Run.objects.filter(pk=chunk.run_id, status=Run.Status.PENDING).update(
        status=Run.Status.RUNNING, started_at=timezone.now()
    )
    try:
        # The chunk's row is written only at the end: its lease is renewed meanwhile, never waiting.
        with leases.kept(RunChunk, chunk_id), transaction.atomic():
            chunk = RunChunk.objects.select_related("run__period").get(pk=chunk_id)
            with fastwrite.gc_paused():
                statements, problem = _chunk_compute(chunk)
            finished = RunChunk.objects.filter(
                pk=chunk_id, status=RunChunk.Status.PENDING, leased_by=leases.holder()
            ).update(
                attempts=F("attempts") + 1,
                statements=statements,
                problem=problem,
                status=RunChunk.Status.DONE,
                finished_at=timezone.now(),
                leased_by="",
                lease_expires=None,
            )
            if not finished:
                raise LeaseLost(chunk_id)
    except LeaseLost:
        logger.warning(
            "Chunk %s was taken over by another worker; this computation is dropped", chunk_id
        )
        return
    finally:
        leases.release(RunChunk, chunk_id)
    _run_finish_if_complete(run_id=chunk.run_id)


def run_chunk_fail(*, chunk_id: int, error: str) -> None:
    """Record that a chunk failed for good; its run fails with it, naming the team and the error. A
    chunk another worker finished meanwhile stands, and so does its run."""
    with transaction.atomic():
        chunk = RunChunk.objects.prefetch_related("teams").get(pk=chunk_id)
        unfinished = RunChunk.objects.filter(pk=chunk_id).exclude(status=RunChunk.Status.DONE)
        failed = unfinished.update(
            status=RunChunk.Status.FAILED,
            problem=error[:2000],
            finished_at=timezone.now(),
            leased_by="",
            lease_expires=None,
        )
        if not failed:
            return
        teams = ", ".join(str(team) for team in chunk.teams.all())
        Run.objects.filter(
            pk=chunk.run_id, status__in=[Run.Status.PENDING, Run.Status.RUNNING]
        ).update(
            status=Run.Status.FAILED,
            error=f"{teams}: {error}"[:2000],
            finished_at=timezone.now(),
        )


def run_leases_sweep(*, now: dt.datetime | None = None) -> int:
    """The watchdog's run half (Celery beat, every minute): a chunk whose lease ran out lost its
    worker. It is queued again for the next worker (it starts from a clean state: the dead worker's
    transaction was rolled back), at once rather than when the broker gives the dead worker's message
    back (an hour later); or, after ``WORK_LEASE_CLAIMS`` lost workers, failed with that reason, and
    its run with it. Returns how many chunks it settled."""
    now = now or timezone.now()
    stuck = leases.expired(
        RunChunk.objects.filter(
            status=RunChunk.Status.PENDING, run__status__in=[Run.Status.PENDING, Run.Status.RUNNING]
        ),
        now,
    )
    settled = 0
    for chunk in stuck:
        lost = chunk.leased_by or "a worker"
        if chunk.claims >= settings.WORK_LEASE_CLAIMS:
            run_chunk_fail(
                chunk_id=chunk.pk,
                error=f"the worker computing it stopped {chunk.claims} times before it finished "
                "(killed, or out of memory); the workers' logs say why.",
            )
            settled += 1
            continue
        with transaction.atomic():
            again = RunChunk.objects.filter(
                pk=chunk.pk, status=RunChunk.Status.PENDING, lease_expires=chunk.lease_expires
            ).update(leased_by="", lease_expires=None)
            if again:
                logger.warning("Chunk %s lost its worker %s; queued again", chunk.pk, lost)
                _enqueue_chunks([chunk.pk])
            settled += again
    return settled


def _run_finish_if_complete(*, run_id: int) -> None:
    """Mark the run done when the database shows every chunk done (no chord on the money path).

    Every chunk calls this after committing its own status, so the last one to commit sees all of
    them done; the conditional update makes sure only one caller finishes the run.
    """
    if RunChunk.objects.filter(run_id=run_id).exclude(status=RunChunk.Status.DONE).exists():
        return
    with transaction.atomic():
        finished = Run.objects.filter(
            pk=run_id, status__in=[Run.Status.PENDING, Run.Status.RUNNING]
        ).update(status=Run.Status.DONE, finished_at=timezone.now())
        if finished:
            run = Run.objects.get(pk=run_id)
            Period.objects.filter(pk=run.period_id, status=Period.Status.OPEN).update(
                status=Period.Status.COMPUTED
            )


def period_approve(*, period: Period, run: Run, approved_by=None) -> Period:
    """Approve a finished run of an open, computed or approved period: its statements become visible to
    agents, and the month's facts are locked (``calls.MonthLock``, approved): no import may add, change
    or roll back a fact dated in it until HR reopens it (``period_reopen``)."""
    from calls.services import MonthBusy, month_lock

    with transaction.atomic():
        period = Period.objects.select_for_update().get(pk=period.pk)
        run.refresh_from_db()
        if refusal := period_approve_refusal(period, run):
            raise PeriodStateError(refusal)
        period.status = Period.Status.APPROVED
        period.approved_run = run
        period.approved_at = timezone.now()
        period.approved_by = approved_by
        period.full_clean()
        period.save()
        try:
            month_lock(year=period.year, month=period.month, state="approved")
        except MonthBusy as exc:
            raise PeriodStateError(
                _("%(period)s is not approved: %(why)s") % {"period": period, "why": exc}
            ) from None
        # The interview follows the approved month: a review for every agent, flagged ones first.
        from incentives.services.reviews import reviews_open

        reviews_open(period=period)
    return period


def period_close(*, period: Period) -> Period:
    """Close an approved month: read-only from now on, and no import may add or change its facts
    (``calls`` keeps the lock, since the facts live there). A correction goes into the next month."""
    from calls.services import MonthBusy, month_lock

    with transaction.atomic():
        period = Period.objects.select_for_update().get(pk=period.pk)
        if refusal := period_close_refusal(period):
            raise PeriodStateError(refusal)
        period.status = Period.Status.CLOSED
        period.save(update_fields=["status"])
        try:
            month_lock(year=period.year, month=period.month, state="closed")
        except MonthBusy as exc:
            raise PeriodStateError(
                _("%(period)s is not closed: %(why)s") % {"period": period, "why": exc}
            ) from None
    return period


def period_reopen(*, period: Period, reason: str, by) -> PeriodReopening:
    """Reopen an approved month (HR only, with a reason, recorded): imports and rollbacks may change its
    facts again, and it can be computed and approved anew.

    The approved run stays what agents see (``approved_run``) until a new run is approved, and is what
    the next run is compared with; the month is computed again (not approved), so its payroll export is
    withheld, and its pages say that its data changed since approval. A closed month is never reopened:
    its corrections go into the next month as adjustments."""
    from calls.services import MonthBusy, month_unlock

    if HR not in user_roles(by):
        raise PeriodStateError(_("Only HR reopens a month."))
    reason = (reason or "").strip()
    if not reason:
        raise PeriodStateError(_("Say why the month is reopened: the reason is kept with it."))
    with transaction.atomic():
        period = Period.objects.select_for_update().get(pk=period.pk)
        if refusal := period_reopen_refusal(period):
            raise PeriodStateError(refusal)
        reopening = PeriodReopening(
            period=period, approved_run=period.approved_run, reason=reason, reopened_by=by
        )
        reopening.full_clean()
        reopening.save()
        period.status = Period.Status.COMPUTED
        period.full_clean()
        period.save(update_fields=["status"])
        try:
            month_unlock(year=period.year, month=period.month)
        except MonthBusy as exc:
            raise PeriodStateError(
                _("%(period)s is not reopened: %(why)s") % {"period": period, "why": exc}
            ) from None
    return reopening


def period_compute_previous_month() -> Run | None:
    """Start the computation of the month that has just ended (Celery beat, on the 1st).

    A month already approved or closed is left alone, and so is one with a run under way.
    """
    year, month = previous_month()
    period = period_get_or_create(year=year, month=month)
    if period.status in (Period.Status.APPROVED, Period.Status.CLOSED):
        logger.info("%s is %s; not recomputed by the schedule", period, period.status)
        return None
    try:
        return run_start(period=period)
    except RunAlreadyActive as exc:
        logger.info("%s", exc)
        return exc.run


def _chunk_compute(chunk: RunChunk) -> tuple[int, str]:
    """Write the statements of the chunk's agents; returns (count, problems). Call inside the chunk's
    transaction, holding its lock (``statements.chunk_statements_write``)."""
    return statements.chunk_statements_write(chunk)
