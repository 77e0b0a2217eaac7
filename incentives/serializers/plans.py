"""Serializers of plans: the metric catalogue, plan versions with their metrics, tiers, gates and
awards, target overrides and proposals, adjustments."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from calls.metrics import CATALOGUE, METRIC_CHOICES
from incentives.models import (
    MONEY,
    SCORED,
    Adjustment,
    Channel,
    Level,
    Period,
    Plan,
    PlanAward,
    PlanGate,
    PlanMetric,
    PlanTier,
    PlanVersion,
    TargetOverride,
    Team,
)
from incentives.presets import AwardSpec
from incentives.validation import GateSpec, MetricSpec, TierSpec, VersionSpec


def catalogue_data() -> list[dict]:
    return [
        {
            "code": d.code,
            "name_en": d.name_en,
            "name_zh": d.name_zh,
            "unit": d.unit,
            "direction": d.direction,
            "facts": list(d.facts),
            "minimum": d.minimum,
            "maximum": d.maximum,
            "definition": d.definition_en,
            "params": [
                {
                    "code": p.code,
                    "name_en": p.name_en,
                    "name_zh": p.name_zh,
                    "default": p.default,
                    "minimum": p.minimum,
                    "maximum": p.maximum,
                    "unit": p.unit,
                    "kind": p.kind,
                }
                for p in d.params
            ],
            "improvement_baselines": ["previous", "trailing3"],
        }
        for d in CATALOGUE
    ]


# What the GETs answer that no model serializer writes, for the schema: the catalogue, plan problems, a
# version in words. tests/test_api_schema_conformance.py holds each to what its view returns.


@extend_schema_field({"oneOf": [{"type": "integer"}, {"type": "string"}]})
class _NumberOrCode(serializers.Field):
    """A parameter's default: a whole number, or a queue's code (empty: every queue)."""


class MetricParamSerializer(serializers.Serializer):
    code = serializers.CharField()
    name_en = serializers.CharField()
    name_zh = serializers.CharField()
    default = _NumberOrCode()
    minimum = serializers.IntegerField(allow_null=True)
    maximum = serializers.IntegerField(allow_null=True)
    unit = serializers.CharField(allow_blank=True)
    kind = serializers.ChoiceField(choices=["number", "queue"])


class MetricDefinitionSerializer(serializers.Serializer):
    """One metric of the catalogue (``catalogue_data``)."""

    code = serializers.CharField()
    name_en = serializers.CharField()
    name_zh = serializers.CharField()
    unit = serializers.CharField()
    direction = serializers.ChoiceField(
        choices=["up", "down"], help_text="up: higher is better; down: lower is better."
    )
    facts = serializers.ListField(child=serializers.CharField())
    # The range a value can take: a bound, not money, so a JSON number.
    minimum = serializers.FloatField()
    maximum = serializers.FloatField(allow_null=True)
    definition = serializers.CharField()
    params = MetricParamSerializer(many=True)
    improvement_baselines = serializers.ListField(child=serializers.CharField())


class PlanProblemsQuerySerializer(serializers.Serializer):
    day = serializers.DateField(
        required=False, help_text="The day to check (YYYY-MM-DD); today when not given."
    )


class PlanProblemSerializer(serializers.Serializer):
    employee_id = serializers.CharField()
    agent = serializers.CharField(help_text="The agent's name.")
    plan_versions = serializers.ListField(
        child=serializers.IntegerField(), help_text="The plan versions that claim the agent."
    )
    message = serializers.CharField()


class PlanProblemsSerializer(serializers.Serializer):
    day = serializers.DateField()
    problems = PlanProblemSerializer(many=True)


class WorkedExampleSerializer(serializers.Serializer):
    weighted_score = serializers.DecimalField(**SCORED)
    payout = serializers.DecimalField(**MONEY)
    how = serializers.CharField()


class NewVersionRequestSerializer(serializers.Serializer):
    """What ``plan-versions/{id}/new-version/`` reads (the view reads the body itself)."""

    effective_from = serializers.DateField(help_text="The day the new version takes effect.")
    note = serializers.CharField(required=False, allow_blank=True)


class PlanCopyRequestSerializer(serializers.Serializer):
    """What ``plan-versions/{id}/copy/`` reads: the new plan's code and name."""

    code = serializers.CharField()
    name = serializers.CharField()


class PlanExplanationSerializer(serializers.Serializer):
    words = serializers.ListField(
        child=serializers.CharField(), help_text="The plan in sentences, one a rule."
    )
    examples = WorkedExampleSerializer(many=True)


