"""Everything that writes: periods, runs, statements, approval.

Public services check permission-free preconditions (state) and then call the private function that
mutates; the private functions' docstrings state what they assume.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import gc
import hashlib
import json
import logging
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Max, Q
from django.utils import timezone

from calls import leases
from calls.errors import Conflict
from calls.metrics import (
    MetricValue,
    baseline_months,
    improvement,
    improvement_values,
    metric_ratios,
    metric_values_many,
    rollup,
)
from calls.months import center_tz, month_bounds, month_first_last_day, previous_month
from calls.numbers import MOST_PLACES, plain, rounded, rounded_units
from calls.roles import HR, user_roles
from config.version import code_version
from incentives import scoring
from incentives.models import (
    Adjustment,
    Agent,
    Period,
    PeriodReopening,
    Placement,
    PlanMetric,
    PlanVersion,
    Run,
    RunChunk,
    Scope,
    Statement,
    StatementAdjustment,
    StatementGate,
    StatementLine,
    TargetOverride,
    Team,
)
from incentives.selectors import period_roster, plan_resolve
from incentives.validation import metric_direction

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


def run_start(*, period: Period, requested_by=None) -> Run:
    """Start a new computation of ``period``: a new run version in chunks of whole teams, enqueued at commit.

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


_gc_lock = threading.Lock()
_gc_pauses = 0  # chunks computing now in this process (a threaded worker may run several)
_gc_was_enabled = False


@contextlib.contextmanager
def _gc_paused():
    """Python's cyclic garbage collector paused while a chunk computes, and resumed after.

    A chunk of 2,000 agents builds some 100,000 objects (values, rules, lines) that all live until it
    ends and hold no cycles; the collector would walk them, and the whole of Django, again and again
    for nothing: about a tenth of a second of each run. Reference counting still frees everything; a
    cycle made meanwhile waits for the next collection. Nested and concurrent pauses (threads) share
    one count, so the collector resumes when the last one ends, and only if it was running before."""
    global _gc_pauses, _gc_was_enabled
    with _gc_lock:
        if _gc_pauses == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pauses += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pauses -= 1
            if _gc_pauses == 0 and _gc_was_enabled:
                gc.enable()


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
            with _gc_paused():
                statements, problem = _chunk_compute(chunk)
            finished = RunChunk.objects.filter(
                pk=chunk_id, status=RunChunk.Status.PENDING, leased_by=leases.holder()
            ).update(
                attempts=F("attempts") + 1, statements=statements, problem=problem,
                status=RunChunk.Status.DONE, finished_at=timezone.now(), leased_by="",
                lease_expires=None,
            )  # fmt: skip
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
            status=RunChunk.Status.FAILED, problem=error[:2000], finished_at=timezone.now(),
            leased_by="", lease_expires=None,
        )  # fmt: skip
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


def _line_key(metric_code: str, measure: str, scope: str) -> str:
    return f"{metric_code}:{measure}:{scope}"


def _gate_key(metric_code: str, scope: str, params: dict) -> str:
    return f"gate:{metric_code}:{scope}:{sorted(params.items())}"


@dataclass
class _Targets:
    threshold: Decimal
    target: Decimal
    excellence: Decimal | None
    source: str


def targets_for(pm: PlanMetric, agent_id: int | None, team_id: int, overrides) -> _Targets:
    """Plan targets, unless HR set this period's targets for the agent (first) or the team. Overrides
    apply to a metric's value, not to its improvement (which has its own scale). Without an agent, the
    team's (the lead's dashboard reads a team's and its groups' rows against them)."""
    if pm.measure == PlanMetric.Measure.VALUE:
        for key, source in (
            ((pm.metric, "agent", agent_id), "agent"),
            ((pm.metric, "team", team_id), "team"),
        ):
            override = overrides.get(key)
            if override is not None:
                # An override replaces the whole ladder: without excellence, the curve is flat at 100%
                # beyond the override's target (the plan's excellence may sit below it).
                return _Targets(override.threshold, override.target, override.excellence, source)
    return _Targets(pm.threshold, pm.target, pm.excellence, "plan")


