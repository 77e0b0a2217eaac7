"""Everything that writes: periods, runs, statements, approval.

Public services check permission-free preconditions (state) and then call the private function that
mutates; the private functions' docstrings state what they assume.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from calls.metrics import metric_values
from calls.months import month_bounds, month_first_last_day, previous_month
from incentives import scoring
from incentives.models import (
    Agent,
    Period,
    Plan,
    PlanMetric,
    PlanTier,
    Run,
    RunChunk,
    Statement,
    StatementLine,
    Team,
)
from incentives.presets import Preset
from incentives.selectors import plan_for_team

logger = logging.getLogger(__name__)


class PeriodStateError(Exception):
    """The period's state forbids what was asked (e.g. computing a closed month)."""


class RunAlreadyActive(Exception):
    """A run of this period is already waiting or running; ``run`` is that run."""

    def __init__(self, run: Run):
        super().__init__(
            f"Run v{run.number} of {run.period} is already {run.get_status_display()}."
        )
        self.run = run


@transaction.atomic
def plan_create_from_preset(
    *,
    preset: Preset,
    code: str,
    teams: list[Team],
    effective_from: dt.date,
    name: str | None = None,
    currency: str = "CNY",
) -> Plan:
    """A new plan for ``teams`` from a preset's metrics, tiers, target bonus and cap."""
    plan = Plan(
        code=code,
        name=name or preset.name,
        effective_from=effective_from,
        target_bonus=preset.target_bonus,
        payout_cap=preset.payout_cap,
        currency=currency,
    )
    plan.full_clean()
    plan.save()
    plan.teams.set(teams)
    for metric in preset.metrics:
        row = PlanMetric(plan=plan, **vars(metric))
        row.full_clean()
        row.save()
    for tier in preset.tiers:
        row = PlanTier(plan=plan, **vars(tier))
        row.full_clean()
        row.save()
    return plan


def period_get_or_create(*, year: int, month: int) -> Period:
    """The period of a month, opened if it does not exist yet."""
    period = Period(year=year, month=month)
    period.full_clean(validate_unique=False, validate_constraints=False)
    period, _created = Period.objects.get_or_create(year=year, month=month)
    return period


def run_start(*, period: Period, requested_by=None) -> Run:
    """Start a new computation of ``period``: a new run version, one chunk per team, enqueued at commit.

    Two requests at once start one run: the period row is locked, and a partial unique index allows
    one waiting-or-running run per period whatever the database. The loser gets ``RunAlreadyActive``.
    """
    try:
        with transaction.atomic():
            period = Period.objects.select_for_update().get(pk=period.pk)
            if period.status == Period.Status.CLOSED:
                raise PeriodStateError(f"{period} is closed; corrections go into the next period.")
            active = period.runs.filter(status__in=[Run.Status.PENDING, Run.Status.RUNNING]).first()
            if active is not None:
                raise RunAlreadyActive(active)
            number = (period.runs.aggregate(top=Max("number"))["top"] or 0) + 1
            run = Run.objects.create(period=period, number=number, requested_by=requested_by)
            teams = Team.objects.filter(agents__active=True).distinct().order_by("code")
            chunks = RunChunk.objects.bulk_create(RunChunk(run=run, team=team) for team in teams)
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


def _enqueue_chunks(chunk_ids: list[int]) -> None:
    """Send one task per chunk once the transaction commits, so no worker looks for a missing row."""
    from incentives.tasks import compute_chunk  # tasks import services; import here, not at the top

    for chunk_id in chunk_ids:
        compute_chunk.delay_on_commit(chunk_id)


def run_chunk_execute(*, chunk_id: int) -> None:
    """Compute the statements of one chunk (one team) and finish the run if it was the last.

    Idempotent: a chunk delivered twice, or re-delivered after a worker died half-way, replaces its
    statements (keyed by run and agent) and never doubles them; a finished chunk is left alone.
    """
    chunk = RunChunk.objects.select_related("run").get(pk=chunk_id)
    if chunk.status != RunChunk.Status.PENDING or chunk.run.status not in (
        Run.Status.PENDING,
        Run.Status.RUNNING,
    ):
        return  # done already (a second delivery), or its run failed
    # Outside the chunk's transaction: a short write, so chunks of one run never wait on each other.
    Run.objects.filter(pk=chunk.run_id, status=Run.Status.PENDING).update(
        status=Run.Status.RUNNING, started_at=timezone.now()
    )
    with transaction.atomic():
        chunk = (
            RunChunk.objects.select_for_update()
            .select_related("run__period", "team")
            .get(pk=chunk_id)
        )
        if chunk.status in (RunChunk.Status.DONE, RunChunk.Status.FAILED):
            return  # another delivery finished it while this one waited for the lock
        chunk.attempts += 1
        chunk.statements, chunk.problem = _chunk_compute(chunk)
        chunk.status = RunChunk.Status.DONE
        chunk.finished_at = timezone.now()
        chunk.save(update_fields=["attempts", "statements", "problem", "status", "finished_at"])
    _run_finish_if_complete(run_id=chunk.run_id)


