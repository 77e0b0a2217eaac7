from __future__ import annotations

from rest_framework import serializers

from calls.metrics import CATALOGUE, METRIC_CHOICES
from incentives.models import (
    ActionItem,
    Adjustment,
    Agent,
    AgreedTarget,
    Channel,
    Group,
    Level,
    Period,
    Plan,
    PlanAward,
    PlanGate,
    PlanMetric,
    PlanTier,
    PlanVersion,
    Region,
    Review,
    RootCause,
    Run,
    RunChunk,
    SharedSkill,
    SkillMark,
    Statement,
    StatementAdjustment,
    StatementGate,
    StatementLine,
    TargetOverride,
    Team,
)
from incentives.presets import AwardSpec
from incentives.validation import GateSpec, MetricSpec, TierSpec, VersionSpec

# --- statements and runs -------------------------------------------------------------------------


class StatementLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = StatementLine
        fields = [
            "metric", "scope", "measure", "value", "numerator", "denominator", "direction",
            "target_source", "threshold", "threshold_payout", "target", "excellence",
            "excellence_payout", "weight", "effective_weight", "score", "points", "no_data",
        ]  # fmt: skip


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
            "id", "period", "run_version", "employee_id", "agent_name", "team", "plan", "plan_version",
            "target_bonus", "currency", "weighted_score", "score_cap", "tier_from", "tier_rate", "kicker",
            "payout_factor", "payout_cap", "capped", "adjustments", "amount", "lines", "gates_hit",
            "adjustment_lines", "facts_fingerprint", "code_version",
        ]  # fmt: skip


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
            "id", "period", "number", "status", "error", "code_version", "created_at", "started_at",
            "finished_at", "chunks_done", "chunks",
        ]  # fmt: skip

    def get_chunks_done(self, run: Run) -> int:
        return sum(1 for chunk in run.chunks.all() if chunk.status == RunChunk.Status.DONE)


class PeriodSerializer(serializers.ModelSerializer):
    approved_run = serializers.IntegerField(
        source="approved_run.number", allow_null=True, read_only=True
    )
    # Approved once and reopened by HR since: its data may have changed since approval; approved_run is
    # the run approved until then, which agents still see.
    reopened = serializers.BooleanField(read_only=True)

    class Meta:
        model = Period
        fields = ["id", "year", "month", "status", "approved_run", "approved_at", "reopened"]


# --- organisation --------------------------------------------------------------------------------


class RegionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Region
        fields = ["id", "code", "name"]


class TeamSerializer(serializers.ModelSerializer):
    class Meta:
        model = Team
        fields = ["id", "code", "name", "region", "leads", "monthly_budget"]


class GroupSerializer(serializers.ModelSerializer):
    class Meta:
        model = Group
        fields = ["id", "team", "code", "name"]


class AgentSerializer(serializers.ModelSerializer):
    team = serializers.SerializerMethodField()
    group = serializers.SerializerMethodField()

    class Meta:
        model = Agent
        fields = [
            "id", "employee_id", "name", "level", "channel", "base_pay", "hire_date", "leave_date", "user",
            "team", "group",
        ]  # fmt: skip

    def _placement(self, agent):
        """Today's placement: prefetched by the list as ``today``, looked up for a single agent."""
        from incentives.selectors import placements_on, today

        current = getattr(agent, "today", None)
        if current is None:
            current = list(placements_on(today()).filter(agent=agent))
        return current[0] if current else None

    def get_team(self, agent) -> int | None:
        placement = self._placement(agent)
        return placement.team_id if placement else None

    def get_group(self, agent) -> int | None:
        placement = self._placement(agent)
        return placement.group_id if placement else None


class AgentCreateSerializer(serializers.ModelSerializer):
    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.all())
    group = serializers.PrimaryKeyRelatedField(
        queryset=Group.objects.all(), required=False, allow_null=True
    )
    placed_from = serializers.DateField()

    class Meta:
        model = Agent
        fields = [
            "employee_id", "name", "level", "channel", "base_pay", "hire_date", "user", "team", "group",
            "placed_from",
        ]  # fmt: skip


class MoveSerializer(serializers.Serializer):
    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.all())
    group = serializers.PrimaryKeyRelatedField(
        queryset=Group.objects.all(), required=False, allow_null=True
    )
    valid_from = serializers.DateField()


# --- the metric catalogue ------------------------------------------------------------------------