def _target_bonus(version: PlanVersion, agent: Agent) -> Decimal | None:
    if version.target_bonus_kind == PlanVersion.BonusKind.FIXED:
        return version.target_bonus
    if agent.base_pay is None:
        return None
    return agent.base_pay * version.target_bonus_percent / 100


def _payout_cap(version: PlanVersion, target_bonus: Decimal) -> Decimal | None:
    if version.payout_cap_kind == PlanVersion.CapKind.AMOUNT:
        return version.payout_cap
    if version.payout_cap_kind == PlanVersion.CapKind.PERCENT:
        return target_bonus * version.payout_cap / 100
    return None


def team_value(team_id: int, code: str, params: dict, year: int, month: int) -> MetricValue:
    """A team's value for a month: the calls of each agent while placed in the team (by date, so an
    agent who moved mid-month counts for each team for their days there), summed as ratios."""
    start, end = month_bounds(year, month)
    first_day, last_day = month_first_last_day(year, month)
    windows: dict[tuple, list[int]] = {}
    placements = Placement.objects.filter(team_id=team_id, valid_from__lte=last_day).filter(
        Q(valid_to__isnull=True) | Q(valid_to__gte=first_day)
    )
    tz = center_tz()
    for placement in placements:
        w_start = max(start, dt.datetime.combine(placement.valid_from, dt.time(), tz))
        w_end = end
        if placement.valid_to is not None:
            w_end = min(
                end, dt.datetime.combine(placement.valid_to + dt.timedelta(days=1), dt.time(), tz)
            )
        windows.setdefault((w_start, w_end), []).append(placement.agent_id)
    ratios = []
    for (w_start, w_end), agent_ids in windows.items():
        ratios.extend(
            metric_ratios(
                code, agent_ids=agent_ids, start=w_start, end=w_end, params=params
            ).values()
        )
    return rollup(code, ratios)


def _team_improvement(team_id: int, code: str, params: dict, year: int, month: int, baseline: str):
    past = [
        team_value(team_id, code, params, y, m).value
        for y, m in baseline_months(year, month, baseline)
    ]
    return improvement(code, team_value(team_id, code, params, year, month), past)


@dataclass
class Scored:
    """One agent scored under one plan version: what a statement is written from (or a what-if shown)."""

    agent: Agent
    team_id: int
    version: PlanVersion
    rules: scoring.PlanRules
    result: scoring.Result
    measured: dict[str, MetricValue | None]
    plan_metrics: list[PlanMetric]
    targets: list[_Targets]
    gates: list


def period_overrides(period: Period, *, team_id: int | None = None) -> dict:
    """The period's target overrides keyed by (metric, "agent" | "team", id): read once per chunk.
    With ``team_id``, only that team's and those of the agents placed in it on any day of the period."""
    found = TargetOverride.objects.filter(period=period)
    if team_id is not None:
        first_day, last_day = month_first_last_day(period.year, period.month)
        placed = Placement.objects.filter(team_id=team_id, valid_from__lte=last_day).filter(
            Q(valid_to__isnull=True) | Q(valid_to__gte=first_day)
        )
        found = found.filter(Q(team_id=team_id) | Q(agent_id__in=placed.values("agent_id")))
    overrides = {}
    for override in found:
        key = (
            (override.metric, "agent", override.agent_id)
            if override.agent_id
            else (override.metric, "team", override.team_id)
        )
        overrides[key] = override
    return overrides


