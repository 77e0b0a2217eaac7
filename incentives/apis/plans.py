"""The API of plans: the metric catalogue, plans and their versions, target overrides and proposals,
adjustments."""

from django.utils.dateparse import parse_date
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from calls.roles import AGENT, HR, LEAD
from incentives import selectors, services
from incentives.explain import explain, worked_examples
from incentives.models import (
    Adjustment,
    Plan,
    PlanVersion,
    TargetOverride,
    Team,
)
from incentives.serializers import (
    AdjustmentSerializer,
    MetricDefinitionSerializer,
    NewVersionRequestSerializer,
    PlanCopyRequestSerializer,
    PlanExplanationSerializer,
    PlanProblemsQuerySerializer,
    PlanProblemsSerializer,
    PlanSerializer,
    PlanVersionSerializer,
    TargetOverrideSerializer,
    TargetProposalRequestSerializer,
    catalogue_data,
)


class MetricCatalogueApi(APIView):
    """Every KPI the product computes: code, names, unit, direction, facts, parameters and defaults."""

    allowed_roles = {HR, LEAD, AGENT}

    @extend_schema(responses={200: MetricDefinitionSerializer(many=True)})
    def get(self, request):
        return Response(catalogue_data())


class PlanViewSet(viewsets.ModelViewSet):
    allowed_roles = {HR}
    serializer_class = PlanSerializer
    queryset = Plan.objects.prefetch_related("versions")
    filterset_fields = ["code"]

    def perform_destroy(self, instance):
        services.plan_delete(plan=instance)


class PlanVersionFilter(filters.FilterSet):
    plan = filters.CharFilter(field_name="plan__code")
    team = filters.ModelChoiceFilter(field_name="teams", queryset=Team.objects.all())
    active_on = filters.DateFilter(method="filter_active_on")

    class Meta:
        model = PlanVersion
        fields = ["status"]

    def filter_active_on(self, queryset, name, value):
        return queryset.filter(pk__in=[v.pk for v in selectors.versions_in_force(value)])


