"""HR's checks before approval in the API: the review of a run, two runs compared, what-if."""

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from calls.roles import HR
from incentives.models import MONEY, SCORED, Period, PlanVersion, Run
from reports import selectors


def _d(value) -> str | None:
    """Money and scores as exact strings in plain notation, as the serializers give them (never a
    float; a score kept to 10 places of 0 is "0.0000000000", not "0E-10")."""
    return None if value is None else f"{value:f}"


def _statement(s) -> dict | None:
    if s is None:
        return None
    return {"id": s.pk, "amount": _d(s.amount), "weighted_score": _d(s.weighted_score)}


def _row(d: selectors.Difference) -> dict:
    return {
        "employee_id": d.agent.employee_id,
        "name": d.agent.name,
        "before": _statement(d.before),
        "after": _statement(d.after),
        "change": _d(d.delta),
        "reasons": d.reasons,
    }


# The shapes the views below build by hand, for the schema (tests/test_api_schema_conformance.py holds
# each to what its view returns).


class RunStatementSerializer(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True, help_text="Null for a what-if's statement.")
    amount = serializers.DecimalField(**MONEY)
    weighted_score = serializers.DecimalField(**SCORED)


class DifferenceSerializer(serializers.Serializer):
    """One agent's statements on either side, the change and why (``_row``)."""

    employee_id = serializers.CharField()
    name = serializers.CharField()
    before = RunStatementSerializer(allow_null=True)
    after = RunStatementSerializer(allow_null=True)
    change = serializers.DecimalField(**MONEY)
    reasons = serializers.ListField(child=serializers.CharField())


class TeamTotalSerializer(serializers.Serializer):
    team = serializers.CharField(help_text="The team's code.")
    agents = serializers.IntegerField()
    total = serializers.DecimalField(**MONEY)
    budget = serializers.DecimalField(**MONEY, allow_null=True)
    over_budget = serializers.DecimalField(**MONEY, allow_null=True)


class ScoreBandSerializer(serializers.Serializer):
    band = serializers.CharField()
    agents = serializers.IntegerField()


class LargestChangeSerializer(serializers.Serializer):
    employee_id = serializers.CharField()
    previous = serializers.DecimalField(**MONEY)
    amount = serializers.DecimalField(**MONEY)
    change = serializers.DecimalField(**MONEY)


class ApprovalReviewSerializer(serializers.Serializer):
    period = serializers.CharField(help_text="The month, YYYY-MM.")
    run = serializers.IntegerField(help_text="The run's number in its month (its version).")
    total = serializers.DecimalField(**MONEY)
    teams = TeamTotalSerializer(many=True)
    score_bands = ScoreBandSerializer(many=True)
    largest_changes = LargestChangeSerializer(many=True)
    gates_hit = serializers.ListField(child=serializers.CharField(), help_text="Employee ids.")
    no_data = serializers.ListField(child=serializers.CharField(), help_text="Employee ids.")
    problems = serializers.ListField(child=serializers.CharField())
    unpaid_adjustments = serializers.ListField(
        child=serializers.IntegerField(), help_text="Adjustment ids."
    )


class RunComparisonSerializer(serializers.Serializer):
    before = serializers.IntegerField(help_text="The earlier run's number in its month.")
    after = serializers.IntegerField(help_text="This run's number in its month.")
    differences = DifferenceSerializer(many=True)


class WhatIfSerializer(serializers.Serializer):
    version = serializers.CharField()
    period = serializers.CharField(help_text="The month, YYYY-MM.")
    compared_with_run = serializers.IntegerField(
        allow_null=True, help_text="The number of the run really paid, if the month has one."
    )
    real_total = serializers.DecimalField(**MONEY)
    whatif_total = serializers.DecimalField(**MONEY)
    winners = serializers.IntegerField()
    losers = serializers.IntegerField()
    agents = DifferenceSerializer(many=True)
    problems = serializers.ListField(child=serializers.CharField())


