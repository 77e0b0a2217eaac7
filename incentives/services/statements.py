"""Writing a chunk's statements: each agent's statement, its lines, the gates it hit, its adjustments
and the fingerprint of the facts behind it. The scores come from ``incentives.compute``; the fast
paths (COPY, prefetched ids) from ``fastwrite``, which SQLite does without.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Hashable, Iterator
from decimal import Decimal
from typing import NamedTuple

from calls.metrics import MetricValue
from calls.months import month_first_last_day
from calls.numbers import MOST_PLACES, plain, rounded, rounded_units
from incentives.compute import GateKey, Scored, period_overrides, score_agents
from incentives.models import (
    Adjustment,
    Agent,
    Placement,
    PlanGate,
    PlanVersion,
    RunChunk,
    Statement,
    StatementAdjustment,
    StatementGate,
    StatementLine,
)
from incentives.selectors import period_roster, plan_resolve
from incentives.services import fastwrite


class LineRow(NamedTuple):
    """One statement line as written: its fields are ``StatementLine``'s columns, in the only order.

    The first eleven follow from the line's plan metric and targets (its ladder: the same objects on
    every line of it); the rest are the agent's own. Numbers are the exact results already rounded for
    display (``_kept``'s text)."""

    metric: str
    scope: str
    measure: str
    direction: str
    target_source: str
    threshold: Decimal
    threshold_payout: Decimal
    target: Decimal
    excellence: Decimal | None
    excellence_payout: Decimal | None
    weight: Decimal
    statement_id: int
    value: str | None
    numerator: Decimal
    denominator: Decimal
    effective_weight: str
    score: str
    points: str
    no_data: bool


class StatementRow(NamedTuple):
    """One statement as written (``Statement``'s columns)."""

    run_id: int
    agent_id: int
    team_id: int
    plan_version_id: int
    target_bonus: Decimal
    currency: str
    weighted_score: Decimal
    tier_from: Decimal | None
    tier_rate: Decimal
    score_cap: Decimal | None
    payout_factor: Decimal
    payout_cap: Decimal | None
    kicker: Decimal
    amount_before_cap: Decimal
    capped: bool
    adjustments: Decimal
    amount: Decimal
    facts_fingerprint: str


class GateRow(NamedTuple):
    """A gate a statement hit (``StatementGate``'s columns)."""

    statement_id: int
    metric: str
    scope: str
    comparison: str
    threshold: Decimal
    value: Decimal
    effect: str
    factor: Decimal | None
    score_cap: Decimal | None


class AdjustmentRow(NamedTuple):
    """An adjustment paid on a statement (``StatementAdjustment``'s columns)."""

    statement_id: int
    adjustment_id: int
    amount: Decimal
    corrects: str
    reason: str


def _kept(number) -> str:
    """An exact result as a statement keeps it for display, rounded half-up to ``MOST_PLACES``
    (``calls.numbers.rounded``), written as the text of a number ("737350000000E-10" is 73.735),
    which COPY and Django's decimal fields read alike: from integers, a third cheaper than a Decimal
    and its text (1.4 µs against 2.1 on a busy machine; a run writes some 40,000, four a line)."""
    return f"{rounded_units(number, MOST_PLACES)}E-{MOST_PLACES}"


def statement_lines(ids: list[int], scored: list[Scored]) -> Iterator[LineRow]:
    """The lines of the scored agents' statements (``ids``, in the same order): one ladder per rule
    (the plan's for a metric, or an override's), shared by the lines on it."""
    ladders: dict[int, tuple] = {}
    weights: dict[int, str] = {}  # each rule's own weight as kept: most lines have it
    for statement_id, one in zip(ids, scored, strict=True):
        measured = one.measured
        for line, pm, t in zip(one.result.lines, one.plan_metrics, one.targets, strict=True):
            rule = line.rule
            ladder = ladders.get(id(rule))  # the rules live as long as ``scored``: ids stay theirs
            if ladder is None:
                ladder = ladders[id(rule)] = (
                    pm.metric,
                    pm.scope,
                    pm.measure,
                    rule.direction,
                    t.source,
                    rule.threshold,
                    rule.threshold_payout,
                    rule.target,
                    rule.excellence,
                    rule.excellence_payout,
                    rule.weight,
                )
            m = measured.get(rule.code)
            spread = line.effective_weight
            if spread is not rule.curve.percent:  # a no-data metric's weight was spread over it
                weight = _kept(spread)
            elif (kept := weights.get(id(rule))) is not None:
                weight = kept
            else:
                weight = weights[id(rule)] = _kept(spread)
            yield LineRow._make(
                (
                    *ladder,
                    statement_id,
                    None if line.value is None else _kept(line.value),
                    m.numerator if m else 0,
                    m.denominator if m else 0,
                    weight,
                    _kept(line.score),
                    _kept(line.points),
                    line.no_data,
                )
            )


FINGERPRINT_PLACES = 4


def facts_fingerprint(
    measured: dict,
    keys: list | None = None,
    written: dict[int, str] | None = None,
) -> str:
    """SHA-256 of what the facts contributed to a statement: each line's and gate's sums.

    The hashed text is the compact JSON of ``[[key, [numerator, denominator, value] or null], …]``
    sorted by key (a key's ``str``: ``LineKey``/``GateKey`` give the strings they replaced), written
    here piece by piece: the keys through ``json.dumps``, the numbers as ``str`` gives them, which JSON
    leaves as they are, the value rounded half-up to 4 places as it always was (the exact value is no
    text to keep stable; the sums are what the facts gave), so runs before and after values became
    exact compare alike. Two thousand statements a run: a fifth of the time of dumping each list
    whole. ``keys``: ``measured``'s keys sorted by their text, when the caller has them (every agent of
    a plan has the same); ``written``: the text of each value already written, by its MetricValue's
    id, for a caller that fingerprints many agents whose values outlive the calls (a gate reads its
    line's value, a team's agents the team's)."""
    if written is None:
        written = {}
    parts = []
    for key in sorted(measured, key=str) if keys is None else keys:
        m: MetricValue | None = measured[key]
        if m is None:
            parts.append("[" + _json_key(str(key)) + ",null]")
            continue
        text = written.get(id(m))
        if text is None:
            # plain() is the text of rounded()'s Decimal at 4 places, written from integers.
            value = "None" if m.value is None else plain(m.value, FINGERPRINT_PLACES)
            text = written[id(m)] = "".join(
                ('["', str(m.numerator), '","', str(m.denominator), '","', value, '"]]')
            )
        parts.append("".join(("[", _json_key(str(key)), ",", text)))
    return hashlib.sha256(("[" + ",".join(parts) + "]").encode()).hexdigest()


@functools.lru_cache(maxsize=1024)
def _json_key(key: str) -> str:
    return json.dumps(key)


def _statement_row(
    run_id: int, one: Scored, extra: Decimal, keys: list, texts: dict[int, str]
) -> StatementRow:
    result = one.result
    tier = result.tier
    return StatementRow(
        run_id=run_id,
        agent_id=one.agent.id,
        team_id=one.team_id,
        plan_version_id=one.version.id,
        target_bonus=one.rules.target_bonus,
        currency=one.version.currency,
        weighted_score=rounded(result.weighted_score, MOST_PLACES),
        tier_from=tier.from_score if tier else None,
        tier_rate=tier.rate if tier else Decimal(0),
        score_cap=result.score_cap,
        payout_factor=rounded(result.payout_factor, 4),
        payout_cap=one.rules.payout_cap,
        kicker=tier.kicker if tier else Decimal(0),
        amount_before_cap=rounded(result.amount_before_cap, 6),
        capped=result.capped,
        adjustments=extra,
        amount=result.amount + extra,
        facts_fingerprint=facts_fingerprint(one.measured, keys, texts),
    )


def _gate_rows(statement_id: int, one: Scored) -> list[GateRow]:
    if not one.result.gates_hit:
        return []
    gate_by_key: dict[Hashable, PlanGate] = {GateKey.of(g): g for g in one.gates}
    rows = []
    for hit in one.result.gates_hit:
        g = gate_by_key[hit.rule.code]
        rows.append(
            GateRow(
                statement_id=statement_id,
                metric=g.metric,
                scope=g.scope,
                comparison=g.comparison,
                threshold=g.value,
                value=rounded(hit.value, MOST_PLACES),
                effect=g.effect,
                factor=g.factor,
                score_cap=g.score_cap,
            )
        )
    return rows


def statements_write(
    *, run_id: int, scored: list[Scored], adjustments: dict[int, list[Adjustment]]
) -> int:
    """Write the statements of ``scored`` (one plan version's agents), with their lines, gates hit and
    adjustments; returns how many. Call inside the chunk's transaction, its old statements deleted."""
    keys = sorted(scored[0].measured, key=str) if scored else []  # the same for every agent
    texts: dict[int, str] = {}  # the values' texts: ``scored`` keeps the values alive
    rows = [
        _statement_row(
            run_id,
            one,
            sum((a.amount for a in adjustments.get(one.agent.id, [])), Decimal(0)),
            keys,
            texts,
        )
        for one in scored
    ]
    ids = fastwrite.rows_insert(Statement, StatementRow._fields, rows)
    fastwrite.rows_insert(
        StatementLine, LineRow._fields, list(statement_lines(ids, scored)), ids=False
    )
    gate_rows: list[GateRow] = []
    adjustment_rows: list[AdjustmentRow] = []
    for statement_id, one in zip(ids, scored, strict=True):
        gate_rows += _gate_rows(statement_id, one)
        adjustment_rows += [
            AdjustmentRow(statement_id, a.pk, a.amount, str(a.corrects), a.reason)
            for a in adjustments.get(one.agent.id, [])
        ]
    fastwrite.rows_insert(StatementGate, GateRow._fields, gate_rows, ids=False)
    fastwrite.rows_insert(StatementAdjustment, AdjustmentRow._fields, adjustment_rows, ids=False)
    return len(rows)


def chunk_statements_write(chunk: RunChunk) -> tuple[int, str]:
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
            version=versions[version_id],
            agents=version_agents,
            team_of=team_of,
            year=year,
            month=month,
            overrides=overrides,
            problems=problems,
        )
        written += statements_write(run_id=chunk.run_id, scored=scored, adjustments=adjustments)
    return written, "\n".join(problems)
