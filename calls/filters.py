"""The filter sets of the ground floor's lists (``calls.listing``): a lead's calls drill-down and HR's
imports. Each names its fields for the person filtering; ``sort`` is the column order."""

from __future__ import annotations

from django.forms import DateInput
from django.utils.translation import gettext_lazy as _
from django_filters import (
    ChoiceFilter,
    DateFilter,
    NumberFilter,
)

from calls.listing import ListFilterSet, SearchFilter, SortFilter
from calls.models import Call, ColumnMapping, ImportBatch

DAY = DateInput(attrs={"type": "date"})  # the browser's own calendar; it sends 2026-10-05
ANSWERED = (("yes", _("Answered")), ("no", _("Not answered")))


class CallFilter(ListFilterSet):
    """An agent's calls: by day, queue, whether answered, outcome and talk time; a call id looked up."""

    q = SearchFilter("external_id", label=_("Call id"))
    day_from = DateFilter(
        field_name="started_at", lookup_expr="date__gte", label=_("From day"), widget=DAY
    )
    day_to = DateFilter(
        field_name="started_at", lookup_expr="date__lte", label=_("To day"), widget=DAY
    )
    queue = ChoiceFilter(label=_("Queue"), empty_label=_("Any queue"))
    answered = ChoiceFilter(
        choices=ANSWERED, method="_answered", label=_("Answered"), empty_label=_("Any")
    )
    outcome = ChoiceFilter(choices=Call.Outcome.choices, label=_("Outcome"), empty_label=_("Any"))
    talk_min = NumberFilter(
        field_name="talk_seconds", lookup_expr="gte", min_value=0, label=_("Talk at least (s)")
    )
    talk_max = NumberFilter(
        field_name="talk_seconds", lookup_expr="lte", min_value=0, label=_("Talk at most (s)")
    )
    sort = SortFilter(
        columns={
            "started_at": ("started_at",),
            "queue": ("queue",),
            "wait": ("wait_seconds",),
            "talk": ("talk_seconds",),
            "outcome": ("outcome",),
        }
    )

    default_order = ("-started_at", "-pk")

    class Meta:
        model = Call
        fields: list[str] = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        queues = self.queryset.order_by("queue").values_list("queue", flat=True).distinct()
        self.filters["queue"].extra["choices"] = [(q, q) for q in queues if q]

    @staticmethod
    def _answered(queryset, _name, value):
        return queryset.filter(answered_at__isnull=value == "no") if value else queryset


class ImportBatchFilter(ListFilterSet):
    """HR's imports: by state, source and kind of data; a file name or an import's number looked up."""

    q = SearchFilter("filename", "source", number="pk", label=_("File, source or number"))
    status = ChoiceFilter(
        choices=ImportBatch.Status.choices, label=_("State"), empty_label=_("Any")
    )
    source = ChoiceFilter(label=_("Source"), empty_label=_("Any source"))
    kind = ChoiceFilter(
        choices=ColumnMapping.Kind.choices, label=_("Kind of data"), empty_label=_("Any")
    )
    sort = SortFilter(
        columns={
            "created_at": ("created_at",),
            "filename": ("filename",),
            "status": ("status",),
            "rows": ("rows_total",),
        }
    )

    default_order = ("-created_at", "-pk")

    class Meta:
        model = ImportBatch
        fields: list[str] = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        sources = ImportBatch.objects.order_by("source").values_list("source", flat=True).distinct()
        self.filters["source"].extra["choices"] = [(s, s) for s in sources]
