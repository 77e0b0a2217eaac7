"""The API of the organisation: regions, teams, groups and agents."""

from django.db.models import Prefetch
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from calls.roles import AGENT, HR, LEAD
from incentives import selectors, services
from incentives.models import (
    Agent,
    Group,
    Region,
    Team,
)
from incentives.serializers import (
    AgentCreateSerializer,
    AgentSerializer,
    GroupSerializer,
    MoveSerializer,
    RegionSerializer,
    TeamSerializer,
)


class RegionViewSet(viewsets.ModelViewSet):
    """Regions (HR). A region some team belongs to is not deleted: 409 naming the teams."""

    allowed_roles = {HR}
    serializer_class = RegionSerializer
    queryset = Region.objects.all()
    filterset_fields = ["code"]

    def perform_destroy(self, instance):
        services.region_delete(region=instance)


class TeamViewSet(viewsets.ModelViewSet):
    """Teams: HR writes; a lead reads the teams they lead."""

    allowed_roles = {HR, LEAD}
    write_roles = {HR}
    serializer_class = TeamSerializer
    filterset_fields = ["region", "code"]

    def get_queryset(self):
        return selectors.teams_visible_to(self.request.user).prefetch_related("leads")

    def perform_destroy(self, instance):
        services.team_delete(team=instance)


class GroupViewSet(viewsets.ModelViewSet):
    allowed_roles = {HR, LEAD}
    write_roles = {HR}
    serializer_class = GroupSerializer
    filterset_fields = ["team"]

    def get_queryset(self):
        return Group.objects.filter(team__in=selectors.teams_visible_to(self.request.user))

    def perform_destroy(self, instance):
        services.group_delete(group=instance)


@extend_schema_field(OpenApiTypes.INT)
class TeamIdFilter(filters.ModelChoiceFilter):
    """A team's id, checked as one: an unknown or absurd number is a 400, not a database error."""


class AgentFilter(filters.FilterSet):
    team = TeamIdFilter(
        queryset=Team.objects.all(), method="filter_team", label="team (placed there today)"
    )

    class Meta:
        model = Agent
        fields = ["level", "channel", "employee_id"]

    def filter_team(self, queryset, name, value):
        return queryset.filter(
            pk__in=selectors.agents_in_teams_on([value.pk], selectors.today()).values("pk")
        )


class AgentViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Agents: HR writes; a lead reads the agents of their teams; an agent reads themselves. A move to
    another team or group is dated (``POST …/move/``); history is never edited."""

    allowed_roles = {HR, LEAD, AGENT}
    write_roles = {HR}
    serializer_class = AgentSerializer
    filterset_class = AgentFilter

    def get_queryset(self):
        # Today's placement, fetched with the page of agents (one query, whatever the page size).
        today = Prefetch(
            "placements", queryset=selectors.placements_on(selectors.today()), to_attr="today"
        )
        return (
            selectors.agents_visible_to(self.request.user)
            .prefetch_related(today)
            .order_by("employee_id")
        )

    @extend_schema(request=AgentCreateSerializer, responses={201: AgentSerializer})
    def create(self, request):
        incoming = AgentCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        agent = services.agent_create(**incoming.validated_data)
        return Response(self.get_serializer(agent).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=MoveSerializer, responses={200: AgentSerializer})
    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        agent = self.get_object()
        incoming = MoveSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        services.agent_place(agent=agent, **incoming.validated_data)
        return Response(
            self.get_serializer(self.get_queryset().get(pk=agent.pk)).data
        )  # the new placement
