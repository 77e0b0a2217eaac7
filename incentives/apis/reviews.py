"""The API of the performance interview: reviews, their action items, what is due, the progress."""

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from calls.roles import AGENT, HR, LEAD
from incentives import selectors, services
from incentives.filters import ReviewFilter
from incentives.models import (
    ActionItem,
    Review,
)
from incentives.serializers import (
    ActionsDueQuerySerializer,
    AgreedTargetSerializer,
    ReviewActionItemSerializer,
    ReviewDetailSerializer,
    ReviewProgressQuerySerializer,
    ReviewProgressSerializer,
    ReviewReopenSerializer,
    ReviewSerializer,
    RootCauseSerializer,
    SharedSkillSerializer,
    SkillMarkSerializer,
)


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
            "root_causes",
            Prefetch("actions", queryset=ActionItem.objects.select_related("owner")),
            "skills",
            "agreed_targets",
            "shared_skills",
        )

    def get_serializer_class(self):
        return ReviewSerializer if self.action == "list" else ReviewDetailSerializer

    def list(self, request):
        reviews = self.filter_queryset(self.get_queryset())
        if not request.query_params.get("sort"):  # the lead's order unless a column is asked for
            reviews = selectors.flagged_first(reviews)
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
