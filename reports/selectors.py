"""Reads for the dashboards: aggregated in the database, a fixed number of queries per page."""

from __future__ import annotations

from django.db.models import Avg, Count, F, QuerySet, Sum

from incentives.models import Period, Run, RunChunk, Statement


def team_totals(run: Run) -> QuerySet:
    """Per team of a run: agents, payout total, mean weighted score."""
    return (
        Statement.objects.filter(run=run)
        .values("team__code", "team__name", "currency")
        .annotate(agents=Count("id"), total=Sum("amount"), mean_score=Avg("weighted_score"))
        .order_by("team__code")
    )


def run_problems(run: Run) -> QuerySet[RunChunk]:
    """Chunks that left something for HR to fix (no plan, two plans) or failed."""
    return RunChunk.objects.filter(run=run).exclude(problem="").select_related("team")


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
