"""The API of the incentives floor. Every view names the roles it admits (``allowed_roles``, and
``write_roles`` for writes); objects are scoped by ``incentives.selectors``; writes go through
``incentives.services`` with the same validation as the admin."""

from django.db import IntegrityError
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.utils.dateparse import parse_date
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import generics, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from calls.roles import AGENT, HR, LEAD
from incentives import selectors, services
from incentives.explain import explain, worked_examples
from incentives.models import (
    Adjustment,
    Agent,
    Group,
    Period,
    Plan,
    PlanVersion,
    Region,
    Run,
    TargetOverride,
)
from incentives.serializers import (
    AdjustmentSerializer,
    AgentCreateSerializer,
    AgentSerializer,
    GroupSerializer,
    MoveSerializer,
    PeriodSerializer,
    PlanSerializer,
    PlanVersionSerializer,
    RegionSerializer,
    RunSerializer,
    StatementSerializer,
    TargetOverrideSerializer,
    TargetProposalRequestSerializer,
    TeamSerializer,
    catalogue_data,
)


def _problems_response(problems) -> ValidationError:
    return ValidationError(
        {
            "problems": [
                {
                    "section": p.section,
                    "index": p.index,
                    "field": p.field,
                    "message": p.message,
                    "text": str(p),
                }
                for p in problems
            ]
        }
    )


# --- statements and runs -------------------------------------------------------------------------


class StatementListApi(generics.ListAPIView):
    """Statements the caller may see: HR all, a lead their teams' approved ones, an agent their own."""

    allowed_roles = {HR, LEAD, AGENT}
    serializer_class = StatementSerializer

    def get_queryset(self):
        return selectors.statements_visible_to(self.request.user).order_by(
            "-run__period__year", "-run__period__month", "agent__employee_id"
        )


class StatementDetailApi(generics.RetrieveAPIView):
    allowed_roles = {HR, LEAD, AGENT}
    serializer_class = StatementSerializer

    def get_object(self):
        return selectors.statement_get_for_user(self.request.user, self.kwargs["pk"])


class PeriodListApi(generics.ListAPIView):
    allowed_roles = {HR}
    serializer_class = PeriodSerializer
    queryset = Period.objects.select_related("approved_run").order_by("-year", "-month")


class RunStartApi(APIView):
    """Start a computation run of a period (HR). 409 if one is already waiting or running."""

    allowed_roles = {HR}

    @extend_schema(request=None, responses={201: RunSerializer, 409: None})
    def post(self, request, pk: int):
        period = get_object_or_404(Period, pk=pk)
        try:
            run = services.run_start(period=period, requested_by=request.user)
        except services.RunAlreadyActive as exc:
            return Response(
                {"detail": str(exc), "run": exc.run.pk}, status=status.HTTP_409_CONFLICT
            )
        except services.PeriodStateError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return Response(RunSerializer(run).data, status=status.HTTP_201_CREATED)


class RunDetailApi(generics.RetrieveAPIView):
    """A run and its progress, chunk by chunk (HR)."""

    allowed_roles = {HR}
    serializer_class = RunSerializer
    queryset = Run.objects.select_related("period").prefetch_related("chunks__team")


# --- organisation --------------------------------------------------------------------------------


class RegionViewSet(viewsets.ModelViewSet):
    allowed_roles = {HR}
    serializer_class = RegionSerializer
    queryset = Region.objects.all()
    filterset_fields = ["code"]


class TeamViewSet(viewsets.ModelViewSet):
    """Teams: HR writes; a lead reads the teams they lead."""

    allowed_roles = {HR, LEAD}
    write_roles = {HR}
    serializer_class = TeamSerializer
    filterset_fields = ["region", "code"]

    def get_queryset(self):
        return selectors.teams_visible_to(self.request.user).prefetch_related("leads")


class GroupViewSet(viewsets.ModelViewSet):
    allowed_roles = {HR, LEAD}
    write_roles = {HR}
    serializer_class = GroupSerializer
    filterset_fields = ["team"]

    def get_queryset(self):
        return Group.objects.filter(team__in=selectors.teams_visible_to(self.request.user))


