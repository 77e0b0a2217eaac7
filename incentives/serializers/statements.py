"""Serializers of statements (their lines, gates and adjustments), runs and periods."""

from __future__ import annotations

from rest_framework import serializers

from incentives.models import (
    Period,
    Run,
    RunChunk,
    Statement,
    StatementAdjustment,
    StatementGate,
    StatementLine,
    Team,
)


class StatementLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = StatementLine
        fields = [
            "metric",
            "scope",
            "measure",
            "value",
            "numerator",
            "denominator",
            "direction",
            "target_source",
            "threshold",
            "threshold_payout",
            "target",
            "excellence",
            "excellence_payout",
            "weight",
            "effective_weight",
            "score",
            "points",
            "no_data",
        ]


class StatementGateSerializer(serializers.ModelSerializer):
    class Meta:
        model = StatementGate
        fields = [
            "metric",
            "scope",
            "comparison",
            "threshold",
            "value",
            "effect",
            "factor",
            "score_cap",
        ]


class StatementAdjustmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = StatementAdjustment
        fields = ["amount", "corrects", "reason"]


class StatementSerializer(serializers.ModelSerializer):
    period = serializers.CharField(source="run.period.__str__", read_only=True)
    # The run's id, as /api/v1/runs/<id>/ and a period's approved_run name it; its version beside.
    run: serializers.PrimaryKeyRelatedField = serializers.PrimaryKeyRelatedField(read_only=True)
    run_version = serializers.IntegerField(source="run.number", read_only=True)
    employee_id = serializers.CharField(source="agent.employee_id", read_only=True)
    agent_name = serializers.CharField(source="agent.name", read_only=True)
    team = serializers.CharField(source="team.code", read_only=True)
    plan = serializers.CharField(source="plan_version.plan.code", read_only=True)
    plan_version = serializers.IntegerField(source="plan_version.number", read_only=True)
    lines = StatementLineSerializer(many=True, read_only=True)
    gates_hit = StatementGateSerializer(many=True, read_only=True)
    adjustment_lines = StatementAdjustmentSerializer(many=True, read_only=True)
    code_version = serializers.CharField(source="run.code_version", read_only=True)

    class Meta:
        model = Statement
        fields = [
            "id",
            "period",
            "run",
            "run_version",
            "employee_id",
            "agent_name",
            "team",
            "plan",
            "plan_version",
            "target_bonus",
            "currency",
            "weighted_score",
            "score_cap",
            "tier_from",
            "tier_rate",
            "kicker",
            "payout_factor",
            "payout_cap",
            "capped",
            "adjustments",
            "amount",
            "lines",
            "gates_hit",
            "adjustment_lines",
            "facts_fingerprint",
            "code_version",
        ]


class RunChunkSerializer(serializers.ModelSerializer):
    teams: serializers.SlugRelatedField[Team] = serializers.SlugRelatedField(
        many=True, read_only=True, slug_field="code"
    )

    class Meta:
        model = RunChunk
        fields = ["teams", "status", "statements", "problem", "attempts", "finished_at"]


class RunSerializer(serializers.ModelSerializer):
    period = serializers.CharField(source="period.__str__", read_only=True)
    chunks = RunChunkSerializer(many=True, read_only=True)
    chunks_done = serializers.SerializerMethodField()

    class Meta:
        model = Run
        fields = [
            "id",
            "period",
            "number",
            "status",
            "error",
            "code_version",
            "created_at",
            "started_at",
            "finished_at",
            "chunks_done",
            "chunks",
        ]

    def get_chunks_done(self, run: Run) -> int:
        return sum(1 for chunk in run.chunks.all() if chunk.status == RunChunk.Status.DONE)


class PeriodSerializer(serializers.ModelSerializer):
    # The run's id, as /api/v1/runs/<id>/ and the statements' "run" name it; its version number beside.
    approved_run: serializers.PrimaryKeyRelatedField = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True
    )
    approved_run_number = serializers.IntegerField(
        source="approved_run.number", allow_null=True, read_only=True
    )
    # Approved once and reopened by HR since: its data may have changed since approval; approved_run is
    # the run approved until then, which agents still see.
    reopened = serializers.BooleanField(read_only=True)

    class Meta:
        model = Period
        fields = [
            "id",
            "year",
            "month",
            "status",
            "approved_run",
            "approved_run_number",
            "approved_at",
            "reopened",
        ]