def score_agents(
    *, version: PlanVersion, agents: list[Agent], team_of: dict[int, int], year: int, month: int,
    overrides: dict, problems: list[str],
) -> list[Scored]:  # fmt: skip
    """Score ``agents`` (of any teams: ``team_of`` maps each to the team their month is attributed to)
    under ``version`` for a month, writing nothing. One query per metric (and window) for all of them,
    whatever their number; a team-scope value once per team. Agents who cannot be scored are named in
    ``problems``."""
    start, end = month_bounds(year, month)
    ids = [agent.pk for agent in agents]
    plan_metrics = list(version.metrics.all())
    gates = list(version.gates.all())
    tiers = tuple(scoring.Tier(t.from_score, t.rate, t.kicker) for t in version.tiers.all())
    teams = sorted({team_of[agent_id] for agent_id in ids})

    def per_team(compute) -> dict[int, MetricValue]:
        """A team's value, given to each of its agents (computed once per team)."""
        by_team = {team_id: compute(team_id) for team_id in teams}
        return {agent_id: by_team[team_of[agent_id]] for agent_id in ids}

    values: dict[str, dict[int, MetricValue]] = {}
    # Every metric measured on the agents themselves, lines and gates alike, in one query per table.
    requests = [
        (_line_key(pm.metric, pm.measure, pm.scope), pm.metric, pm.params)
        for pm in plan_metrics
        if pm.scope != Scope.TEAM and pm.measure == PlanMetric.Measure.VALUE
    ]
    measured_keys = {(pm.metric, pm.scope, repr(sorted(pm.params.items()))) for pm in plan_metrics
                     if pm.measure == PlanMetric.Measure.VALUE}  # fmt: skip
    requests += [
        (_gate_key(g.metric, g.scope, g.params), g.metric, g.params)
        for g in gates
        if g.scope != Scope.TEAM
        and (g.metric, g.scope, repr(sorted(g.params.items()))) not in measured_keys
    ]
    values.update(metric_values_many(requests, agent_ids=ids, start=start, end=end))
    for pm in plan_metrics:
        key = _line_key(pm.metric, pm.measure, pm.scope)
        if pm.scope == Scope.TEAM and pm.measure == PlanMetric.Measure.VALUE:
            values[key] = per_team(
                lambda t, pm=pm: team_value(t, pm.metric, pm.params, year, month)
            )
        elif pm.scope == Scope.TEAM:
            values[key] = per_team(
                lambda t, pm=pm: _team_improvement(
                    t, pm.metric, pm.params, year, month, pm.baseline
                )
            )
        elif pm.measure != PlanMetric.Measure.VALUE:
            values[key] = improvement_values(
                pm.metric,
                agent_ids=ids,
                year=year,
                month=month,
                baseline=pm.baseline,
                params=pm.params,
            )
    for pm in plan_metrics:  # a gate on a metric the plan already measures reads the same value
        if pm.measure == PlanMetric.Measure.VALUE:
            values.setdefault(
                _gate_key(pm.metric, pm.scope, pm.params),
                values[_line_key(pm.metric, pm.measure, pm.scope)],
            )
    for gate in gates:
        key = _gate_key(gate.metric, gate.scope, gate.params)
        if key not in values:  # a team-scope gate: the team's value, once per team
            values[key] = per_team(
                lambda t, gate=gate: team_value(t, gate.metric, gate.params, year, month)
            )
    gate_rules = tuple(
        scoring.GateRule(
            code=_gate_key(g.metric, g.scope, g.params), comparison=g.comparison, value=g.value,
            effect=g.effect, factor=g.factor, score_cap=g.score_cap,
        )
        for g in gates
    )  # fmt: skip
    per_metric = []
    for pm in plan_metrics:
        code, direction = (
            _line_key(pm.metric, pm.measure, pm.scope),
            metric_direction(pm.metric, pm.measure),
        )
        plan_targets = _Targets(pm.threshold, pm.target, pm.excellence, "plan")
        plan_rule = scoring.MetricRule(
            code=code, weight=pm.weight, direction=direction, threshold=pm.threshold,
            threshold_payout=pm.threshold_payout, target=pm.target, excellence=pm.excellence,
            excellence_payout=pm.excellence_payout if pm.excellence is not None else None, no_data=pm.no_data,
        )  # fmt: skip
        per_metric.append((pm, code, direction, plan_rule, plan_targets))
    scored = []
    values_by_key = list(values.items())
    for agent in agents:
        target_bonus = _target_bonus(version, agent)
        if target_bonus is None:
            problems.append(
                f"{agent}: the plan pays a % of base pay and the agent has no base pay."
            )
            continue
        agent_id = agent.id  # not .pk: a property, and this loop runs for every agent and metric
        team_id = team_of[agent_id]
        measured = {key: v.get(agent_id) for key, v in values_by_key}
        rules, targets = [], []
        for pm, code, direction, plan_rule, plan_targets in per_metric:
            t = targets_for(pm, agent_id, team_id, overrides) if overrides else plan_targets
            if t.source == "plan":  # the plan's own ladder: one rule shared by all its agents
                targets.append(plan_targets)
                rules.append(plan_rule)
                continue
            targets.append(t)
            rules.append(scoring.MetricRule(
                code=code, weight=pm.weight, direction=direction, threshold=t.threshold,
                threshold_payout=pm.threshold_payout, target=t.target,
                excellence=t.excellence if t.excellence is not None else None,
                excellence_payout=pm.excellence_payout if t.excellence is not None else None,
                no_data=pm.no_data,
            ))  # fmt: skip
        plan_rules = scoring.PlanRules(
            target_bonus=target_bonus, currency=version.currency, metrics=tuple(rules), tiers=tiers,
            payout_cap=_payout_cap(version, target_bonus), gates=gate_rules,
        )  # fmt: skip
        result = scoring.score(
            plan_rules, {k: (v.value if v else None) for k, v in measured.items()}
        )
        scored.append(
            Scored(
                agent, team_id, version, plan_rules, result, measured, plan_metrics, targets, gates
            )
        )
    return scored


