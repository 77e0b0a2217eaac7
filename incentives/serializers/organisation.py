"""Serializers of the organisation: regions, teams, groups, agents and an agent's move."""

from __future__ import annotations

from rest_framework import serializers

from incentives.models import (
    Agent,
    Group,
    Region,
    Team,
)


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
            "id",
            "employee_id",
            "name",
            "level",
            "channel",
            "base_pay",
            "hire_date",
            "leave_date",
            "user",
            "team",
            "group",
        ]

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
            "employee_id",
            "name",
            "level",
            "channel",
            "base_pay",
            "hire_date",
            "user",
            "team",
            "group",
            "placed_from",
        ]


class MoveSerializer(serializers.Serializer):
    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.all())
    group = serializers.PrimaryKeyRelatedField(
        queryset=Group.objects.all(), required=False, allow_null=True
    )
    valid_from = serializers.DateField()
