"""Tags for list pages (``calls.listing``): a sortable column header."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.translation import gettext as _

register = template.Library()


@register.simple_tag(takes_context=True)
def sort_header(context, field: str, label: str) -> str:
    """A column header that sorts the list by ``field``: ascending on the first click, descending on
    the next; the other filters are kept and the list goes back to its first page."""
    request = context["request"]
    current = request.GET.get("sort", "")
    query = request.GET.copy()
    query.pop("page", None)
    query["sort"] = f"-{field}" if current == field else field
    arrow, said = "", ""
    if current == field:
        arrow, said = " ▲", _("sorted ascending")
    elif current == f"-{field}":
        arrow, said = " ▼", _("sorted descending")
    return format_html(
        '<a href="?{}"{}>{}{}</a>',
        query.urlencode(),
        format_html(
            ' aria-sort="{}" title="{}"', "ascending" if arrow == " ▲" else "descending", said
        )
        if arrow
        else "",
        label,
        arrow,
    )