class ApprovalReviewApi(APIView):
    """What HR checks before approving a run: totals per team against budget, the distribution of
    scores, the largest changes from last month, gates hit, no plan / no data, unpaid adjustments."""

    allowed_roles = {HR}

    @extend_schema(responses={200: ApprovalReviewSerializer})
    def get(self, request, pk: int):
        run = get_object_or_404(Run.objects.select_related("period"), pk=pk)
        r = selectors.approval_review(period=run.period, run=run)
        return Response(
            {
                "period": str(r.period),
                "run": r.run.number,
                "total": _d(r.total),
                "teams": [
                    {
                        "team": t.team.code,
                        "agents": t.agents,
                        "total": _d(t.total),
                        "budget": _d(t.budget),
                        "over_budget": _d(t.over_budget),
                    }
                    for t in r.teams
                ],
                "score_bands": [{"band": label, "agents": n} for label, n in r.bands],
                "largest_changes": [
                    {
                        "employee_id": c.statement.agent.employee_id,
                        "previous": _d(c.previous),
                        "amount": _d(c.statement.amount),
                        "change": _d(c.delta),
                    }
                    for c in r.changes
                ],
                "gates_hit": [s.agent.employee_id for s in r.gated],
                "no_data": [s.agent.employee_id for s in r.no_data],
                "problems": [c.problem for c in r.problems],
                "unpaid_adjustments": [a.pk for a in r.unpaid_adjustments],
            }
        )


_OTHER_RUN = "the id of another run of the same month"

_NOT_ANOTHER_RUN: dict[str, Any] = dict.fromkeys(
    ["invalid", "required", "null", "min_value", "max_value", "max_string_length"], _OTHER_RUN
)
# ``?with=``: a keyword, so the field is declared by name; bounded, so no number reaches the database
# that it would refuse.
RunCompareQuerySerializer = type(
    "RunCompareQuerySerializer",
    (serializers.Serializer,),
    {
        "with": serializers.IntegerField(
            min_value=1,
            max_value=2**63 - 1,
            error_messages=_NOT_ANOTHER_RUN,
            help_text="The id of the earlier run of the same month to compare with.",
        )
    },
)


class RunCompareApi(APIView):
    """Two runs of a month: per agent, the change and why (data, plan, targets, adjustments)."""

    allowed_roles = {HR}

    @extend_schema(parameters=[RunCompareQuerySerializer], responses={200: RunComparisonSerializer})
    def get(self, request, pk: int):
        after = get_object_or_404(Run, pk=pk)
        asked = RunCompareQuerySerializer(data=request.query_params)
        asked.is_valid(raise_exception=True)
        before = get_object_or_404(Run, pk=asked.validated_data["with"])
        if before.period_id != after.period_id or before.pk == after.pk:
            raise ValidationError({"with": [_OTHER_RUN]})
        rows = selectors.runs_compare(before=before, after=after)
        return Response(
            {"before": before.number, "after": after.number, "differences": [_row(d) for d in rows]}
        )


class WhatIfRequestSerializer(serializers.Serializer):
    version = serializers.PrimaryKeyRelatedField(queryset=PlanVersion.objects.all())
    period = serializers.PrimaryKeyRelatedField(queryset=Period.objects.all())


class WhatIfApi(APIView):
    """A plan version over a past month's data beside the real payouts. Nothing is written."""

    allowed_roles = {HR}

    @extend_schema(request=WhatIfRequestSerializer, responses={200: WhatIfSerializer})
    def post(self, request):
        incoming = WhatIfRequestSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        result = selectors.whatif(**incoming.validated_data)
        return Response(
            {
                "version": str(result.version),
                "period": str(result.period),
                "compared_with_run": result.compared_with.number if result.compared_with else None,
                "real_total": _d(result.real_total),
                "whatif_total": _d(result.whatif_total),
                "winners": len(result.winners),
                "losers": len(result.losers),
                "agents": [_row(d) for d in result.rows],
                "problems": result.problems,
            }
        )
