"""The filter sets of the first floor's lists (``calls.listing``): questions, statements, reviews. The
pages and the API lists use the same ones, so a filter means the same thing in both."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db.models import F
from django.forms import HiddenInput
from django.utils.translation import gettext_lazy as _
from django_filters import ChoiceFilter, ModelChoiceFilter, NumberFilter

from calls.listing import ListFilterSet, SearchFilter, SortFilter
from incentives import selectors
from incentives.models import Dispute, Period, Review, Statement, Team

AGENT_SEARCH = _("Agent name or employee id")


def _teams(request):
    """The teams a filter offers: those the user may see (none without a request)."""
    if request is None:
        return Team.objects.none()
    return selectors.teams_visible_to(request.user).order_by("code")


def _user_label(user) -> str:
    return user.get_full_name() or user.get_username()


class DisputeFilter(ListFilterSet):
    """Questions on statements: open or answered, by month and team; an agent or a word looked up."""

    STATES = (("open", _("Open")), ("answered", _("Answered")))

    q = SearchFilter(
        "statement__agent__name",
        "statement__agent__employee_id",
        "question",
        label=_("Agent, employee id or words of the question"),
    )
    state = ChoiceFilter(choices=STATES, method="_state", label=_("State"), empty_label=_("Any"))
    period = ModelChoiceFilter(
        field_name="statement__run__period",
        queryset=Period.objects.filter(runs__statements__disputes__isnull=False)
        .distinct()
        .order_by("-year", "-month"),
        label=_("Month"),
        empty_label=_("Any month"),
    )
    team = ModelChoiceFilter(
        field_name="statement__team", queryset=_teams, label=_("Team"), empty_label=_("Any team")
    )
    sort = SortFilter(
        columns={
            "asked": ("created_at",),
            "answered": ("answered_at",),
            "agent": ("statement__agent__employee_id",),
        }
    )

    # Open questions first (oldest answer owed on top of the newest asked), then the answered ones.
    default_order = (F("answered_at").asc(nulls_first=True), "-created_at", "-pk")

    class Meta:
        model = Dispute
        fields: list[str] = []

    @staticmethod
    def _state(queryset, _name, value):
        return queryset.filter(answered_at__isnull=value == "open") if value else queryset


def _tier_label(from_score: Decimal, rate: Decimal) -> str:
    return _("from score %(score)s, paid at %(percent)s%%") % {
        "score": f"{from_score.normalize():f}",
        "percent": f"{rate * 100:.0f}",
    }


class StatementFilter(ListFilterSet):
    """Statements: by month, team and tier reached (the score the tier starts at, or none reached);
    an agent looked up by name or employee id."""

    NO_TIER = "none"

    q = SearchFilter("agent__name", "agent__employee_id", label=AGENT_SEARCH)
    period = ModelChoiceFilter(
        field_name="run__period",
        queryset=Period.objects.exclude(approved_run=None).order_by("-year", "-month"),
        label=_("Month"),
        empty_label=_("Any month"),
    )
    team = ModelChoiceFilter(queryset=_teams, label=_("Team"), empty_label=_("Any team"))
    tier = ChoiceFilter(method="_tier", label=_("Tier"), empty_label=_("Any tier"))
    sort = SortFilter(
        columns={
            "month": ("run__period__year", "run__period__month"),
            "agent": ("agent__employee_id",),
            "team": ("team__code",),
            "score": ("weighted_score",),
            "payout": ("amount",),
        }
    )

    default_order = ("-run__period__year", "-run__period__month", "agent__employee_id", "pk")

    class Meta:
        model = Statement
        fields: list[str] = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        tiers = (
            self.queryset.exclude(tier_from=None)
            .order_by("tier_from", "tier_rate")
            .values_list("tier_from", "tier_rate")
            .distinct()
        )
        labels: dict[str, str] = {}
        for from_score, rate in tiers:  # plans whose tiers start at the same score share a choice
            labels.setdefault(f"{from_score.normalize():f}", _tier_label(from_score, rate))
        self.filters["tier"].extra["choices"] = [
            (self.NO_TIER, _("no tier reached")),
            *labels.items(),
        ]

    def _tier(self, queryset, _name, value: str):
        if not value:
            return queryset
        if value == self.NO_TIER:
            return queryset.filter(tier_from=None)
        return queryset.filter(tier_from=Decimal(value))


class ReviewFilter(ListFilterSet):
    """Performance reviews: by month, team, stage and lead; an agent looked up by name or id."""

    q = SearchFilter("agent__name", "agent__employee_id", label=AGENT_SEARCH)
    period = ModelChoiceFilter(
        queryset=Period.objects.filter(reviews__isnull=False)
        .distinct()
        .order_by("-year", "-month"),
        label=_("Month"),
        empty_label=_("Any month"),
    )
    team = ModelChoiceFilter(queryset=_teams, label=_("Team"), empty_label=_("Any team"))
    stage = ChoiceFilter(choices=Review.Stage.choices, label=_("Stage"), empty_label=_("Any"))
    lead = ModelChoiceFilter(
        field_name="team__leads",
        queryset=get_user_model()
        .objects.filter(led_teams__isnull=False)
        .distinct()
        .order_by("username"),
        label=_("Lead"),
        empty_label=_("Any lead"),
    )
    sort = SortFilter(
        columns={
            "agent": ("agent__employee_id",),
            "team": ("team__code",),
            "stage": ("stage",),
            "change": ("score_change",),
        }
    )

    default_order = ("-period__year", "-period__month", "agent__employee_id", "pk")

    # For the API (an agent's id); a hidden field on the page, which never lists other agents.
    agent = NumberFilter(field_name="agent_id", widget=HiddenInput, label=_("Agent id"))

    class Meta:
        model = Review
        fields: list[str] = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["lead"].field.label_from_instance = _user_label