def catalogue_data() -> list[dict]:
    return [
        {
            "code": d.code, "name_en": d.name_en, "name_zh": d.name_zh, "unit": d.unit,
            "direction": d.direction, "facts": list(d.facts), "minimum": d.minimum, "maximum": d.maximum,
            "definition": d.definition_en,
            "params": [
                {"code": p.code, "name_en": p.name_en, "name_zh": p.name_zh, "default": p.default,
                 "minimum": p.minimum, "maximum": p.maximum, "unit": p.unit, "kind": p.kind}
                for p in d.params
            ],
            "improvement_baselines": ["previous", "trailing3"],
        }
        for d in CATALOGUE
    ]  # fmt: skip


# --- plans ---------------------------------------------------------------------------------------


class PlanMetricSerializer(serializers.ModelSerializer):
    class Meta:
        model = PlanMetric
        fields = [
            "metric", "weight", "scope", "measure", "baseline", "params", "threshold", "threshold_payout",
            "target", "excellence", "excellence_payout", "no_data",
        ]  # fmt: skip
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
            "id", "plan", "number", "status", "locked", "effective_from", "effective_to",
            "target_bonus_kind", "target_bonus", "target_bonus_percent", "currency", "payout_cap_kind",
            "payout_cap", "teams", "groups", "levels", "channels", "note", "metrics", "tiers", "gates",
            "awards",
        ]  # fmt: skip
        read_only_fields = ["number", "status"]

    def to_spec(self) -> VersionSpec:
        d = self.validated_data
        return VersionSpec(
            effective_from=d["effective_from"], effective_to=d.get("effective_to"),
            target_bonus_kind=d.get("target_bonus_kind", "fixed"), target_bonus=d.get("target_bonus"),
            target_bonus_percent=d.get("target_bonus_percent"),
            payout_cap_kind=d.get("payout_cap_kind", "percent"), payout_cap=d.get("payout_cap"),
            metrics=[MetricSpec(**m) for m in d["metrics"]],
            tiers=[TierSpec(**t) for t in d["tiers"]],
            gates=[GateSpec(**g) for g in d.get("gates", [])],
        )  # fmt: skip

    def scope_kwargs(self) -> dict:
        d = self.validated_data
        return {
            "teams": d.get("teams", []), "groups": d.get("groups", []), "levels": d.get("levels", []),
            "channels": d.get("channels", []),
            "awards": [AwardSpec(a["kind"], a.get("count", 1), a.get("note", "")) for a in d.get("awards", [])],
        }  # fmt: skip


class PlanSerializer(serializers.ModelSerializer):
    versions = serializers.SerializerMethodField()

    class Meta:
        model = Plan
        fields = ["id", "code", "name", "description", "versions"]

    def get_versions(self, plan) -> list[dict]:
        return [
            {"id": v.pk, "number": v.number, "status": v.status, "effective_from": v.effective_from,
             "effective_to": v.effective_to}
            for v in plan.versions.all()
        ]  # fmt: skip


# --- targets -------------------------------------------------------------------------------------


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
        queryset=Period.objects.all(), required=False, allow_null=True,
        help_text="Save the proposal as the team's targets for this period.",
    )  # fmt: skip


class AdjustmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Adjustment
        fields = ["id", "period", "agent", "amount", "corrects", "reason", "created_at"]
        read_only_fields = ["created_at"]
        validators: list = []  # checked by services.adjustment_create


# --- the performance interview (三阶谈话法) ----------------------------------------------------------


class RootCauseSerializer(serializers.ModelSerializer):
    """Review stage: a cause of a swing; also the body of ``POST reviews/<id>/root-causes/``."""

    class Meta:
        model = RootCause
        fields = ["id", "metric", "category", "note"]


class ReviewActionItemSerializer(serializers.ModelSerializer):
    """Consensus stage: one action of the improvement plan. The same shape nested in its review, in
    the list of actions due and as the body of ``POST reviews/<id>/actions/`` (one schema component,
    so ``kind`` is one enum)."""

    period = serializers.CharField(source="review.period.__str__", read_only=True)
    employee_id = serializers.CharField(source="review.agent.employee_id", read_only=True)
    agent_name = serializers.CharField(source="review.agent.name", read_only=True)
    owner_name = serializers.SerializerMethodField()

    class Meta:
        model = ActionItem
        fields = [
            "id", "review", "period", "employee_id", "agent_name", "what", "owner", "owner_name", "due",
            "kind", "metric", "done_at",
        ]  # fmt: skip
        read_only_fields = ["review", "done_at"]

    def get_owner_name(self, item: ActionItem) -> str:
        return item.owner.get_full_name() or item.owner.get_username()


