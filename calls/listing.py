"""Lists on pages: a django-filter ``FilterSet`` decides which rows (its filters, a search box and its
``sort``), a ``Paginator`` cuts them into pages of ``PAGE_SIZE``. The templates
``lists/_filters.html`` and ``lists/_pager.html`` draw the form and the page links; the tag
``sort_header`` (``calls.templatetags.lists``) draws a column's header as a link that sorts by it.

The same filter set serves the page, its export (every row the filters keep, in the page's order,
not only the page shown) and, where there is one, the API list. A filter given a bad value is shown
with its error beside it and left out, never a 500."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _
from django_filters import CharFilter, FilterSet, OrderingFilter
from django_filters.constants import EMPTY_VALUES

PAGE_SIZE = 50


@dataclass(frozen=True)
class Listing:
    """What a list page draws: the filter set (its form), the page of rows, and every row the
    filters keep (for the export)."""

    filters: FilterSet
    page: Page

    @property
    def rows(self):
        return self.page.object_list

    @property
    def all_rows(self):
        """Every row the filters keep, in the page's order: what an export writes."""
        return self.page.paginator.object_list

    @property
    def filtered(self) -> bool:
        """Whether a filter or the search narrows the list (the page then offers to clear them)."""
        data = self.filters.form.cleaned_data if self.filters.is_bound else {}
        return any(value not in (None, "", [], ()) for key, value in data.items() if key != "sort")


def listing(
    request,
    filterset_class: type[FilterSet],
    queryset,
    *,
    per_page: int = PAGE_SIZE,
    data=None,
    arrange: Callable[[Any], list] | None = None,
) -> Listing:
    """The page of ``queryset`` that the request's filters, sort and ``page`` ask for. ``queryset``
    is already scoped to what the user may see; the filters only narrow it. ``data`` stands for the
    query string where the page fills in a default (the latest month); ``arrange`` orders the rows
    in Python when no column is chosen (an order the database cannot say, such as "flagged first")."""
    filters = filterset_class(
        (request.GET if data is None else data) or None, queryset=queryset, request=request
    )
    filters.form.is_valid()  # a bad value: its error is drawn beside its field, the filter left out
    rows: Any = filters.qs
    if arrange is not None and not getattr(filters.form, "cleaned_data", {}).get("sort"):
        rows = arrange(rows)
    return Listing(
        filters=filters, page=Paginator(rows, per_page).get_page(request.GET.get("page"))
    )


class ListFilterSet(FilterSet):
    """A list's filter set: ``default_order`` orders the rows until a column is chosen (``sort``)."""

    default_order: tuple[Any, ...] = ("-pk",)  # field names or expressions (F(...).asc(...))

    @property
    def qs(self):
        rows = super().qs
        chosen = getattr(self.form, "cleaned_data", {}).get("sort")
        return rows if chosen else rows.order_by(*self.default_order)


class SortFilter(OrderingFilter):
    """A list's ``sort``: a column's name (``-name`` descending) and the fields it orders by — a
    month by its year then its month — with the row's id last, so that pages never overlap."""

    def __init__(self, *, columns: dict[str, tuple[str, ...]], **kwargs):
        self.columns = columns
        kwargs.setdefault("label", _("Sort"))
        super().__init__(fields=[(fields[0], name) for name, fields in columns.items()], **kwargs)

    def filter(self, qs, value):
        if value in EMPTY_VALUES:
            return qs
        ordering = []
        for param in value:
            descending = param.startswith("-")
            ordering += [f"-{f}" if descending else f for f in self.columns[param.lstrip("-")]]
        return qs.order_by(*ordering, "pk")


class SearchFilter(CharFilter):
    """The search box: rows where any of ``fields`` contains each word typed (case-insensitive), so
    "li 1023" finds Li Na, employee 1023; a word of digits also finds the row whose ``number`` field
    (an id people quote: "import 42") is that number."""

    def __init__(self, *fields: str, number: str | None = None, **kwargs):
        kwargs.setdefault("label", _("Search"))
        super().__init__(method=self._search, **kwargs)
        self.search_fields = fields
        self.number_field = number

    def _search(self, queryset: QuerySet, _name: str, value: str) -> QuerySet:
        for word in value.split():
            condition = Q()
            for field in self.search_fields:
                condition |= Q(**{f"{field}__icontains": word})
            if self.number_field and word.isdigit() and len(word) < 10:
                condition |= Q(**{self.number_field: int(word)})
            queryset = queryset.filter(condition)
        return queryset