# A statement line is written as a tuple (a month has tens of thousands: no dict, no model object per
# line): the columns that follow from its plan metric and targets, shared by every agent on the same
# ladder, and the agent's own.
LINE_SHARED = ("metric", "scope", "measure", "direction", "target_source", "threshold",
               "threshold_payout", "target", "excellence", "excellence_payout", "weight")  # fmt: skip
LINE_OWN = ("statement_id", "value", "numerator", "denominator", "effective_weight", "score",
            "points", "no_data")  # fmt: skip

# COPY's text format: a backslash, a tab or a line break inside a value is escaped; NULL is \N.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_COPY_NULL = "\\N"


def _copy_field(value) -> str:
    """A value as COPY's text format reads it. Numbers as ``str`` gives them (PostgreSQL's numeric
    input reads an exponent too, so a Decimal keeps every digit); anything else is refused rather
    than guessed at. The usual kinds are tested first: a run formats tens of thousands of values."""
    kind = value.__class__
    if kind is Decimal or kind is int:
        return str(value)
    if value is None:
        return _COPY_NULL
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        return value.translate(_COPY_ESCAPES)
    if isinstance(value, int | Decimal):
        return str(value)
    raise TypeError(f"No COPY text for {type(value).__name__} {value!r}")


@contextlib.contextmanager
def _copy_into(model, columns: tuple[str, ...]):
    """A COPY into ``model``'s table of ``columns``, open for writing lines of COPY's text format."""
    # get_field knows a foreign key by its attname too ("statement_id"); otherwise the identity column
    # numbers the rows.
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(model._meta.get_field(n).column) for n in columns)
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy,
    ):
        yield copy


def _insert_rows(
    model, rows: list, *, ids: bool = True, columns: tuple[str, ...] | None = None
) -> list[int]:
    """Insert new rows (dicts of column attribute → value, the same keys in each; or tuples in the
    order of ``columns``) and return their ids in order (none with ``ids=False``). On PostgreSQL the
    rows go by COPY, their ids drawn first from the table's sequence when wanted — a month is tens of
    thousands of statement lines, and building model objects and one INSERT for them costs more than
    the database's work. Elsewhere ``bulk_create``."""
    if not rows:
        return []
    if columns is None:
        columns = tuple(rows[0])
        rows = [tuple(row[name] for name in columns) for row in rows]
    if connection.vendor != "postgresql":
        created = model.objects.bulk_create(
            [model(**dict(zip(columns, row, strict=True))) for row in rows]
        )
        return [obj.pk for obj in created]
    numbers: list[int] = []
    if ids:
        with connection.cursor() as cursor:
            # The sequence by its name, which PostgreSQL resolves once: looked up in the query, it is
            # looked up again for every row (15 ms for 2,000 ids against 2.5 ms).
            cursor.execute(
                "SELECT nextval(%s::regclass) FROM generate_series(1, %s)",
                [_id_sequence(model._meta.db_table), len(rows)],
            )
            numbers = [row[0] for row in cursor.fetchall()]
        columns = ("id", *columns)
        rows = [(pk, *row) for pk, row in zip(numbers, rows, strict=True)]
    with _copy_into(model, columns) as copy:
        copy.write("".join("\t".join(map(_copy_field, row)) + "\n" for row in rows))
    return numbers