class SkillMarkSerializer(serializers.ModelSerializer):
    """Consensus stage: one entry of the strengths / weaknesses map."""

    class Meta:
        model = SkillMark
        fields = ["id", "skill", "side", "note"]


class AgreedTargetSerializer(serializers.ModelSerializer):
    """Forward stage: next month's ladder for one metric, as proposed and as agreed. As the body of
    ``POST reviews/<id>/targets/`` it agrees one metric; ``excellence`` must be sent (null: none,
    the curve stays flat beyond the target), so that forgetting it never drops the step silently."""

    class Meta:
        model = AgreedTarget
        fields = [
            "id", "metric", "proposed_threshold", "proposed_target", "proposed_excellence", "threshold",
            "target", "excellence",
        ]  # fmt: skip
        read_only_fields = ["proposed_threshold", "proposed_target", "proposed_excellence"]
        extra_kwargs = {"excellence": {"required": True, "allow_null": True}}
        validators: list = []  # checked by services.target_agree


class SharedSkillSerializer(serializers.ModelSerializer):
    """Forward stage: a skill worth sharing (the agent joins the internal expert list for it)."""

    class Meta:
        model = SharedSkill
        fields = ["id", "agent", "skill", "note"]
        read_only_fields = ["agent"]


class ReviewSerializer(serializers.ModelSerializer):
    """A review in a list: who, which month, the stage, why the data flags the agent, and when each
    stage was signed off by the lead and acknowledged by the agent."""

    period_label = serializers.CharField(source="period.__str__", read_only=True)
    employee_id = serializers.CharField(source="agent.employee_id", read_only=True)
    agent_name = serializers.CharField(source="agent.name", read_only=True)
    team_code = serializers.CharField(source="team.code", read_only=True)
    flags = serializers.ListField(
        child=serializers.CharField(), read_only=True,
        help_text="Why the data flags the agent: below_threshold, gate, drop.",
    )  # fmt: skip

    class Meta:
        model = Review
        fields = [
            "id", "period", "period_label", "agent", "employee_id", "agent_name", "team", "team_code",
            "statement", "stage", "flags", "score_change", "review_signed_at", "review_acknowledged_at",
            "consensus_signed_at", "consensus_acknowledged_at", "forward_signed_at",
            "forward_acknowledged_at", "signed_by", "target_period", "reopened_at", "reopen_reason",
            "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class ReviewDetailSerializer(ReviewSerializer):
    """A review with the content of its three stages."""

    root_causes = RootCauseSerializer(many=True, read_only=True)
    actions = ReviewActionItemSerializer(many=True, read_only=True)
    skills = SkillMarkSerializer(many=True, read_only=True)
    agreed_targets = AgreedTargetSerializer(many=True, read_only=True)
    shared_skills = SharedSkillSerializer(many=True, read_only=True)

    class Meta(ReviewSerializer.Meta):
        fields = [
            *ReviewSerializer.Meta.fields, "root_causes", "actions", "skills", "agreed_targets",
            "shared_skills",
        ]  # fmt: skip
        read_only_fields = fields


class ReviewReopenSerializer(serializers.Serializer):
    stage = serializers.ChoiceField(
        choices=Review.Stage.choices,
        help_text="The stage to reopen at (review, consensus or forward); its sign-offs and the later "
        "ones are cleared.",
    )
    # Blank is let through so that the service says why a reason is needed, in its own words.
    reason = serializers.CharField(max_length=300, allow_blank=True)


class ActionsDueQuerySerializer(serializers.Serializer):
    within_days = serializers.IntegerField(
        min_value=0, max_value=366, default=7,
        help_text="Open actions due within this many days, and all overdue ones.",
    )  # fmt: skip


class ReviewProgressQuerySerializer(serializers.Serializer):
    period = serializers.PrimaryKeyRelatedField(
        queryset=Period.objects.all(), help_text="The month whose reviews are counted."
    )


class ReviewProgressTeamSerializer(serializers.Serializer):
    team = serializers.IntegerField(source="team.pk")
    team_code = serializers.CharField(source="team.code")
    team_name = serializers.CharField(source="team.name")
    stages = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="How many reviews are in each stage: review, consensus, forward, done.",
    )
    overdue = serializers.IntegerField(help_text="Open action items past their due date.")


class ReviewProgressSerializer(serializers.Serializer):
    period = serializers.IntegerField(source="period.pk")
    period_label = serializers.CharField(source="period.__str__")
    teams = ReviewProgressTeamSerializer(many=True)
