"""Reads for the dashboards: aggregated in the database, a fixed number of queries per page."""

from __future__ import annotations

from django.db.models import Avg, Count, F, QuerySet, Sum

from incentives.models import Period, Run, RunChunk, Statement


def team_totals(runs: list[Run]) -> dict[int, list[dict]]:
    """Per run, per team: agents, payout total, mean weighted score — one query for all the runs."""
    rows = (
        Statement.objects.filter(run__in=runs)
        .values("run_id", "team__code", "team__name", "currency")
        .annotate(agents=Count("id"), total=Sum("amount"), mean_score=Avg("weighted_score"))
        .order_by("run_id", "team__code")
    )
    totals: dict[int, list[dict]] = {}
    for row in rows:
        totals.setdefault(row["run_id"], []).append(row)
    return totals


def run_problems(runs: list[Run]) -> dict[int, list[RunChunk]]:
    """Per run, the chunks that left something for HR to fix (no plan, two plans) or failed."""
    problems: dict[int, list[RunChunk]] = {}
    for chunk in RunChunk.objects.filter(run__in=runs).exclude(problem="").select_related("team"):
        problems.setdefault(chunk.run_id, []).append(chunk)
    return problems


def latest_approved_period() -> Period | None:
    return (
        Period.objects.filter(approved_run__isnull=False)
        .select_related("approved_run")
        .order_by("-year", "-month")
        .first()
    )


def team_statements(*, team_ids, period: Period | None) -> QuerySet[Statement]:
    """Approved statements of a period for the given teams, ranked by score within the team."""
    if period is None:
        return Statement.objects.none()
    return (
        Statement.objects.filter(team_id__in=team_ids, run=period.approved_run)
        .select_related("agent", "team")
        .order_by("team__code", F("weighted_score").desc(), "agent__employee_id")
    )
