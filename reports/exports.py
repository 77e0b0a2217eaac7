"""What a page's ``?export=csv`` (or ``xlsx``) downloads: the page's tables, each a header (the column
names, in order) and its rows (one value per name), the rows lazy so that only the table asked for is
read. The views answer an export with ``export`` or ``export_tables`` before they render anything.

A number is exported as a number; a metric's value or a score as the page shows it (``as_shown``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _

from calls.numbers import places_beside, rounded
from calls.spreadsheets import table_export

Table = tuple[Sequence[str], Iterable[Sequence]]


def export(request, name: str, header: Sequence[str], rows) -> HttpResponse | None:
    """``?export=csv`` or ``?export=xlsx`` on a page's table: the same rows as a download (cells safe
    for spreadsheets, numbers as numbers); None when the page itself is asked for."""
    return table_export(request, name, header, rows)


def export_tables(request, name: str, tables: dict[str, Table]) -> HttpResponse | None:
    """The same for a page of several tables: ``&table=<key>`` picks one (the first by default)."""
    if request.GET.get("export") is None:
        return None
    key = request.GET.get("table") or next(iter(tables))
    if key not in tables:
        raise Http404("No such table on this page.")
    header, rows = tables[key]
    return export(request, f"{name}-{key}", header, rows)


def as_shown(value) -> Decimal | None:
    """A metric's value in an export as its page shows it: rounded half-up to 2 places (a number)."""
    return None if value is None else rounded(value, 2)


def overview_tables(
    rows: list[dict], months: list, bands: list[str], queues: list
) -> dict[str, Table]:
    """HR's overview: each month's teams (``rows``), the distribution of scores, the queues."""
    teams = (
        [
            str(row["period"]),
            row["period"].status,
            row["latest"].number,
            row["latest"].status,
            t["team__code"],
            t["team__name"],
            t["agents"],
            rounded(t["mean_score"], 2),
            t["total"],
            t["currency"],
        ]
        for row in rows
        for t in row["totals"]
    )
    scores = (
        [str(m.period), m.run.number, *[n for _label, n in m.bands], m.agents] for m in months
    )
    queue_rows = (
        [
            q.queue,
            q.offered,
            q.answered,
            q.answer_rate,
            q.abandoned,
            q.abandon_rate,
            q.asa,
            q.service_level,
            q.refused,
            q.rings,
            q.transfers,
        ]
        for q in queues
    )
    return {
        "teams": (
            [
                "period",
                "period_status",
                "run",
                "run_status",
                "team_code",
                "team",
                "agents",
                "mean_score",
                "total",
                "currency",
            ],
            teams,
        ),
        "scores": (["period", "run", *bands, "agents"], scores),
        "queues": (
            [
                "queue",
                "offered",
                "answered",
                "answer_rate",
                "abandoned",
                "abandon_rate",
                "asa_seconds",
                "service_level",
                "refused",
                "rings_without_answer",
                "transfers",
            ],
            queue_rows,
        ),
    }


def approval_tables(review) -> dict[str, Table]:
    """What HR checks before approving a run: teams against budget, the scores, who changed, the gates
    that hit, the agents with a metric without data."""
    changes = (
        [
            c.statement.agent.employee_id,
            c.statement.agent.name,
            c.statement.team.code,
            c.previous,
            c.statement.amount,
            c.delta,
        ]
        for c in review.changes
    )
    gates = (
        [
            s.agent.employee_id,
            s.agent.name,
            s.team.code,
            g.metric,
            rounded(g.value, places_beside(g.value, g.threshold)),
            g.comparison,
            g.threshold,
            g.effect,
        ]
        for s in review.gated
        for g in s.gates_hit.all()
    )
    no_data = (
        [
            s.agent.employee_id,
            s.agent.name,
            s.team.code,
            " ".join(line.metric for line in s.lines.all() if line.no_data),
        ]
        for s in review.no_data
    )
    return {
        "teams": (
            ["team_code", "team", "agents", "total", "budget", "over_budget"],
            (
                [t.team.code, t.team.name, t.agents, t.total, t.budget, t.over_budget]
                for t in review.teams
            ),
        ),
        "scores": (["band", "agents"], ([label, count] for label, count in review.bands)),
        "changes": (["employee_id", "agent", "team", "previous", "amount", "change"], changes),
        "gates": (
            [
                "employee_id",
                "agent",
                "team",
                "metric",
                "value",
                "comparison",
                "threshold",
                "effect",
            ],
            gates,
        ),
        "no_data": (["employee_id", "agent", "team", "metrics"], no_data),
    }


