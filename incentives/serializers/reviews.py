"""Serializers of the performance interview: reviews and what each stage records, the queries of
what is due and of the progress."""

from __future__ import annotations

from rest_framework import serializers

from incentives.models import (
    ActionItem,
    AgreedTarget,
    Period,
    Review,
    RootCause,
    SharedSkill,
    SkillMark,
)


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
            "id",
            "review",
            "period",
            "employee_id",
            "agent_name",
            "what",
            "owner",
            "owner_name",
            "due",
            "kind",
            "metric",
            "done_at",
        ]
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
            "id",
            "metric",
            "proposed_threshold",
            "proposed_target",
            "proposed_excellence",
            "threshold",
            "target",
            "excellence",
        ]
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
        child=serializers.CharField(),
        read_only=True,
        help_text="Why the data flags the agent: below_threshold, gate, drop.",
    )

    class Meta:
        model = Review
        fields = [
            "id",
            "period",
            "period_label",
            "agent",
            "employee_id",
            "agent_name",
            "team",
            "team_code",
            "statement",
            "stage",
            "flags",
            "score_change",
            "review_signed_at",
            "review_acknowledged_at",
            "consensus_signed_at",
            "consensus_acknowledged_at",
            "forward_signed_at",
            "forward_acknowledged_at",
            "signed_by",
            "target_period",
            "reopened_at",
            "reopen_reason",
            "created_at",
        ]
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
            *ReviewSerializer.Meta.fields,
            "root_causes",
            "actions",
            "skills",
            "agreed_targets",
            "shared_skills",
        ]
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
        min_value=0,
        max_value=366,
        default=7,
        help_text="Open actions due within this many days, and all overdue ones.",
    )


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
