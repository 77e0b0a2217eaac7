from urllib.parse import urlencode

from auditlog.admin import LogEntryAdmin
from auditlog.filters import CIDFilter, ResourceTypeFilter
from auditlog.models import LogEntry
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from reports.models import Alert, AlertRule


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
    """HR's alert rules, of two kinds: a metric against a threshold (level and window), or an agent with
    no effective call for N minutes. The defaults of the field are installed with the product and can
    be edited or switched off. Every problem is named on its field by ``AlertRule.clean``, the one set
    of rules; the database refuses what slips past it."""

    list_display = [
        "name",
        "kind",
        "metric",
        "comparison",
        "threshold",
        "level",
        "window",
        "minutes",
        "min_volume",
        "active",
    ]
    list_filter = ["active", "kind", "level", "window"]
    fieldsets = [
        (None, {"fields": ["name", "kind", "active"]}),
        (
            _("Condition"),
            {
                "fields": ["metric", "params", "comparison", "threshold", "minutes"],
                "description": _(
                    "A metric rule compares the metric with the threshold. A "
                    "no-effective-call rule takes the effective talk ratio's "
                    "definition of an effective call and a number of minutes, "
                    "with no comparison or threshold."
                ),
            },
        ),
        (
            _("Who and when"),
            {
                "fields": ["level", "window", "min_volume"],
                "description": _(
                    "Metric rules: today, the rolling hour or this month, per "
                    "agent, group or team. No-effective-call rules: the last "
                    "N minutes, per agent."
                ),
            },
        ),
    ]


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    """Alerts as raised (``alerts_evaluate``), read-only: leads acknowledge them on their team page
    (``alert_acknowledge``), and none is deleted here, so what a lead saw stays."""

    list_display = [
        "raised_at",
        "rule",
        "subject",
        "team",
        "value",
        "acknowledged_at",
        "acknowledged_by",
    ]
    list_filter = ["rule", "level", "team"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- the audit trail ------------------------------------------------------------------------------


class PersonFilter(admin.SimpleListFilter):
    """Whose changes: any person who appears in the trail, or the system (no one logged in)."""

    title = _("person")
    parameter_name = "actor"

    def lookups(self, request, model_admin):
        actors = get_user_model().objects.filter(
            pk__in=LogEntry.objects.filter(actor__isnull=False).values("actor_id")
        )
        return [("system", _("the system (no one logged in)"))] + [
            (str(user.pk), user.get_username()) for user in actors.order_by("username")
        ]

    def queryset(self, request, queryset):
        if self.value() == "system":
            return queryset.filter(actor__isnull=True)
        if self.value():
            return queryset.filter(actor_id=self.value())
        return queryset


class ObjectFilter(admin.SimpleListFilter):
    """One object's history: set by the link in each row ("its history"), with the resource type."""

    title = _("object")
    parameter_name = "object_pk"

    def lookups(self, request, model_admin):
        return []

    def has_output(self):
        return self.value() is not None  # shown (to be cleared) only while it filters

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(object_pk=self.value())
        return queryset


admin.site.unregister(LogEntry)


@admin.register(LogEntry)
class AuditLogEntryAdmin(LogEntryAdmin):
    """HR reads the trail here: by resource type, by object (the "its history" link of any row) and by
    person; the search finds an object's or a person's name."""

    list_filter = ["action", ResourceTypeFilter, ObjectFilter, PersonFilter, CIDFilter]
    list_display = [*LogEntryAdmin.list_display, "object_history"]

    @admin.display(description=_("its history"))
    def object_history(self, entry):
        return format_html(
            '<a href="?{}">{}</a>',
            urlencode({"resource_type": entry.content_type_id, "object_pk": entry.object_pk}),
            _("its history"),
        )
