"""The API of the incentives floor. Every view names the roles it admits (``allowed_roles``, and
``write_roles`` for writes); objects are scoped by ``incentives.selectors``; writes go through
``incentives.services`` with the same validation as the admin. A service's refusal is answered by the
one exception handler (``calls.errors.api_exception_handler``): 400 or 409 with its message."""

from django.db import IntegrityError
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.utils.dateparse import parse_date
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import generics, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from calls.roles import AGENT, HR, LEAD
from incentives import selectors, services
from incentives.explain import explain, worked_examples
from incentives.models import (
    ActionItem,
    Adjustment,
    Agent,
    Group,
    Period,
    Plan,
    PlanVersion,
    Region,
    Review,
    Run,
    TargetOverride,
    Team,
)
from incentives.serializers import (
    ActionsDueQuerySerializer,
    AdjustmentSerializer,
    AgentCreateSerializer,
    AgentSerializer,
    AgreedTargetSerializer,
    GroupSerializer,
    MoveSerializer,
    PeriodSerializer,
    PlanSerializer,
    PlanVersionSerializer,
    RegionSerializer,
    ReviewActionItemSerializer,
    ReviewDetailSerializer,
    ReviewProgressQuerySerializer,
    ReviewProgressSerializer,
    ReviewReopenSerializer,
    ReviewSerializer,
    RootCauseSerializer,
    RunSerializer,
    SharedSkillSerializer,
    SkillMarkSerializer,
    StatementSerializer,
    TargetOverrideSerializer,
    TargetProposalRequestSerializer,
    TeamSerializer,
    catalogue_data,
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
        run = services.run_start(period=period, requested_by=request.user)
        return Response(RunSerializer(run).data, status=status.HTTP_201_CREATED)


class RunDetailApi(generics.RetrieveAPIView):
    """A run and its progress, chunk by chunk (HR)."""

    allowed_roles = {HR}
    serializer_class = RunSerializer
    queryset = Run.objects.select_related("period").prefetch_related("chunks__teams")


# --- organisation --------------------------------------------------------------------------------


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
            plan=serializer.validated_data["plan"], spec=serializer.to_spec(),
            currency=serializer.validated_data.get("currency", "CNY"),
            note=serializer.validated_data.get("note", ""), **serializer.scope_kwargs(),
        )  # fmt: skip
        return Response(self.get_serializer(version).data, status=status.HTTP_201_CREATED)

    def update(self, request, pk=None, partial=False):
        version = self.get_object()
        if version.locked:  # before the body is read: whatever it holds, the answer is the same
            raise services.PlanLocked(services.plans.locked_message(version))
        serializer = self.get_serializer(version, data=request.data)
        serializer.is_valid(raise_exception=True)
        version = services.plan_version_update(
            version=version, spec=serializer.to_spec(), **serializer.scope_kwargs(),
            currency=serializer.validated_data.get("currency", version.currency),
            note=serializer.validated_data.get("note", ""),
        )  # fmt: skip
        return Response(self.get_serializer(version).data)

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
        version = services.plan_version_new(
            version=self.get_object(), effective_from=day, note=request.data.get("note", "")
        )
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
        override = services.target_override_set(
            period=d["period"], metric_code=d["metric"], threshold=d["threshold"], target=d["target"],
            excellence=d.get("excellence"), team=d.get("team"), agent=d.get("agent"),
            note=d.get("note", ""), user=request.user,
        )  # fmt: skip
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
                period=d["accept_for_period"], metric_code=d["metric"], team=d["team"],
                threshold=proposal.threshold, target=proposal.target, excellence=proposal.excellence,
                note=f"proposed from {proposal.start} to {proposal.end}: {proposal.method}", user=request.user,
            )  # fmt: skip
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
        adjustment = services.adjustment_create(
            period=d["period"], agent=d["agent"], amount=d["amount"], corrects=d["corrects"],
            reason=d["reason"], created_by=request.user,
        )  # fmt: skip
        return Response(self.get_serializer(adjustment).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        services.adjustment_delete(adjustment=instance)


# --- the performance interview (三阶谈话法) ----------------------------------------------------------


class ReviewFilter(filters.FilterSet):
    class Meta:
        model = Review
        fields = ["period", "team", "stage", "agent"]


class ReviewViewSet(viewsets.ReadOnlyModelViewSet):
    """The three-stage interviews: HR reads every review, a lead their teams', an agent their own;
    anyone else's is a 404. The list comes newest month first and, within a month, in the lead's order
    (the agents the data flags first). Each step is a POST on the review: who may take it (the team's
    lead, the agent, HR) and when is decided by ``incentives.services.reviews``, whose refusal answers
    400 with its reason."""

    allowed_roles = {HR, LEAD, AGENT}
    filterset_class = ReviewFilter

    def get_queryset(self):
        reviews = selectors.reviews_visible_to(self.request.user)
        return self._with_stages(reviews) if self.action == "retrieve" else reviews

    @staticmethod
    def _with_stages(reviews):
        """What the three stages hold, fetched with the review (a fixed number of queries)."""
        return reviews.prefetch_related(
            "root_causes", Prefetch("actions", queryset=ActionItem.objects.select_related("owner")),
            "skills", "agreed_targets", "shared_skills",
        )  # fmt: skip

    def get_serializer_class(self):
        return ReviewSerializer if self.action == "list" else ReviewDetailSerializer

    def list(self, request):
        reviews = selectors.flagged_first(self.filter_queryset(self.get_queryset()))
        # A stable sort: the lead's order stays within each month.
        reviews.sort(key=lambda r: (-r.period.year, -r.period.month))
        page = self.paginate_queryset(reviews)
        return self.get_paginated_response(ReviewSerializer(page, many=True).data)

    def _detail(self, review: Review) -> Response:
        """The review as it is now, with everything the stages hold."""
        fresh = self._with_stages(self.get_queryset()).get(pk=review.pk)
        return Response(ReviewDetailSerializer(fresh).data)

    def _add(self, service, serializer_class, *, status_code=status.HTTP_201_CREATED) -> Response:
        # First the review: one the caller may not see is a 404, whatever the body says.
        review = self.get_object()
        incoming = serializer_class(data=self.request.data)
        incoming.is_valid(raise_exception=True)
        written = service(review=review, user=self.request.user, **incoming.validated_data)
        return Response(serializer_class(written).data, status=status_code)

    @extend_schema(request=None, responses={200: ReviewDetailSerializer})
    @action(detail=True, methods=["post"])
    def sign(self, request, pk=None):
        """The team's lead signs off the current stage; it then waits for the agent."""
        review = services.review_sign(review=self.get_object(), user=request.user)
        return self._detail(review)

    @extend_schema(request=None, responses={200: ReviewDetailSerializer})
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        """The agent acknowledges the signed stage, which moves the review on; after the forward stage
        it is completed and the agreed targets become next month's overrides."""
        review = services.review_acknowledge(review=self.get_object(), user=request.user)
        return self._detail(review)

    @extend_schema(request=ReviewReopenSerializer, responses={200: ReviewDetailSerializer})
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        """HR reopens a completed review at a stage, saying why (kept in the audit trail)."""
        review = self.get_object()
        incoming = ReviewReopenSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        review = services.review_reopen(review=review, user=request.user, **incoming.validated_data)
        return self._detail(review)

    @extend_schema(request=RootCauseSerializer, responses={201: RootCauseSerializer})
    @action(detail=True, methods=["post"], url_path="root-causes")
    def root_causes(self, request, pk=None):
        """Review stage: write down a root cause of a swing."""
        return self._add(services.root_cause_add, RootCauseSerializer)

    @extend_schema(request=ReviewActionItemSerializer, responses={201: ReviewActionItemSerializer})
    @action(detail=True, methods=["post"])
    def actions(self, request, pk=None):
        """Consensus stage: an action of the improvement plan (owner: the agent or a lead)."""
        return self._add(services.action_item_add, ReviewActionItemSerializer)

    @extend_schema(request=SkillMarkSerializer, responses={201: SkillMarkSerializer})
    @action(detail=True, methods=["post"])
    def skills(self, request, pk=None):
        """Consensus stage: a strength or a weakness (both are asked below a threshold)."""
        return self._add(services.skill_mark_add, SkillMarkSerializer)

    @extend_schema(request=AgreedTargetSerializer, responses={200: AgreedTargetSerializer})
    @action(detail=True, methods=["post"])
    def targets(self, request, pk=None):
        """Forward stage: agree next month's threshold, target and excellence for one metric."""
        return self._add(
            services.target_agree, AgreedTargetSerializer, status_code=status.HTTP_200_OK
        )

    @extend_schema(request=SharedSkillSerializer, responses={201: SharedSkillSerializer})
    @action(detail=True, methods=["post"], url_path="shared-skills")
    def shared_skills(self, request, pk=None):
        """Forward stage: a skill worth sharing; the agent joins the internal expert list."""
        return self._add(services.shared_skill_add, SharedSkillSerializer)


class ReviewActionDoneApi(APIView):
    """Mark an action of an improvement plan done: its owner or a lead of the team, at any time (also
    after the review is completed). An action of a review the caller may not see is a 404."""

    allowed_roles = {HR, LEAD, AGENT}

    @extend_schema(request=None, responses={200: ReviewActionItemSerializer})
    def post(self, request, pk: int):
        visible = selectors.reviews_visible_to(request.user).values("pk")
        item = get_object_or_404(
            ActionItem.objects.filter(review__in=visible).select_related(
                "review__team", "review__agent", "review__period", "owner"
            ),
            pk=pk,
        )
        item = services.action_item_done(item=item, user=request.user)
        return Response(ReviewActionItemSerializer(item).data)


class ReviewActionsDueApi(generics.ListAPIView):
    """Open actions of the caller's teams (HR: every team) due within ``within_days`` or overdue,
    soonest first: what a lead follows up this week."""

    allowed_roles = {HR, LEAD}
    serializer_class = ReviewActionItemSerializer
    filter_backends = []

    @extend_schema(parameters=[ActionsDueQuerySerializer])
    def get(self, request):
        incoming = ActionsDueQuerySerializer(data=request.query_params)
        incoming.is_valid(raise_exception=True)
        items = selectors.actions_due(request.user, **incoming.validated_data)
        page = self.paginate_queryset(items)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class ReviewProgressApi(APIView):
    """HR: per team, how many of a month's reviews are in each stage and how many of their actions
    are overdue."""

    allowed_roles = {HR}

    @extend_schema(
        parameters=[ReviewProgressQuerySerializer], responses={200: ReviewProgressSerializer}
    )
    def get(self, request):
        incoming = ReviewProgressQuerySerializer(data=request.query_params)
        incoming.is_valid(raise_exception=True)
        period = incoming.validated_data["period"]
        progress = {"period": period, "teams": selectors.reviews_progress(period)}
        return Response(ReviewProgressSerializer(progress).data)