@functools.cache
def _id_sequence(table: str) -> str:
    """The sequence that numbers a table's ids (a schema fact: read once per process)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        return cursor.fetchone()[0]


LINES_PER_WRITE = 2000


def _lines_insert(lines: Iterable[tuple]) -> None:
    """Insert statement lines, each a tuple (its ``LINE_SHARED`` values, then its ``LINE_OWN``
    values), the shared tuple one object for every line on the same ladder.

    On PostgreSQL the lines go by COPY as they come, a few thousand at a time, so the database
    inserts one batch while the next is formatted; the shared part of a line is formatted once per
    ladder, not once per line (most of a line's columns are its plan metric's ladder)."""
    if connection.vendor != "postgresql":
        StatementLine.objects.bulk_create(
            StatementLine(**dict(zip(LINE_SHARED, shared, strict=True)),
                          **dict(zip(LINE_OWN, own, strict=True)))
            for shared, *own in lines
        )  # fmt: skip
        return
    texts: dict[int, str] = {}
    null = _COPY_NULL
    batch: list[str] = []
    with _copy_into(StatementLine, LINE_SHARED + LINE_OWN) as copy:
        for (
            shared,
            statement_id,
            value,
            numerator,
            denominator,
            weight,
            score,
            points,
            no_data,
        ) in lines:
            text = texts.get(id(shared))
            if text is None:
                text = texts[id(shared)] = "\t".join(map(_copy_field, shared))
            # The own columns are ids, Decimals, numbers' texts and a flag (their types are fixed by
            # _statement_lines): str() of each is its COPY text (three times faster than an f-string's
            # format()); a line with no data has no value.
            batch.append("\t".join((text, str(statement_id), null if value is None else str(value),
                                     str(numerator), str(denominator), str(weight), str(score),
                                     str(points), "t\n" if no_data else "f\n")))  # fmt: skip
            if len(batch) == LINES_PER_WRITE:
                copy.write("".join(batch))
                batch.clear()
        copy.write("".join(batch))


def _statement_lines(ids: list[int], scored: list[Scored]) -> Iterator[tuple]:
    """The lines of the scored agents' statements (``ids``, in the same order), as ``_lines_insert``
    takes them: one shared tuple per ladder (the plan's for a metric, or an override's)."""
    ladders: dict[int, tuple] = {}
    weights: dict[int, str] = {}  # each rule's own weight as kept: most lines have it
    for statement_id, one in zip(ids, scored, strict=True):
        measured = one.measured
        for line, pm, t in zip(one.result.lines, one.plan_metrics, one.targets, strict=True):
            rule = line.rule
            ladder = ladders.get(id(rule))  # the rules live as long as ``scored``: ids stay theirs
            if ladder is None:
                ladder = ladders[id(rule)] = (
                    pm.metric, pm.scope, pm.measure, rule.direction, t.source, rule.threshold,
                    rule.threshold_payout, rule.target, rule.excellence, rule.excellence_payout,
                    rule.weight,
                )  # fmt: skip
            m = measured.get(rule.code)
            weight = line.effective_weight
            if weight is not rule.curve.percent:  # a no-data metric's weight was spread over it
                weight = _kept(weight)
            elif (kept := weights.get(id(rule))) is not None:
                weight = kept
            else:
                weight = weights[id(rule)] = _kept(weight)
            # The exact results rounded for display, once, here (``StatementLine``'s columns).
            yield (
                ladder, statement_id, None if line.value is None else _kept(line.value),
                m.numerator if m else 0, m.denominator if m else 0,
                weight, _kept(line.score), _kept(line.points), line.no_data,
            )  # fmt: skip


def _kept(number) -> str:
    """An exact result as a statement keeps it for display, rounded half-up to ``MOST_PLACES``
    (``calls.numbers.rounded``), written as the text of a number ("737350000000E-10" is 73.735),
    which COPY and Django's decimal fields read alike: from integers, a third cheaper than a Decimal
    and its text (1.4 µs against 2.1 on a busy machine; a run writes some 40,000, four a line)."""
    return f"{rounded_units(number, MOST_PLACES)}E-{MOST_PLACES}"


FINGERPRINT_PLACES = 4


def facts_fingerprint(
    measured: dict[str, MetricValue | None],
    keys: list[str] | None = None,
    written: dict[int, str] | None = None,
) -> str:
    """SHA-256 of what the facts contributed to a statement: each line's and gate's sums.

    The hashed text is the compact JSON of ``[[key, [numerator, denominator, value] or null], …]``
    sorted by key, written here piece by piece: the keys through ``json.dumps`` (a gate's key holds
    its parameters' repr, quotes and all), the numbers as ``str`` gives them, which JSON leaves as they
    are, the value rounded half-up to 4 places as it always was (the exact value is no text to keep
    stable; the sums are what the facts gave), so runs before and after values became exact compare
    alike. Two thousand statements a run: a fifth of the time of dumping each list whole. ``keys``:
    ``measured``'s keys sorted, when the caller has them (every agent of a plan has the same);
    ``written``: the text of each value already written, by its MetricValue's id, for a caller that
    fingerprints many agents whose values outlive the calls (a gate reads its line's value, a team's
    agents the team's)."""
    if written is None:
        written = {}
    parts = []
    for key in sorted(measured) if keys is None else keys:
        m = measured[key]
        if m is None:
            parts.append("[" + _json_key(key) + ",null]")
            continue
        text = written.get(id(m))
        if text is None:
            # plain() is the text of rounded()'s Decimal at 4 places, written from integers.
            value = "None" if m.value is None else plain(m.value, FINGERPRINT_PLACES)
            text = written[id(m)] = "".join(('["', str(m.numerator), '","', str(m.denominator),
                                             '","', value, '"]]'))  # fmt: skip
        parts.append("".join(("[", _json_key(key), ",", text)))
    return hashlib.sha256(("[" + ",".join(parts) + "]").encode()).hexdigest()


@functools.lru_cache(maxsize=1024)
def _json_key(key: str) -> str:
    return json.dumps(key)


def _chunk_compute(chunk: RunChunk) -> tuple[int, str]:
    """Write the statements of the chunk's agents; returns (count, problems). Call inside the chunk's
    transaction, holding its lock. One query per metric (and window) for all the chunk's agents.

    The plan version is the one in force on the month's last day (on a leaver's last working day),
    even if another applied earlier in the month: one month, one plan, as the agent reads it.
    """
    period = chunk.run.period
    year, month = period.year, period.month
    first_day, last_day = month_first_last_day(year, month)
    attributing: dict[int, Placement] = {}
    roster = period_roster(
        first_day,
        last_day,
        team_ids=[team.pk for team in chunk.teams.all()],
        placements_out=attributing,
    )
    team_of = {agent.pk: team_id for team_id, members in roster.items() for agent in members}
    agents = [agent for members in roster.values() for agent in members]
    resolved = plan_resolve(agents, last_day, placements=attributing)
    problems: list[str] = []
    by_version: dict[int, list[Agent]] = {}
    versions: dict[int, PlanVersion] = {}
    for agent in agents:
        found = resolved[agent.pk]
        if len(found) != 1:
            names = ", ".join(str(v) for v in found)
            problems.append(
                f"{agent}: no plan applies on {last_day}."
                if not found
                else f"{agent}: {len(found)} plans apply on {last_day} ({names})."
            )
            continue
        version = found[0]
        versions[version.pk] = version
        by_version.setdefault(version.pk, []).append(agent)
    overrides = period_overrides(period)
    adjustments: dict[int, list[Adjustment]] = {}
    agent_ids = {agent.pk for agent in agents}
    for adjustment in Adjustment.objects.filter(period=period).select_related("corrects"):
        if adjustment.agent_id in agent_ids:  # a month's adjustments are few: no long list of ids
            adjustments.setdefault(adjustment.agent_id, []).append(adjustment)

    # A statement belongs to the team its month is attributed to: the chunk's own teams.
    Statement.objects.filter(run=chunk.run, team_id__in=list(roster)).delete()
    written = 0
    for version_id, version_agents in by_version.items():
        scored = score_agents(
            version=versions[version_id], agents=version_agents, team_of=team_of, year=year, month=month,
            overrides=overrides, problems=problems,
        )  # fmt: skip
        statements = []
        keys = sorted(scored[0].measured) if scored else []  # the same for every agent of the plan
        texts: dict[int, str] = {}  # the values' texts: ``scored`` keeps the values alive
        for one in scored:
            result, own = one.result, adjustments.get(one.agent.id, [])
            extra = sum((a.amount for a in own), Decimal(0))
            statements.append({
                "run_id": chunk.run_id, "agent_id": one.agent.id, "team_id": one.team_id,
                "plan_version_id": one.version.id, "target_bonus": one.rules.target_bonus,
                "currency": one.version.currency,
                "weighted_score": rounded(result.weighted_score, MOST_PLACES),
                "tier_from": result.tier.from_score if result.tier else None,
                "tier_rate": result.tier.rate if result.tier else Decimal(0),
                "score_cap": result.score_cap, "payout_factor": rounded(result.payout_factor, 4),
                "payout_cap": one.rules.payout_cap,
                "kicker": result.tier.kicker if result.tier else Decimal(0),
                "amount_before_cap": rounded(result.amount_before_cap, 6),
                "capped": result.capped, "adjustments": extra, "amount": result.amount + extra,
                "facts_fingerprint": facts_fingerprint(one.measured, keys, texts),
            })  # fmt: skip
        ids = _insert_rows(Statement, statements)
        _lines_insert(_statement_lines(ids, scored))
        gate_rows, adjustment_rows = [], []
        for statement_id, one in zip(ids, scored, strict=True):
            if one.result.gates_hit:
                gate_by_key = {_gate_key(g.metric, g.scope, g.params): g for g in one.gates}
            for hit in one.result.gates_hit:
                g = gate_by_key[hit.rule.code]
                gate_rows.append({
                    "statement_id": statement_id, "metric": g.metric, "scope": g.scope, "comparison": g.comparison,
                    "threshold": g.value, "value": rounded(hit.value, MOST_PLACES), "effect": g.effect,
                    "factor": g.factor,
                    "score_cap": g.score_cap,
                })  # fmt: skip
            for a in adjustments.get(one.agent.id, []):
                adjustment_rows.append({
                    "statement_id": statement_id, "adjustment_id": a.pk, "amount": a.amount,
                    "corrects": str(a.corrects), "reason": a.reason,
                })  # fmt: skip
        _insert_rows(StatementGate, gate_rows, ids=False)
        _insert_rows(StatementAdjustment, adjustment_rows, ids=False)
        written += len(statements)
    return written, "\n".join(problems)


def period_approve(*, period: Period, run: Run, approved_by=None) -> Period:
    """Approve a finished run of an open, computed or approved period: its statements become visible to
    agents, and the month's facts are locked (``calls.MonthLock``, approved): no import may add, change
    or roll back a fact dated in it until HR reopens it (``period_reopen``)."""
    from calls.services import MonthBusy, month_lock

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
        try:
            month_lock(year=period.year, month=period.month, state="approved")
        except MonthBusy as exc:
            raise PeriodStateError(f"{period} is not approved: {exc}") from None
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
        if period.status != Period.Status.APPROVED:
            raise PeriodStateError(
                f"{period} is {period.get_status_display()}: only an approved month can be closed."
            )
        period.status = Period.Status.CLOSED
        period.save(update_fields=["status"])
        try:
            month_lock(year=period.year, month=period.month, state="closed")
        except MonthBusy as exc:
            raise PeriodStateError(f"{period} is not closed: {exc}") from None
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
        raise PeriodStateError("Only HR reopens a month.")
    reason = (reason or "").strip()
    if not reason:
        raise PeriodStateError("Say why the month is reopened: the reason is kept with it.")
    with transaction.atomic():
        period = Period.objects.select_for_update().get(pk=period.pk)
        if period.status == Period.Status.CLOSED:
            raise PeriodStateError(f"{period} is closed: corrections go into the next open month as "
                                   "adjustments; a closed month is never reopened.")  # fmt: skip
        if period.status != Period.Status.APPROVED:
            raise PeriodStateError(
                f"{period} is {period.get_status_display()}: only an approved month is reopened."
            )
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
            raise PeriodStateError(f"{period} is not reopened: {exc}") from None
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
