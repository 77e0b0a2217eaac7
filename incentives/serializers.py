from rest_framework import serializers

from incentives.models import Period, Run, RunChunk, Statement, StatementLine


class StatementLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = StatementLine
        fields = [
            "metric",
            "value",
            "numerator",
            "denominator",
            "direction",
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


class StatementSerializer(serializers.ModelSerializer):
    period = serializers.CharField(source="run.period.__str__", read_only=True)
    run_version = serializers.IntegerField(source="run.number", read_only=True)
    employee_id = serializers.CharField(source="agent.employee_id", read_only=True)
    agent_name = serializers.CharField(source="agent.name", read_only=True)
    team = serializers.CharField(source="team.code", read_only=True)
    plan = serializers.CharField(source="plan.code", read_only=True)
    lines = StatementLineSerializer(many=True, read_only=True)

    class Meta:
        model = Statement
        fields = [
            "id",
            "period",
            "run_version",
            "employee_id",
            "agent_name",
            "team",
            "plan",
            "target_bonus",
            "currency",
            "weighted_score",
            "tier_from",
            "tier_rate",
            "kicker",
            "capped",
            "amount",
            "lines",
        ]


class RunChunkSerializer(serializers.ModelSerializer):
    team = serializers.CharField(source="team.code", read_only=True)

    class Meta:
        model = RunChunk
        fields = ["team", "status", "statements", "problem", "attempts", "finished_at"]


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
            "created_at",
            "started_at",
            "finished_at",
            "chunks_done",
            "chunks",
        ]

    def get_chunks_done(self, run: Run) -> int:
        return sum(1 for chunk in run.chunks.all() if chunk.status == RunChunk.Status.DONE)


class PeriodSerializer(serializers.ModelSerializer):
    approved_run = serializers.IntegerField(
        source="approved_run.number", allow_null=True, read_only=True
    )

    class Meta:
        model = Period
        fields = ["id", "year", "month", "status", "approved_run", "approved_at"]