def run_chunk_fail(*, chunk_id: int, error: str) -> None:
    """Record that a chunk failed for good; its run fails with it, naming the team and the error."""
    with transaction.atomic():
        chunk = RunChunk.objects.select_related("team").get(pk=chunk_id)
        RunChunk.objects.filter(pk=chunk_id).exclude(status=RunChunk.Status.DONE).update(
            status=RunChunk.Status.FAILED, problem=error[:2000], finished_at=timezone.now()
        )
        Run.objects.filter(
            pk=chunk.run_id, status__in=[Run.Status.PENDING, Run.Status.RUNNING]
        ).update(
            status=Run.Status.FAILED,
            error=f"{chunk.team}: {error}"[:2000],
            finished_at=timezone.now(),
        )


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


def plan_rules(plan: Plan) -> scoring.PlanRules:
    """The plan as the pure scoring function takes it."""
    return scoring.PlanRules(
        target_bonus=plan.target_bonus,
        currency=plan.currency,
        payout_cap=plan.payout_cap,
        metrics=tuple(
            scoring.MetricRule(
                code=m.metric,
                weight=m.weight,
                direction=m.direction,
                threshold=m.threshold,
                threshold_payout=m.threshold_payout,
                target=m.target,
                excellence=m.excellence,
                excellence_payout=m.excellence_payout,
                no_data=m.no_data,
            )
            for m in sorted(plan.metrics.all(), key=lambda m: m.pk)
        ),
        tiers=tuple(
            scoring.Tier(from_score=t.from_score, rate=t.rate, kicker=t.kicker)
            for t in plan.tiers.all()
        ),
    )


def _chunk_compute(chunk: RunChunk) -> tuple[int, str]:
    """Write the statements of the chunk's agents; returns (count, problem). Call inside the chunk's
    transaction, holding its lock. One query per metric for all the team's agents."""
    period = chunk.run.period
    start, end = month_bounds(period.year, period.month)
    _first_day, last_day = month_first_last_day(period.year, period.month)
    plans = plan_for_team(chunk.team, last_day)
    if len(plans) != 1:
        names = ", ".join(plan.name for plan in plans)
        problem = (
            f"No plan is in force for team {chunk.team} on {last_day}."
            if not plans
            else f"Two or more plans are in force for team {chunk.team} on {last_day}: {names}."
        )
        return 0, problem
    plan = plans[0]
    rules = plan_rules(plan)
    agents = list(Agent.objects.filter(team=chunk.team, active=True).order_by("pk"))
    agent_ids = [agent.pk for agent in agents]
    values = {
        rule.code: metric_values(rule.code, agent_ids=agent_ids, start=start, end=end)
        for rule in rules.metrics
    }
    Statement.objects.filter(run=chunk.run, agent_id__in=agent_ids).delete()
    statements, lines_per_statement = [], []
    for agent in agents:
        inputs = {code: by_agent.get(agent.pk) for code, by_agent in values.items()}
        result = scoring.score(rules, {code: v.value if v else None for code, v in inputs.items()})
        statements.append(
            Statement(
                run=chunk.run,
                agent=agent,
                team=chunk.team,
                plan=plan,
                target_bonus=plan.target_bonus,
                currency=plan.currency,
                weighted_score=result.weighted_score,
                tier_from=result.tier.from_score if result.tier else None,
                tier_rate=result.tier.rate if result.tier else scoring.ZERO,
                kicker=result.tier.kicker if result.tier else scoring.ZERO,
                amount_before_cap=result.amount_before_cap.quantize(scoring.Decimal("0.000001")),
                capped=result.capped,
                amount=result.amount,
            )
        )
        lines_per_statement.append((result.lines, inputs))
    Statement.objects.bulk_create(statements)
    lines = []
    for statement, (results, inputs) in zip(statements, lines_per_statement, strict=True):
        for line in results:
            measured = inputs.get(line.rule.code)
            lines.append(
                StatementLine(
                    statement=statement,
                    metric=line.rule.code,
                    value=line.value,
                    numerator=measured.numerator if measured else 0,
                    denominator=measured.denominator if measured else 0,
                    direction=line.rule.direction,
                    threshold=line.rule.threshold,
                    threshold_payout=line.rule.threshold_payout,
                    target=line.rule.target,
                    excellence=line.rule.excellence,
                    excellence_payout=line.rule.excellence_payout,
                    weight=line.rule.weight,
                    effective_weight=line.effective_weight,
                    score=line.score,
                    points=line.points,
                    no_data=line.no_data,
                )
            )
    StatementLine.objects.bulk_create(lines)
    return len(statements), ""


def period_approve(*, period: Period, run: Run, approved_by=None) -> Period:
    """Approve a finished run of an open or computed period: its statements become visible to agents."""
    with transaction.atomic():
        period = Period.objects.select_for_update().get(pk=period.pk)
        if period.status == Period.Status.CLOSED:
            raise PeriodStateError(f"{period} is closed.")
        if run.period_id != period.pk:
            raise PeriodStateError(f"Run v{run.number} belongs to {run.period}, not to {period}.")
        run.refresh_from_db()
        if run.status != Run.Status.DONE:
            raise PeriodStateError(
                f"Run v{run.number} is {run.get_status_display()}; only a finished run can be approved."
            )
        period.status = Period.Status.APPROVED
        period.approved_run = run
        period.approved_at = timezone.now()
        period.approved_by = approved_by
        period.full_clean()
        period.save()
    return period


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