class PlanVersionViewSet(viewsets.ModelViewSet):
    """Plan versions with their metrics, tiers, gates and awards. The rules, and the services that
    write, are the admin's too; a version used by a computation answers 409 to a change (make a new
    version, ``…/new-version/``), an active or used one 409 to a delete."""

    allowed_roles = {HR}
    serializer_class = PlanVersionSerializer
    filterset_class = PlanVersionFilter
    queryset = PlanVersion.objects.select_related("plan").prefetch_related(
        "metrics", "tiers", "gates", "awards", "teams", "groups"
    )

    def create(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        version = services.plan_version_create(
            plan=serializer.validated_data["plan"],
            spec=serializer.to_spec(),
            currency=serializer.validated_data.get("currency", "CNY"),
            note=serializer.validated_data.get("note", ""),
            **serializer.scope_kwargs(),
        )
        return Response(self.get_serializer(version).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: PlanVersionSerializer, 409: None})
    def update(self, request, pk=None, partial=False):
        version = self.get_object()
        if version.locked:  # before the body is read: whatever it holds, the answer is the same
            raise services.PlanLocked(services.plans.locked_message(version))
        serializer = self.get_serializer(version, data=request.data)
        serializer.is_valid(raise_exception=True)
        version = services.plan_version_update(
            version=version,
            spec=serializer.to_spec(),
            **serializer.scope_kwargs(),
            currency=serializer.validated_data.get("currency", version.currency),
            note=serializer.validated_data.get("note", ""),
        )
        return Response(self.get_serializer(version).data)

    @extend_schema(exclude=True)  # not offered: the schema does not list it
    def partial_update(self, request, pk=None):
        return Response(
            {"detail": "Send the whole version (PUT): its rules are checked together."},
            status=status.HTTP_405_METHOD_NOT_ALLOWED,
        )

    def perform_destroy(self, instance):
        services.plan_version_delete(version=instance)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def activate(self, request, pk=None):
        version = services.plan_version_activate(version=self.get_object())
        return Response(self.get_serializer(version).data)

    @extend_schema(request=NewVersionRequestSerializer, responses={201: PlanVersionSerializer})
    @action(detail=True, methods=["post"], url_path="new-version")
    def new_version(self, request, pk=None):
        effective_from = request.data.get("effective_from")
        if not effective_from:
            raise ValidationError(
                {"effective_from": "The date the new version takes effect is required."}
            )
        try:
            day = parse_date(str(effective_from))
        except ValueError:  # well formed, but no such day (2026-02-30)
            day = None
        if day is None:
            raise ValidationError({"effective_from": "Not a date (YYYY-MM-DD)."})
        version = services.plan_version_new(
            version=self.get_object(), effective_from=day, note=request.data.get("note", "")
        )
        return Response(self.get_serializer(version).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=PlanCopyRequestSerializer, responses={201: PlanSerializer})
    @action(detail=True, methods=["post"])
    def copy(self, request, pk=None):
        code, name = request.data.get("code"), request.data.get("name")
        if not code or not name:
            raise ValidationError({"detail": "A code and a name for the new plan are required."})
        plan = services.plan_copy(version=self.get_object(), code=code, name=name)
        return Response(PlanSerializer(plan).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: PlanExplanationSerializer})
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

    @extend_schema(
        parameters=[PlanProblemsQuerySerializer], responses={200: PlanProblemsSerializer}
    )
    def get(self, request):
        asked = PlanProblemsQuerySerializer(data=request.query_params)
        asked.is_valid(raise_exception=True)
        day = asked.validated_data.get("day") or selectors.today()
        return Response(
            {
                "day": day,
                "problems": [
                    {
                        "employee_id": p.agent.employee_id,
                        "agent": p.agent.name,
                        "plan_versions": [v.pk for v in p.versions],
                        "message": p.message,
                    }
                    for p in selectors.plan_problems(day)
                ],
            }
        )


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
        override = services.target_override_set(
            period=d["period"],
            metric_code=d["metric"],
            threshold=d["threshold"],
            target=d["target"],
            excellence=d.get("excellence"),
            team=d.get("team"),
            agent=d.get("agent"),
            note=d.get("note", ""),
            user=request.user,
        )
        return Response(self.get_serializer(override).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        services.target_override_delete(override=instance)


class TargetProposalApi(APIView):
    """Propose a team's threshold / target / excellence for a metric from 12-24 weeks of history;
    with ``accept_for_period`` the proposal is saved as the team's targets for that period."""

    allowed_roles = {HR}

    @extend_schema(request=TargetProposalRequestSerializer, responses={200: dict})
    def post(self, request):
        incoming = TargetProposalRequestSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        d = incoming.validated_data
        proposal = services.targets_propose(
            team=d["team"], metric_code=d["metric"], end=d["end"], weeks=d["weeks"]
        )
        saved = None
        if d.get("accept_for_period"):
            saved = services.target_override_set(
                period=d["accept_for_period"],
                metric_code=d["metric"],
                team=d["team"],
                threshold=proposal.threshold,
                target=proposal.target,
                excellence=proposal.excellence,
                note=f"proposed from {proposal.start} to {proposal.end}: {proposal.method}",
                user=request.user,
            )
        return Response(
            {
                "team": proposal.team.pk,
                "metric": proposal.metric,
                "start": proposal.start,
                "end": proposal.end,
                "agents": proposal.agents,
                "threshold": proposal.threshold,
                "target": proposal.target,
                "excellence": proposal.excellence,
                "method": proposal.method,
                "saved_override": saved.pk if saved else None,
            }
        )


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
        adjustment = services.adjustment_create(
            period=d["period"],
            agent=d["agent"],
            amount=d["amount"],
            corrects=d["corrects"],
            reason=d["reason"],
            created_by=request.user,
        )
        return Response(self.get_serializer(adjustment).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        services.adjustment_delete(adjustment=instance)