def comparison_table(comparison) -> Table:
    """The plan versions paying in a month side by side, a column per metric."""
    codes = [code for code, _name in comparison.metrics]
    header = (
        "plan_code plan version currency agents teams mean_score median_score mean_payout total"
    )
    rows = (
        [
            r.version.plan.code,
            r.version.plan.name,
            r.version.number,
            r.currency,
            r.agents,
            r.teams,
            rounded(r.mean_score, 2),
            rounded(r.median_score, 2),
            r.mean_payout,
            r.total,
            *[as_shown(v.value if v is not None else None) for v in r.values],
        ]
        for r in comparison.rows
    )
    return [*header.split(), *codes], rows


def runs_compare_table(differences) -> Table:
    """Two runs of a month: who changed and why."""
    rows = (
        [
            d.agent.employee_id,
            d.agent.name,
            d.before.amount if d.before else None,
            d.after.amount if d.after else None,
            d.delta,
            "; ".join(d.reasons),
        ]
        for d in differences
    )
    return ["employee_id", "agent", "before", "after", "change", "why"], rows


def whatif_table(result) -> Table:
    """A plan version over a past month, beside the real payouts."""
    rows = (
        [
            r.agent.employee_id,
            r.agent.name,
            r.before.amount if r.before else None,
            r.after.amount,
            r.delta,
            rounded(r.after.weighted_score, 2),
        ]
        for r in result.rows
    )
    return ["employee_id", "agent", "paid", "under_version", "change", "weighted_score"], rows


def leaderboard_tables(months: list, quarters: list) -> dict[str, Table]:
    """The best of each month and the quarter's top 3; an entry this user may not see is "an agent"."""

    def who(r, visible: bool) -> list:
        if not visible:
            return ["", _("an agent"), ""]
        return [r.agent.employee_id, r.agent.name, r.team.name]

    return {
        "months": (
            ["period", "rank", "employee_id", "agent", "team", "score"],
            (
                [str(period), r.rank, *who(r, visible), rounded(r.score, 2)]
                for period, best in months
                for r, visible in best
            ),
        ),
        "quarter": (
            ["year", "quarter", "rank", "employee_id", "agent", "team", "score", "months"],
            (
                [year, q, r.rank, *who(r, visible), rounded(r.score, 2), r.months]
                for (year, q), ranked in quarters
                for r, visible in ranked
            ),
        ),
    }


def calls_table(calls) -> Table:
    """An agent's calls in the dashboard's window (the bottom of the drill-down)."""
    rows = (
        [
            c.external_id,
            c.started_at,
            c.queue,
            c.direction,
            c.wait_seconds,
            c.talk_seconds if c.answered_at else None,
            c.outcome,
            c.ended_by,
        ]
        for c in calls
    )
    header = "call started_at queue direction wait_seconds talk_seconds outcome ended_by"
    return header.split(), rows


def top_fifth_table(fifth) -> Table:
    """A team's top fifth against the rest (``reports.selectors.top_fifth``): per metric, each group's
    mean and its number of agents, and the difference."""
    rows = (
        [
            str(fifth.period),
            m.metric,
            m.direction,
            as_shown(m.top.mean),
            m.top.agents,
            as_shown(m.rest.mean),
            m.rest.agents,
            as_shown(m.difference),
        ]
        for m in fifth.metrics
    )
    header = (
        "period metric direction top_fifth_mean top_fifth_agents rest_mean rest_agents difference"
    )
    return header.split(), rows
