"""The leaderboards and the agent's places on them: the best agents of a month, a quarter's top
agents, an agent's recognitions and rank in their team."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from django.db.models import Count, Max, Sum

from calls.numbers import Exact
from incentives.models import Agent, Period, Statement, Team


@dataclass
class Ranked:
    rank: int  # competition ranking: two agents tied for first are both 1, the next is 3
    agent: Agent
    team: Team
    score: Exact  # the weighted score, or its exact mean over the quarter's approved months
    months: int = 1


def _ranked(rows: list[tuple[Agent, Team, Exact, int]]) -> list[Ranked]:
    ordered = sorted(rows, key=lambda r: (-r[2], r[0].employee_id))
    ranked, previous, rank = [], None, 0
    for position, (agent, team, score, months) in enumerate(ordered, start=1):
        if score != previous:
            rank, previous = position, score
        ranked.append(Ranked(rank, agent, team, score, months))
    return ranked


def best_of_month(period: Period) -> list[Ranked]:
    """The best agent(s) of an approved month: the highest weighted score; a tie names each of them."""
    if period.approved_run_id is None:
        return []
    statements = Statement.objects.filter(run_id=period.approved_run_id).select_related(
        "agent", "team"
    )
    ranked = _ranked([(s.agent, s.team, s.weighted_score, 1) for s in statements])
    return [r for r in ranked if r.rank == 1]


def quarter_top(year: int, quarter: int, *, top: int = 3) -> list[Ranked]:
    """The quarter's top agents by their mean weighted score over its approved months (every agent with
    a statement in at least one of them); ties at the cut-off are all in."""
    months = [3 * (quarter - 1) + m for m in (1, 2, 3)]
    periods = Period.objects.filter(year=year, month__in=months, approved_run__isnull=False)
    rows = list(
        Statement.objects.filter(run_id__in=periods.values("approved_run_id"))
        .values("agent_id", "team_id")
        .annotate(score=Sum("weighted_score"), months=Count("id"))
        .order_by()
    )
    agents = Agent.objects.in_bulk([r["agent_id"] for r in rows])
    teams = Team.objects.in_bulk([r["team_id"] for r in rows])
    # An agent who moved team within the quarter: one entry, under the team of most of their months.
    merged: dict[int, list] = {}
    for r in sorted(rows, key=lambda r: -r["months"]):
        entry = merged.setdefault(
            r["agent_id"], [agents[r["agent_id"]], teams[r["team_id"]], Fraction(0), 0]
        )
        entry[2] += Fraction(r["score"])
        entry[3] += r["months"]
    # The mean of the stored scores, exact: ranked on it, rounded only where it is shown.
    ranked = _ranked(
        [(agent, team, total / count, count) for agent, team, total, count in merged.values()]
    )
    return [r for r in ranked if r.rank <= top]


@dataclass
class Recognition:
    period: str  # "2026-10" or "2026 Q4"
    rank: int
    kind: str  # "month": best agent of the month; "quarter": the quarter's top 3
    order: tuple = ()  # (year, month): a quarter after its last month


def recognitions(agent: Agent, *, months: int = 12) -> list[Recognition]:
    """The agent's places on the leaderboards of the last ``months`` approved months, newest first:
    best agent of a month (ties share it), and the top 3 of a quarter (from its approved months)."""
    periods = list(
        Period.objects.filter(approved_run__isnull=False).order_by("-year", "-month")[:months]
    )
    runs_of = [p.approved_run_id for p in periods]
    best = dict(
        Statement.objects.filter(run_id__in=runs_of)
        .values("run_id")
        .annotate(top=Max("weighted_score"))
        .values_list("run_id", "top")
    )
    mine = dict(
        Statement.objects.filter(run_id__in=runs_of, agent=agent).values_list(
            "run_id", "weighted_score"
        )
    )
    found = []
    quarters: dict[tuple[int, int], None] = {}
    for p in periods:
        if p.approved_run_id in mine:
            quarters[(p.year, (p.month - 1) // 3 + 1)] = None
            if mine[p.approved_run_id] == best.get(p.approved_run_id):
                found.append(Recognition(str(p), 1, "month", (p.year, p.month, 0)))
    for year, quarter in quarters:  # a handful: at most one per three months shown
        for ranked in quarter_top(year, quarter):
            if ranked.agent.pk == agent.pk:
                found.append(
                    Recognition(
                        f"{year} Q{quarter}", ranked.rank, "quarter", (year, quarter * 3, 1)
                    )
                )
    return sorted(found, key=lambda r: r.order, reverse=True)


def team_rank(statement: Statement) -> tuple[int, int]:
    """(rank, agents) of a statement in its team for its run by weighted score; agents tied share a rank."""
    same = Statement.objects.filter(run_id=statement.run_id, team_id=statement.team_id)
    ahead = same.filter(weighted_score__gt=statement.weighted_score).count()
    return ahead + 1, same.count()