class AgentFilter(filters.FilterSet):
    team = filters.NumberFilter(method="filter_team", label="team (placed there today)")

    class Meta:
        model = Agent
        fields = ["level", "channel", "employee_id"]

    def filter_team(self, queryset, name, value):
        return queryset.filter(
            pk__in=selectors.agents_in_teams_on([value], selectors.today()).values("pk")
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
        try:
            agent = services.agent_create(**incoming.validated_data)
        except services.OrganisationError as exc:
            raise ValidationError({"detail": str(exc)}) from exc
        return Response(self.get_serializer(agent).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=MoveSerializer, responses={200: AgentSerializer})
    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        agent = self.get_object()
        incoming = MoveSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        try:
            services.agent_place(agent=agent, **incoming.validated_data)
        except services.OrganisationError as exc:
            raise ValidationError({"detail": str(exc)}) from exc
        return Response(
            self.get_serializer(self.get_queryset().get(pk=agent.pk)).data
        )  # the new placement


# --- metric catalogue ----------------------------------------------------------------------------


class MetricCatalogueApi(APIView):
    """Every KPI the product computes: code, names, unit, direction, facts, parameters and defaults."""

    allowed_roles = {HR, LEAD, AGENT}

    @extend_schema(responses={200: dict})
    def get(self, request):
        return Response(catalogue_data())


# --- plans ---------------------------------------------------------------------------------------


class PlanViewSet(viewsets.ModelViewSet):
    allowed_roles = {HR}
    serializer_class = PlanSerializer
    queryset = Plan.objects.prefetch_related("versions")
    filterset_fields = ["code"]

    def perform_destroy(self, instance):
        if Plan.objects.filter(pk=instance.pk, versions__statements__isnull=False).exists():
            raise ValidationError({"detail": f"{instance} has paid agents; it cannot be deleted."})
        instance.delete()


class PlanVersionFilter(filters.FilterSet):
    plan = filters.CharFilter(field_name="plan__code")
    team = filters.NumberFilter(field_name="teams")
    active_on = filters.DateFilter(method="filter_active_on")

    class Meta:
        model = PlanVersion
        fields = ["status"]

    def filter_active_on(self, queryset, name, value):
        return queryset.filter(pk__in=[v.pk for v in selectors.versions_in_force(value)])


class PlanVersionViewSet(viewsets.ModelViewSet):
    """Plan versions with their metrics, tiers, gates and awards. The rules are the admin's; a version
    used by a computation answers 409 to a change: make a new version (``…/new-version/``)."""

    allowed_roles = {HR}
    serializer_class = PlanVersionSerializer
    filterset_class = PlanVersionFilter
    queryset = PlanVersion.objects.select_related("plan").prefetch_related(
        "metrics", "tiers", "gates", "awards", "teams", "groups"
    )

    def create(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            version = services.plan_version_create(
                plan=serializer.validated_data["plan"], spec=serializer.to_spec(),
                currency=serializer.validated_data.get("currency", "CNY"),
                note=serializer.validated_data.get("note", ""), **serializer.scope_kwargs(),
            )  # fmt: skip
        except services.PlanInvalid as exc:
            raise _problems_response(exc.problems) from exc
        return Response(self.get_serializer(version).data, status=status.HTTP_201_CREATED)

    def update(self, request, pk=None, partial=False):
        version = self.get_object()
        if version.locked:
            return Response(
                {"detail": services.plans._locked_message(version)}, status=status.HTTP_409_CONFLICT
            )
        serializer = self.get_serializer(version, data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            version = services.plan_version_update(
                version=version, spec=serializer.to_spec(), **serializer.scope_kwargs()
            )
        except services.PlanLocked as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        except services.PlanInvalid as exc:
            raise _problems_response(exc.problems) from exc
        return Response(self.get_serializer(version).data)

    def partial_update(self, request, pk=None):
        return Response(
            {"detail": "Send the whole version (PUT): its rules are checked together."},
            status=status.HTTP_405_METHOD_NOT_ALLOWED,
        )

    def destroy(self, request, pk=None):
        version = self.get_object()
        if version.locked or version.status == PlanVersion.Status.ACTIVE:
            return Response(
                {
                    "detail": f"{version} is active or has paid agents; end it with a new version instead."
                },
                status=status.HTTP_409_CONFLICT,
            )
        version.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def activate(self, request, pk=None):
        try:
            version = services.plan_version_activate(version=self.get_object())
        except services.PlanInvalid as exc:
            raise _problems_response(exc.problems) from exc
        return Response(self.get_serializer(version).data)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"], url_path="new-version")
    def new_version(self, request, pk=None):
        effective_from = request.data.get("effective_from")
        if not effective_from:
            raise ValidationError(
                {"effective_from": "The date the new version takes effect is required."}
            )
        day = parse_date(str(effective_from))
        if day is None:
            raise ValidationError({"effective_from": "Not a date (YYYY-MM-DD)."})
        try:
            version = services.plan_version_new(
                version=self.get_object(), effective_from=day, note=request.data.get("note", "")
            )
        except services.PlanInvalid as exc:
            raise _problems_response(exc.problems) from exc
        return Response(self.get_serializer(version).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def copy(self, request, pk=None):
        code, name = request.data.get("code"), request.data.get("name")
        if not code or not name:
            raise ValidationError({"detail": "A code and a name for the new plan are required."})
        try:
            plan = services.plan_copy(version=self.get_object(), code=code, name=name)
        except IntegrityError as exc:
            raise ValidationError(
                {"code": f"A plan with the code {code!r} exists already."}
            ) from exc
        return Response(PlanSerializer(plan).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: dict})
    @action(detail=True, methods=["get"])
    def explain(self, request, pk=None):
        version = self.get_object()
        spec = services.version_spec_from_db(version)
        return Response(
            {
                "words": explain(spec, version.currency),
                "examples": [
                    {"weighted_score": f"{s:f}", "payout": f"{amount:f}", "how": how}
                    for s, amount, how in worked_examples(spec, version.currency)
                ],
            }
        )


class PlanProblemsApi(APIView):
    """Agents with no plan or with two plans on a day (default: today) — for HR to fix, never guessed."""

    allowed_roles = {HR}

    @extend_schema(responses={200: dict})
    def get(self, request):
        day = parse_date(request.query_params.get("day", "")) or selectors.today()
        return Response(
            {
                "day": day,
                "problems": [
                    {"employee_id": p.agent.employee_id, "agent": p.agent.name,
                     "plan_versions": [v.pk for v in p.versions], "message": p.message}
                    for p in selectors.plan_problems(day)
                ],
            }
        )  # fmt: skip


# --- targets -------------------------------------------------------------------------------------


class TargetOverrideViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """A period's targets for a team or an agent, replacing the plan's for one metric."""

    allowed_roles = {HR}
    serializer_class = TargetOverrideSerializer
    queryset = TargetOverride.objects.select_related("period", "team", "agent")
    filterset_fields = ["period", "metric", "team", "agent"]

    def create(self, request):
        incoming = self.get_serializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        d = incoming.validated_data
        try:
            override = services.target_override_set(
                period=d["period"], metric_code=d["metric"], threshold=d["threshold"], target=d["target"],
                excellence=d.get("excellence"), team=d.get("team"), agent=d.get("agent"),
                note=d.get("note", ""), user=request.user,
            )  # fmt: skip
        except services.TargetInvalid as exc:
            raise ValidationError({"detail": str(exc)}) from exc
        return Response(self.get_serializer(override).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        if instance.period.status == Period.Status.CLOSED:
            raise ValidationError({"detail": f"{instance.period} is closed."})
        instance.delete()


class TargetProposalApi(APIView):
    """Propose a team's threshold / target / excellence for a metric from 12-24 weeks of history;
    with ``accept_for_period`` the proposal is saved as the team's targets for that period."""

    allowed_roles = {HR}

    @extend_schema(request=TargetProposalRequestSerializer, responses={200: dict})
    def post(self, request):
        incoming = TargetProposalRequestSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        d = incoming.validated_data
        try:
            proposal = services.targets_propose(
                team=d["team"], metric_code=d["metric"], end=d["end"], weeks=d["weeks"]
            )
            saved = None
            if d.get("accept_for_period"):
                saved = services.target_override_set(
                    period=d["accept_for_period"], metric_code=d["metric"], team=d["team"],
                    threshold=proposal.threshold, target=proposal.target, excellence=proposal.excellence,
                    note=f"proposed from {proposal.start} to {proposal.end}: {proposal.method}", user=request.user,
                )  # fmt: skip
        except services.TargetInvalid as exc:
            raise ValidationError({"detail": str(exc)}) from exc
        return Response(
            {
                "team": proposal.team.pk, "metric": proposal.metric, "start": proposal.start,
                "end": proposal.end, "agents": proposal.agents, "threshold": proposal.threshold,
                "target": proposal.target, "excellence": proposal.excellence, "method": proposal.method,
                "saved_override": saved.pk if saved else None,
            }
        )  # fmt: skip


# --- adjustments ---------------------------------------------------------------------------------


class AdjustmentViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Corrections of closed months, paid in an open one (HR). Written once; deleted while the month
    that pays them is open."""

    allowed_roles = {HR}
    serializer_class = AdjustmentSerializer
    queryset = Adjustment.objects.select_related("period", "agent", "corrects")
    filterset_fields = ["period", "agent", "corrects"]

    def create(self, request):
        incoming = self.get_serializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        d = incoming.validated_data
        try:
            adjustment = services.adjustment_create(
                period=d["period"], agent=d["agent"], amount=d["amount"], corrects=d["corrects"],
                reason=d["reason"], created_by=request.user,
            )  # fmt: skip
        except services.AdjustmentRefused as exc:
            raise ValidationError({"detail": str(exc)}) from exc
        return Response(self.get_serializer(adjustment).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        try:
            services.adjustment_delete(adjustment=instance)
        except services.AdjustmentRefused as exc:
            raise ValidationError({"detail": str(exc)}) from exc