class PlanMetricSerializer(serializers.ModelSerializer):
    class Meta:
        model = PlanMetric
        fields = [
            "metric",
            "weight",
            "scope",
            "measure",
            "baseline",
            "params",
            "threshold",
            "threshold_payout",
            "target",
            "excellence",
            "excellence_payout",
            "no_data",
        ]
        validators: list = []  # the plan's rules are checked together, by incentives.validation


class PlanTierSerializer(serializers.ModelSerializer):
    class Meta:
        model = PlanTier
        fields = ["from_score", "rate", "kicker"]
        validators: list = []


class PlanGateSerializer(serializers.ModelSerializer):
    class Meta:
        model = PlanGate
        fields = [
            "metric",
            "scope",
            "params",
            "comparison",
            "value",
            "effect",
            "factor",
            "score_cap",
        ]
        validators: list = []


class PlanAwardSerializer(serializers.ModelSerializer):
    class Meta:
        model = PlanAward
        fields = ["kind", "count", "note"]


class PlanVersionSerializer(serializers.ModelSerializer):
    """A version with everything it pays. Writes are validated as a whole by ``incentives.validation``
    (the admin's rules) and saved by ``services``; a version used by a computation answers 409."""

    plan = serializers.SlugRelatedField(slug_field="code", queryset=Plan.objects.all())
    metrics = PlanMetricSerializer(many=True)
    tiers = PlanTierSerializer(many=True)
    gates = PlanGateSerializer(many=True, required=False)
    awards = PlanAwardSerializer(many=True, required=False)
    levels = serializers.ListField(child=serializers.ChoiceField(Level.choices), required=False)
    channels = serializers.ListField(child=serializers.ChoiceField(Channel.choices), required=False)
    locked = serializers.BooleanField(read_only=True)

    class Meta:
        model = PlanVersion
        fields = [
            "id",
            "plan",
            "number",
            "status",
            "locked",
            "effective_from",
            "effective_to",
            "target_bonus_kind",
            "target_bonus",
            "target_bonus_percent",
            "currency",
            "payout_cap_kind",
            "payout_cap",
            "teams",
            "groups",
            "levels",
            "channels",
            "note",
            "metrics",
            "tiers",
            "gates",
            "awards",
        ]
        read_only_fields = ["number", "status"]

    def to_spec(self) -> VersionSpec:
        d = self.validated_data
        return VersionSpec(
            effective_from=d["effective_from"],
            effective_to=d.get("effective_to"),
            target_bonus_kind=d.get("target_bonus_kind", "fixed"),
            target_bonus=d.get("target_bonus"),
            target_bonus_percent=d.get("target_bonus_percent"),
            payout_cap_kind=d.get("payout_cap_kind", "percent"),
            payout_cap=d.get("payout_cap"),
            metrics=[MetricSpec(**m) for m in d["metrics"]],
            tiers=[TierSpec(**t) for t in d["tiers"]],
            gates=[GateSpec(**g) for g in d.get("gates", [])],
        )

    def scope_kwargs(self) -> dict:
        d = self.validated_data
        return {
            "teams": d.get("teams", []),
            "groups": d.get("groups", []),
            "levels": d.get("levels", []),
            "channels": d.get("channels", []),
            "awards": [
                AwardSpec(a["kind"], a.get("count", 1), a.get("note", ""))
                for a in d.get("awards", [])
            ],
        }


class PlanSerializer(serializers.ModelSerializer):
    versions = serializers.SerializerMethodField()

    class Meta:
        model = Plan
        fields = ["id", "code", "name", "description", "versions"]

    def get_versions(self, plan) -> list[dict]:
        return [
            {
                "id": v.pk,
                "number": v.number,
                "status": v.status,
                "effective_from": v.effective_from,
                "effective_to": v.effective_to,
            }
            for v in plan.versions.all()
        ]


class TargetOverrideSerializer(serializers.ModelSerializer):
    class Meta:
        model = TargetOverride
        fields = [
            "id",
            "period",
            "metric",
            "team",
            "agent",
            "threshold",
            "target",
            "excellence",
            "note",
        ]
        validators: list = []  # checked by services.target_override_set


class TargetProposalRequestSerializer(serializers.Serializer):
    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.all())
    metric = serializers.ChoiceField(choices=METRIC_CHOICES)
    end = serializers.DateField(
        help_text="The day after the history window (e.g. the 1st of the month)."
    )
    weeks = serializers.IntegerField(min_value=12, max_value=24, default=12)
    accept_for_period = serializers.PrimaryKeyRelatedField(
        queryset=Period.objects.all(),
        required=False,
        allow_null=True,
        help_text="Save the proposal as the team's targets for this period.",
    )


class AdjustmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Adjustment
        fields = ["id", "period", "agent", "amount", "corrects", "reason", "created_at"]
        read_only_fields = ["created_at"]
        validators: list = []  # checked by services.adjustment_create
